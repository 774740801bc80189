"""The one credential check: password, throttling and token issue.

Synchronous: the password hash (PBKDF2, ~0.3 s of CPU on purpose) and the
ORM run in a thread, never on the event loop. Async callers use
`sync_to_async(..., thread_sensitive=False)` (a thread of the pool, so a
flood of wrong passwords never queues other users' queries behind it).

Failed logins are counted per account (the username, case-folded) and per
address (the client's IP) in fixed windows on the shared state
(chat/state/throttle.py: Redis across processes, else this process). At the
limit, every attempt is refused before the password is even checked, with
the seconds to wait; a success clears the account's count, not the
address's.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate

from chat.state import throttle

from .models import ApiToken


class CredentialsRefused(Exception):
    """Wrong username or password, or an inactive account."""

    detail = "Wrong username or password, or an inactive account."


class LoginThrottled(Exception):
    """Too many failed logins for this account or from this address."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        self.detail = (
            f"Too many failed logins for this account or from this address; "
            f"try again in {retry_after} seconds."
        )
        super().__init__(self.detail)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str  # shown once: only its digest is stored
    username: str


def _keys(username: str, address: str) -> dict[str, int]:
    return {
        f"login:user:{username.casefold()}": settings.CHAT_LOGIN_FAILURES_PER_ACCOUNT,
        f"login:addr:{address}": settings.CHAT_LOGIN_FAILURES_PER_ADDRESS,
    }


def check_credentials(request, username: str, password: str, address: str):
    """The active user with these credentials; or CredentialsRefused, or
    LoginThrottled (nothing checked) while the account or address is over
    its limit. `request` may be None (API)."""
    keys = _keys(username, address)
    wait = throttle.wait_seconds(keys)
    if wait:
        raise LoginThrottled(wait)
    user = authenticate(request, username=username, password=password)
    if user is None:
        throttle.add(list(keys), settings.CHAT_LOGIN_WINDOW)
        raise CredentialsRefused()
    throttle.clear(next(iter(keys)))  # the account's count; the address keeps its
    return user


def issue_token(username: str, password: str, address: str) -> IssuedToken:
    """POST /api/token: check the credentials (throttled), then a new token."""
    user = check_credentials(None, username, password, address)
    _row, token = ApiToken.objects.issue(user)
    return IssuedToken(token, user.get_username())
