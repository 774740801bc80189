"""The one credential check: password, throttling and token issue.

Synchronous: the password hash (PBKDF2, ~0.3 s of CPU on purpose) and the
ORM run in a thread, never on the event loop. Async callers use
`chat.store.db.slow(..., executor=password_executor())`: a few threads of their
own, at a lower CPU priority (nice 10), so a flood of wrong passwords neither
queues other users' queries behind it nor takes the event loop's CPU time.

Failed logins are counted per account (the username, case-folded) and per
address (the client's IP) in fixed windows on the shared state
(chat/realtime/state/throttle.py: Redis across processes, else this process). At the
limit, every attempt is refused before the password is even checked, with
the seconds to wait; a success clears the account's count, not the
address's.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate

from chat.realtime.state import throttle

from .models import ApiToken, TokenLimitReached

__all__ = [
    "CredentialsRefused",
    "IssuedToken",
    "LoginThrottled",
    "TokenLimitReached",
    "check_credentials",
    "issue_token",
]


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


_executor: list[ThreadPoolExecutor] = []
_executor_lock = threading.Lock()


def _lower_priority() -> None:
    try:  # Linux: a thread's own nice value (a no-op elsewhere)
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass


def password_executor() -> ThreadPoolExecutor:
    """The threads that check passwords for async callers: as many as
    CHAT_PASSWORD_THREADS, each niced, so hashing yields the CPU to the
    event loop."""
    with _executor_lock:
        if not _executor:
            _executor.append(
                ThreadPoolExecutor(
                    max_workers=settings.CHAT_PASSWORD_THREADS,
                    thread_name_prefix="password",
                    initializer=_lower_priority,
                )
            )
        return _executor[0]


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
    """POST /api/token: check the credentials (throttled), then a new token
    (TokenLimitReached past CHAT_TOKENS_PER_USER)."""
    user = check_credentials(None, username, password, address)
    _row, token = ApiToken.objects.issue(user)
    return IssuedToken(token, user.get_username())
