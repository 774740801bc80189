"""Development on one machine: `make run`. Debug on, SQLite, in-memory layer."""

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)

# Static files straight from the apps (no collectstatic needed), rescanned on
# each request: convenient here, too slow for production.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Without EMAIL_URL, password reset mails are printed by the server (console).
if not EMAIL_URL:  # noqa: F405
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
CHAT_PASSWORD_RESET = True

# A code change restarts the server (SIGTERM): no drain window to wait for.
CHAT_DRAIN_SECONDS = env.float("CHAT_DRAIN_SECONDS", default=0.0)
