"""A user's own API tokens: listed and revoked by their owner (the tokens
page, GET /api/tokens, DELETE /api/tokens/<id>). Synchronous ORM code."""

from .models import ApiToken


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def list_tokens(user) -> list[dict]:
    """The user's live tokens, newest first: id, created_at, expires_at. The
    tokens themselves are not stored (only their digest) and never shown
    again."""
    rows = ApiToken.objects.live().filter(user=user).order_by("-created_at", "-pk")
    return [
        {
            "id": row.pk,
            "created_at": _iso(row.created_at),
            "expires_at": _iso(row.expires_at),
        }
        for row in rows
    ]


def revoke_token(user, token_id: int) -> bool:
    """Delete the user's token `token_id` (its sockets close with 4403 on
    every process: chat/signals.py). False when the user has no such token."""
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        return False
    token.delete()
    return True
