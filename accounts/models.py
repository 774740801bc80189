import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connection, models


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenManager(models.Manager["ApiToken"]):
    def issue(self, user) -> tuple["ApiToken", str]:
        """Create a token for `user`; return the row and the token itself.

        Only the token's SHA-256 is stored, so the token is shown once, here.
        """
        token = secrets.token_urlsafe(32)
        row = self.create(user=user, digest=token_digest(token))
        return row, token


class ApiToken(models.Model):
    """A bearer token for bots and scripts (`Authorization: Bearer <token>`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ApiTokenManager()

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"token {self.digest[:8]}… of {self.user}"


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
    return ApiToken.objects.filter(
        digest__in=digests, user__is_active=True
    ).values_list("pk", "user_id", username, "digest")


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
