"""Which credentials are gone: users deactivated or deleted, tokens deleted
or expired, sessions ended. The hub's revocation sweep (chat.realtime.hub)
asks this every few seconds for the sockets of its process; the handshake
(chat.ws.handshake) decides who connects.

Store layer: imports Django, accounts.models; nothing of chat above it.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.models import ApiToken


def revoked(
    user_ids: set[int], token_ids: set[int], session_keys: set[str]
) -> tuple[set[int], set[int], set[str]]:
    """Of these, the users no longer active (or gone), the tokens deleted and
    the sessions ended (deleted or expired; database sessions only). An
    expired token counts as deleted.

    The revoke event (chat.signals) closes sockets at once; this check lets
    each process catch what no event announced: an event the channel layer
    dropped (channels #1717), a bulk `update(is_active=False)` or a session
    row deleted by hand, which send no signal.
    """
    User = get_user_model()
    active = _found(User.objects.filter(is_active=True), "pk", user_ids)
    existing = _found(ApiToken.objects.live(), "pk", token_ids)
    ended: set = set()
    if session_keys and settings.SESSION_ENGINE.endswith((".db", ".cached_db")):
        live = Session.objects.filter(expire_date__gt=timezone.now())
        ended = session_keys - _found(live, "session_key", session_keys)
    return user_ids - active, token_ids - existing, ended


def _found(queryset, field: str, values: set, chunk: int = 1000) -> set:
    """Which of `values` the queryset has in `field`; asked 1,000 at a time,
    as a process can hold more sockets than a query may have parameters
    (SQLite allows 32,766)."""
    ordered = list(values)
    found: set = set()
    for start in range(0, len(ordered), chunk):
        batch = ordered[start : start + chunk]
        found.update(
            queryset.filter(**{f"{field}__in": batch}).values_list(field, flat=True)
        )
    return found
