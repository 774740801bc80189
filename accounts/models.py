import hashlib
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connection, models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenLimitReached(Exception):
    """The user holds CHAT_TOKENS_PER_USER tokens already."""

    def __init__(self, limit: int) -> None:
        self.detail = (
            f"You hold {limit} tokens, the most allowed; delete one first "
            "(the tokens page, or DELETE /api/tokens/<id>)."
        )
        super().__init__(self.detail)


class ApiTokenManager(models.Manager["ApiToken"]):
    def issue(self, user) -> tuple["ApiToken", str]:
        """Create a token for `user`; return the row and the token itself.

        Only the token's SHA-256 is stored, so the token is shown once, here.
        At most CHAT_TOKENS_PER_USER live tokens per user (TokenLimitReached);
        with CHAT_TOKEN_MAX_AGE set, the token stops working that many
        seconds after its issue (expired ones are deleted here).
        """
        self.filter(user=user, expires_at__lte=timezone.now()).delete()
        limit = settings.CHAT_TOKENS_PER_USER
        if self.filter(user=user).count() >= limit:
            raise TokenLimitReached(limit)
        token = secrets.token_urlsafe(32)
        max_age = settings.CHAT_TOKEN_MAX_AGE
        expires_at = timezone.now() + timedelta(seconds=max_age) if max_age else None
        row = self.create(user=user, digest=token_digest(token), expires_at=expires_at)
        return row, token

    def live(self):
        """Tokens not expired."""
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=Now()))


class ApiToken(models.Model):
    """A bearer token for bots and scripts (`Authorization: Bearer <token>`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenManager()

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"token {self.digest[:8]}… of {self.user}"


class InviteManager(models.Manager["Invite"]):
    def usable(self, code: str) -> "Invite | None":
        """The unused invite with this code, or None."""
        if not code:
            return None
        return self.filter(code=code, used_at__isnull=True).first()


class Invite(models.Model):
    """A one-use sign-up link (CHAT_SIGNUP=invite), made by staff with
    `manage.py chat_invite <staff username>`."""

    code = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    used_by = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invite",
    )
    used_at = models.DateTimeField(null=True, blank=True)

    objects = InviteManager()

    def __str__(self) -> str:
        return f"invite by {self.created_by}"

    def save(self, *args, **kwargs) -> None:
        if not self.code:
            self.code = secrets.token_urlsafe(24)
        super().save(*args, **kwargs)

    def use(self, user) -> None:
        self.used_by, self.used_at = user, timezone.now()
        self.save(update_fields=["used_by", "used_at"])


DISPLAY_NAME_MAX = 64
# Control characters, and formatting ones that change how text around them
# reads (bidirectional overrides, invisible spaces), and private-use ones;
# the zero-width joiner of emoji sequences (U+200D) is allowed. The API's
# schema carries the same class (chat.http.api.users), so the two agree.
DISPLAY_NAME_FORBIDDEN = (
    "\\x00-\\x1f\\x7f-\\x9f\\u00ad\\u061c\\u180e\\u200b\\u200c\\u200e\\u200f"
    "\\u202a-\\u202e\\u2060-\\u206f\\ufeff\\ufff9-\\ufffb\\ue000-\\uf8ff"
)
_FORBIDDEN_RE = re.compile(f"[{DISPLAY_NAME_FORBIDDEN}]")


class InvalidDisplayName(ValueError):
    """Says what is wrong with a display name."""


def clean_display_name(value: str) -> str:
    """A display name as stored: spaces trimmed and runs of them made one;
    "" (the username alone) when nothing is left. Refuses more than
    DISPLAY_NAME_MAX characters and control or formatting characters (line
    breaks, bidirectional overrides: DISPLAY_NAME_FORBIDDEN), saying which."""
    if not isinstance(value, str):
        raise InvalidDisplayName("The display name must be text.")
    bad = _FORBIDDEN_RE.search(value)
    if bad:
        raise InvalidDisplayName(
            f"The display name may not contain U+{ord(bad.group()):04X} "
            "(a control or formatting character)."
        )
    cleaned = " ".join(value.split())
    if len(cleaned) > DISPLAY_NAME_MAX:
        raise InvalidDisplayName(
            f"The display name is {len(cleaned)} characters long; "
            f"the limit is {DISPLAY_NAME_MAX}."
        )
    return cleaned


class Preference(models.Model):
    """How the page looks to a user, the same on every device they log in on
    (accounts/preferences.py copies it into the session at login)."""

    THEMES = [("system", _("System")), ("light", _("Light")), ("dark", _("Dark"))]

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="preference",
    )
    theme = models.CharField(max_length=6, choices=THEMES, default="system")
    # A code of settings.LANGUAGES, or "" for the browser's (Accept-Language).
    language = models.CharField(max_length=8, blank=True, default="")
    # Shown beside the username ("" : the username alone); clean_display_name.
    display_name = models.CharField(max_length=DISPLAY_NAME_MAX, blank=True, default="")
    # A 128 px square PNG (chat.services.uploads.avatar_png), named by random
    # bits that are also its URL's version; "" : initials on a colour.
    avatar = models.FileField(upload_to="avatars/", blank=True, default="")

    def __str__(self) -> str:
        return f"preferences of {self.user}"


def user_for_token(token: str):
    """(the active user owning `token`, the token's id), or None.

    Runs on every token handshake and API call, so the SQL is compiled once
    per process (`_token_sql`): Django compiles a queryset on each evaluation,
    and for this join that took 0.6 ms of Python against 0.04 ms for the
    query itself (docs/performance.md, connect).
    """
    sql = _token_sql()
    if sql is None:  # a backend whose SQL for this takes other parameters
        row = _token_queryset([token_digest(token)]).first()
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, [token_digest(token)])
            row = cursor.fetchone()
    return None if row is None else (_token_user(row), row[0])


def users_for_tokens(tokens: list[str]) -> list:
    """user_for_token for each of `tokens`, in one query."""
    if len(tokens) == 1:
        return [user_for_token(tokens[0])]
    digests = [token_digest(token) for token in tokens]
    found = {row[3]: row for row in _token_queryset(digests)}
    rows = [found.get(digest) for digest in digests]
    return [None if row is None else (_token_user(row), row[0]) for row in rows]


def _token_queryset(digests: list[str]):
    """(token id, user id, username, digest) of the tokens of active users."""
    username = f"user__{get_user_model().USERNAME_FIELD}"
    return (
        ApiToken.objects.live()
        .filter(digest__in=digests, user__is_active=True)
        .values_list("pk", "user_id", username, "digest")
    )


def _token_user(row):
    """The user of a `_token_queryset` row, with only its pk, username and
    is_active loaded, as `.only()` would give it; other fields load on first
    access."""
    User = get_user_model()
    return User.from_db(
        DEFAULT_DB_ALIAS,
        [User._meta.pk.attname, User.USERNAME_FIELD, "is_active"],
        [row[1], row[2], True],
    )


_TOKEN_SQL: list[str | None] = []


def _token_sql() -> str | None:
    """The SQL of `_token_queryset` for one digest, if that digest is its
    only parameter."""
    if not _TOKEN_SQL:
        placeholder = "0" * 64
        sql, params = _token_queryset([placeholder])[:1].query.sql_with_params()
        _TOKEN_SQL.append(sql if list(params) == [placeholder] else None)
    return _TOKEN_SQL[0]
