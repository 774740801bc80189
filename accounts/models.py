import hashlib
import secrets

from django.conf import settings
from django.db import models


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenManager(models.Manager):
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
    """(the active user owning `token`, the token's id), or None."""
    row = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(token), user__is_active=True)
        .first()
    )
    return (row.user, row.pk) if row else None
