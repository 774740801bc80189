"""Production: DEBUG off, SECRET_KEY and ALLOWED_HOSTS required, HTTPS only.

Behind a TLS-terminating proxy (docs/api.md, "Production settings"):

    DJANGO_SETTINGS_MODULE=config.settings.production
    SECRET_KEY=<50+ random characters>     # required
    ALLOWED_HOSTS=chat.example.org         # required
    CSRF_TRUSTED_ORIGINS=https://chat.example.org

`python manage.py check --deploy` is clean with these. Each security default
below can be relaxed through the environment while a deployment is tried out.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import env

# No defaults: refuse to start without them, naming every one that is missing.
_missing = [
    name for name in ("SECRET_KEY", "ALLOWED_HOSTS") if not env(name, default="")
]
if _missing:
    raise ImproperlyConfigured(
        f"config.settings.production needs {' and '.join(_missing)} in the "
        "environment: SECRET_KEY=<50+ random characters> (python3 -c 'import "
        "secrets; print(secrets.token_urlsafe(50))'), ALLOWED_HOSTS=<the public "
        'host name(s), comma-separated>. See README.md, "Deploy".'
    )

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

# The proxy terminates TLS and says so in X-Forwarded-Proto; trust that header
# only behind a proxy that sets it (and strips a client's own).
if env.bool("SECURE_PROXY_SSL_HEADER", default=True):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Probes and the metrics scraper talk plain HTTP to the process itself.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
# An hour by default; raise it (31536000, a year) once HTTPS is known good:
# browsers remember it.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True
)
# Preload lists take a site only with max-age of a year or more, and keep it
# for months: preload follows a year-long max-age, never a trial one.
HSTS_PRELOAD_MIN_SECONDS = 31536000
SECURE_HSTS_PRELOAD = env.bool(
    "SECURE_HSTS_PRELOAD", default=SECURE_HSTS_SECONDS >= HSTS_PRELOAD_MIN_SECONDS
)
if SECURE_HSTS_PRELOAD and SECURE_HSTS_SECONDS < HSTS_PRELOAD_MIN_SECONDS:
    raise ImproperlyConfigured(
        f"SECURE_HSTS_PRELOAD needs SECURE_HSTS_SECONDS >= {HSTS_PRELOAD_MIN_SECONDS} "
        f"(a year), not {SECURE_HSTS_SECONDS}: raise it, or turn preload off."
    )
if not SECURE_HSTS_PRELOAD:
    # check --deploy's "not preloaded" warning: deliberate until max-age is a year.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Static files: `python manage.py collectstatic` into STATIC_ROOT, served by
# whitenoise (compressed, cache-busting names), or by the proxy from there.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
