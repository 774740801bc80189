"""Who is calling: `Authorization: Bearer <token>`, or the browser's session.

Two django-ninja auth classes, tried in this order on every operation that
needs a user. A request with an Authorization header is judged by it alone:
a malformed header or an unknown token is 401, never a fall-through to the
session. CSRF is checked for session-authenticated writes only: a bearer
token is never sent by a browser on its own, so it cannot be forged
cross-site. Neither runs the ORM on the event loop.
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from ninja.security import APIKeyCookie, HttpBearer

from accounts.models import user_for_token
from chat.protocol.v1 import ChatError, ErrorCode
from chat.store import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>` (POST /api/v1/token, or
    `manage.py chat_token <user> --create`)."""

    openapi_description = (
        "A token from POST /api/v1/token or "
        "`python manage.py chat_token <user> --create`."
    )

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get(self.header)
        if header is None:
            return None  # no header: the session may still authenticate
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ChatError(
                ErrorCode.UNAUTHORIZED,
                'Send the token as "Authorization: Bearer <token>".',
            )
        return self.authenticate(request, token.strip())

    async def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = await db.reads(user_for_token)(token)
        if found is None:
            raise ChatError(
                ErrorCode.UNAUTHORIZED,
                "The token is unknown, revoked, or its user is inactive.",
            )
        return found[0]


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason  # the reason, instead of Django's HTML failure page


def csrf_failure(request: HttpRequest) -> str | None:
    """Why the request fails Django's CSRF check, or None when it passes."""
    check = _CsrfCheck(lambda request: None)  # type: ignore[arg-type]
    check.process_request(request)
    return check.process_view(request, None, (), {})  # type: ignore[arg-type,return-value]


class SessionAuth(APIKeyCookie):
    """The browser page's login (Django's session cookie); writes need the
    CSRF token in `X-CSRFToken`."""

    openapi_description = (
        "The browser page's login; writes need the CSRF token in X-CSRFToken."
    )

    def __init__(self) -> None:
        # Read here, not at import: settings come from one place at run time.
        self.param_name = settings.SESSION_COOKIE_NAME
        super().__init__(csrf=False)  # checked below, with the reason

    def __call__(self, request: HttpRequest) -> Any:
        return self.authenticate(request, None)

    async def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = await request.auser()
        if not user.is_authenticated:
            return None  # ninja answers 401 (errors.LOGIN_HINT)
        if request.method not in SAFE_METHODS:
            reason = csrf_failure(request)
            if reason is not None:
                raise ChatError(ErrorCode.FORBIDDEN, f"CSRF check failed: {reason}")
        return user


def caller(request: HttpRequest) -> Any:
    """The user an auth class above found (ninja's `request.auth`)."""
    return request.auth  # type: ignore[attr-defined]


def user_auth() -> list:
    """The auth list for operations that need a user."""
    return [TokenAuth(), SessionAuth()]
