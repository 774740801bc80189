"""Settings shared by every environment.

Everything a deployment may change is read from the environment here, in one
place (django-environ). Defaults need no service: SQLite and the in-memory
channel layer. See docs/deploy.md for the full list.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

SECRET_KEY = env("SECRET_KEY", default="django-insecure-dev-only-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # daphne first: its runserver replaces Django's and serves WebSockets too.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "accounts",
    "chat",
]

MIDDLEWARE = [
    "chat.http.httpmetrics.HttpMetricsMiddleware",  # first: times the whole answer
    "django.middleware.security.SecurityMiddleware",
    "chat.http.headers.SecurityHeadersMiddleware",  # CSP, Permissions-Policy
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The user's chosen language over the browser's (docs/page.md).
    "accounts.preferences.preference_middleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "chat.context_processors.protocol",  # error/close codes
                "accounts.preferences.preferences",
                "chat.http.webapp.site",
            ],
        },
    },
]


# libpq: give up on unacknowledged data after 5 s, probe an idle connection
# after 5 s (every 2 s, twice), connect within 3 s.
_PG_DEAD_LINK = {
    "connect_timeout": 3,
    "tcp_user_timeout": 5000,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
}


def _database(url: str) -> dict:
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            # BEGIN IMMEDIATE takes SQLite's write lock at the start of every
            # transaction, so two processes numbering the same room serialise
            # instead of failing with "database is locked" on upgrade.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    config["CONN_HEALTH_CHECKS"] = True
    if config["ENGINE"].startswith("django.db.backends.postgresql"):
        from config.dbpool import FailFastConnection

        options = config.setdefault("OPTIONS", {})
        # A database behind a dead link (no RST, no FIN) must fail a query in
        # seconds, not after TCP's 15 minutes: a post then gets `unavailable`
        # (tests/test_multihost.py). Overridable as ?tcp_user_timeout=… etc.
        for key, value in _PG_DEAD_LINK.items():
            options.setdefault(key, value)
        # A bounded pool per process, no persistent per-thread connections:
        # under ASGI each sync request runs in a thread of its own, and with
        # CONN_MAX_AGE > 0 every one of them kept a PostgreSQL connection
        # until garbage collection (25 anonymous page views exhausted a
        # 20-connection server: docs/security.md). Connections go back to the
        # pool after each request or database_sync_to_async call.
        config["CONN_MAX_AGE"] = 0
        size = env.int("CHAT_DB_POOL_SIZE", default=10)
        options["pool"] = {
            "min_size": min(2, size),
            "max_size": size,
            # A request waits this long for a free connection, then fails
            # with a database error (503 on the API, 1011 on a socket).
            "timeout": env.float("CHAT_DB_POOL_TIMEOUT", default=3.0),
            # ... except while the database is unreachable (config/dbpool.py).
            "connection_class": FailFastConnection,
        }
        return config
    # SQLite: persistent connections (no server to exhaust): opening and
    # closing (which checkpoints the WAL) per query cost more than the query
    # itself (docs/performance.md).
    config.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    return config


DATABASES = {
    "default": _database(
        env("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
# Redis Sentinel: "host:port,host:port"; REDIS_URL then names the master
# (redis://<master name>/0) and clients follow it through failovers.
CHAT_REDIS_SENTINELS = [
    (host, int(port))
    for host, _, port in (
        item.strip().rpartition(":")
        for item in env("CHAT_REDIS_SENTINELS", default="").split(",")
        if item.strip()
    )
]
# Every Redis key and pub/sub channel of this deployment starts with it, so
# several deployments (or test runs) can share one Redis without crosstalk.
CHAT_REDIS_PREFIX = env("CHAT_REDIS_PREFIX", default="chat")
# channels_redis layer behind the hub: "pubsub" (default, one PUBLISH per
# event) or "core" (lists per channel); docs/deploy.md has the measurement.
CHANNEL_LAYER = env("CHANNEL_LAYER", default="pubsub")
# The core layer forgets a group member after this many seconds unless it is
# re-added (channels #1371); the hub re-adds every CHAT_GROUP_REFRESH.
CHAT_LAYER_GROUP_EXPIRY = env.int("CHAT_LAYER_GROUP_EXPIRY", default=86400)
# The core layer's per-channel queue: the hub's one channel carries every
# room of the process, so the stock 100 would drop events under a burst.
CHAT_LAYER_CAPACITY = env.int("CHAT_LAYER_CAPACITY", default=10000)

_LAYER_BACKENDS = {
    "pubsub": "chat.realtime.redis_layer.ShardedPubSubChannelLayer",
    "core": "channels_redis.core.RedisChannelLayer",
}


def _channel_layers(redis_url: str) -> dict:
    if not redis_url:
        # One process only: the server refuses to start several workers on it.
        # channels' in-memory layer, minus its per-message scan of every group,
        # and with room for bursts (its default 100 drops events: chat/realtime/layers.py).
        return {
            "default": {
                "BACKEND": "chat.realtime.layers.LocalChannelLayer",
                "CONFIG": {"capacity": 10000},
            }
        }
    if CHANNEL_LAYER not in _LAYER_BACKENDS:
        raise ImproperlyConfigured(
            f"CHANNEL_LAYER={CHANNEL_LAYER!r}: use one of {', '.join(_LAYER_BACKENDS)}."
        )
    # A bounded connect: while Redis is down, publishing fails fast and the
    # hub delivers locally (others catch up from the database).
    # Several comma-separated URLs: the layer shards groups across them by
    # a hash of the name, as chat/realtime/state shards its keys (docs/scaling.md).
    hosts = [
        {"address": url.strip(), "socket_connect_timeout": 2}
        for url in redis_url.split(",")
    ]
    if CHAT_REDIS_SENTINELS:
        master = urlsplit(redis_url)
        hosts = [
            {
                "sentinels": CHAT_REDIS_SENTINELS,
                "master_name": master.hostname,
                "db": int(master.path.strip("/") or 0),
                "socket_connect_timeout": 2,
            }
        ]
    config = {"hosts": hosts, "prefix": f"{CHAT_REDIS_PREFIX}:layer:"}
    if CHANNEL_LAYER == "core":
        config["group_expiry"] = CHAT_LAYER_GROUP_EXPIRY
        config["capacity"] = CHAT_LAYER_CAPACITY
    return {"default": {"BACKEND": _LAYER_BACKENDS[CHANNEL_LAYER], "CONFIG": config}}


CHANNEL_LAYERS = _channel_layers(REDIS_URL)

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# E-mail, for password reset: EMAIL_URL (django-environ), e.g.
# smtp+tls://user:password@smtp.example.com:587. Without it there is no
# password reset (its pages answer 404): it could never deliver.
EMAIL_URL = env("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url_config(EMAIL_URL))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="chat@localhost")
CHAT_PASSWORD_RESET = bool(EMAIL_URL)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat:index"
LOGOUT_REDIRECT_URL = "chat:index"

LANGUAGE_CODE = "en"
# The page speaks these (locale/<code>/LC_MESSAGES, compiled .mo committed).
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# Every log line as logfmt or as JSON (chat/logfmt.py).
CHAT_LOG_FORMAT = env("CHAT_LOG_FORMAT", default="logfmt")
_LOG_FORMATTERS = {"logfmt": "LogfmtFormatter", "json": "JsonFormatter"}
if CHAT_LOG_FORMAT not in _LOG_FORMATTERS:
    raise ImproperlyConfigured(
        f"CHAT_LOG_FORMAT={CHAT_LOG_FORMAT!r}: use logfmt or json."
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"()": f"chat.logfmt.{_LOG_FORMATTERS[CHAT_LOG_FORMAT]}"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "chat": {"level": env("CHAT_LOG_LEVEL", default="INFO")},
        # 4xx answers are logged once, as chat.* event lines; 5xx still here.
        "django.request": {"level": "ERROR"},
    },
}

# Log lines are written by a thread, not by the event loop (config/logqueue.py).
CHAT_LOG_FROM_THREAD = True

# --- Chat limits and defaults: the one place for them (docs/protocol.md) ---
CHAT_MAX_MESSAGE_LENGTH = env.int("CHAT_MAX_MESSAGE_LENGTH", default=4000)
CHAT_MAX_FRAME_BYTES = env.int("CHAT_MAX_FRAME_BYTES", default=64 * 1024)
CHAT_HISTORY_ON_CONNECT = env.int("CHAT_HISTORY_ON_CONNECT", default=50)
CHAT_RESUME_MAX = env.int("CHAT_RESUME_MAX", default=1000)
CHAT_HISTORY_PAGE_MAX = env.int("CHAT_HISTORY_PAGE_MAX", default=100)
# Editing and deleting one's own messages, reactions (chat.services.messages).
CHAT_EDIT_WINDOW = env.float("CHAT_EDIT_WINDOW", default=0)  # seconds; 0: always
CHAT_DELETE_OWN = env.bool("CHAT_DELETE_OWN", default=True)
CHAT_MAX_REACTIONS = env.int("CHAT_MAX_REACTIONS", default=20)  # emoji per message
CHAT_RATE_LIMIT_PER_SECOND = env.float("CHAT_RATE_LIMIT_PER_SECOND", default=10.0)
CHAT_RATE_LIMIT_BURST = env.int("CHAT_RATE_LIMIT_BURST", default=30)
# Refused frames (any code but `unavailable`) in a row, no accepted frame
# between, before the socket is closed 1008.
CHAT_RATE_LIMIT_CLOSE_AFTER = env.int("CHAT_RATE_LIMIT_CLOSE_AFTER", default=50)
CHAT_TYPING_INTERVAL = env.float("CHAT_TYPING_INTERVAL", default=2.0)
# Bytes (of the queued frames' strings) waiting for one socket that does not
# read; a frame that would pass it closes the socket 4008 instead (it resumes
# with `since`), so one slow reader never holds up a room nor the memory (a
# socket that asked for history and never read held 392 MiB: issue 10).
CHAT_OUTBOX_MAX_BYTES = env.int("CHAT_OUTBOX_MAX_BYTES", default=4 * 1024 * 1024)
# A v2 socket's summary of a room it has not synced is recounted at most this
# often (seconds) while the room has events; a changed one is sent (`room`).
CHAT_SUMMARY_INTERVAL = env.float("CHAT_SUMMARY_INTERVAL", default=1.0)
# Sockets one user may hold open on one server process (v1 and v2 together).
CHAT_MAX_SOCKETS_PER_USER = env.int("CHAT_MAX_SOCKETS_PER_USER", default=50)
# WebSocket handshakes one client address may make per minute, per process
# (0: no limit); past it HTTP 429 with Retry-After (chat.ws.limits).
CHAT_HANDSHAKES_PER_MINUTE = env.int("CHAT_HANDSHAKES_PER_MINUTE", default=600)
# Presence changes within this many seconds reach the members as one
# presence frame (the newest list), not one frame per change.
CHAT_PRESENCE_COALESCE = env.float("CHAT_PRESENCE_COALESCE", default=0.25)
# How often each process checks the database for messages its channel layer
# did not deliver, and refreshes presence (seconds).
CHAT_RECONCILE_INTERVAL = env.float("CHAT_RECONCILE_INTERVAL", default=5.0)
# Re-add the process's groups this often, well inside the layer's group expiry
# (channels_redis forgets groups after 24 h: channels #1371).
CHAT_GROUP_REFRESH = env.float("CHAT_GROUP_REFRESH", default=3600.0)
# Presence across processes (Redis): each process refreshes its heartbeat
# this often; a process silent for CHAT_PRESENCE_TTL seconds (SIGKILLed,
# frozen) is dead and its sockets leave presence at the next reconcile.
CHAT_PRESENCE_HEARTBEAT = env.float("CHAT_PRESENCE_HEARTBEAT", default=10.0)
CHAT_PRESENCE_TTL = env.float("CHAT_PRESENCE_TTL", default=30.0)
if CHAT_PRESENCE_TTL <= CHAT_PRESENCE_HEARTBEAT:
    raise ImproperlyConfigured(
        "CHAT_PRESENCE_TTL must be longer than CHAT_PRESENCE_HEARTBEAT (three "
        "heartbeats is a good value), or live processes would look dead."
    )

# On SIGTERM, open sockets are served this many seconds more (while /readyz
# says 503 and new handshakes are refused), then closed with 1012 after their
# queued frames (chat/realtime/drain.py).
CHAT_DRAIN_SECONDS = env.float("CHAT_DRAIN_SECONDS", default=10.0)
# Retention: `manage.py chat_purge` turns messages older than this many days
# into tombstones (seqs kept). 0 keeps everything.
CHAT_RETENTION_DAYS = env.float("CHAT_RETENTION_DAYS", default=0.0)
# --- Abuse limits (docs/security.md) ---
# Failed logins (API token, login form, admin) counted in fixed windows of
# CHAT_LOGIN_WINDOW seconds, per account and per client address; at the limit
# every attempt is refused (429 + Retry-After on the API) until the window ends.
CHAT_LOGIN_FAILURES_PER_ACCOUNT = env.int("CHAT_LOGIN_FAILURES_PER_ACCOUNT", default=10)
CHAT_LOGIN_FAILURES_PER_ADDRESS = env.int("CHAT_LOGIN_FAILURES_PER_ADDRESS", default=30)
CHAT_LOGIN_WINDOW = env.float("CHAT_LOGIN_WINDOW", default=900.0)
# Sign-up: "open", "invite" (a one-use link from `manage.py chat_invite`) or
# "closed"; at most CHAT_SIGNUPS_PER_ADDRESS accounts per address per window.
CHAT_SIGNUP = env("CHAT_SIGNUP", default="open")
if CHAT_SIGNUP not in ("open", "invite", "closed"):
    raise ImproperlyConfigured(
        f"CHAT_SIGNUP={CHAT_SIGNUP!r}: use open, invite or closed."
    )
CHAT_SIGNUPS_PER_ADDRESS = env.int("CHAT_SIGNUPS_PER_ADDRESS", default=10)
CHAT_SIGNUP_WINDOW = env.float("CHAT_SIGNUP_WINDOW", default=3600.0)
# API tokens: at most this many per user; with a max age (seconds, 0 = never),
# a token stops working that long after its issue.
CHAT_TOKENS_PER_USER = env.int("CHAT_TOKENS_PER_USER", default=20)
# Rooms (and DMs) one user may make per hour, by any door (429 / refused).
CHAT_ROOMS_PER_HOUR = env.int("CHAT_ROOMS_PER_HOUR", default=60)
CHAT_TOKEN_MAX_AGE = env.int("CHAT_TOKEN_MAX_AGE", default=0)
# Request bodies past this many bytes are refused (413) from Content-Length
# or as they stream in, before being spooled (chat/http/bodylimit.py); the API's
# limit is CHAT_MAX_FRAME_BYTES.
CHAT_MAX_BODY_BYTES = env.int("CHAT_MAX_BODY_BYTES", default=1024 * 1024)
# Content-Security-Policy: empty for the built-in strict one (chat/http/headers.py).
CHAT_CSP = env("CHAT_CSP", default="")
# Threads (niced) that check passwords for the API, per process
# (accounts/credentials.py).
CHAT_PASSWORD_THREADS = env.int("CHAT_PASSWORD_THREADS", default=2)

# --- Uploads (chat/services/uploads.py) ---
# Files go through Django's storage API: local files under MEDIA_ROOT by
# default; S3-compatible storage with django-storages (docs/deploy.md).
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
CHAT_UPLOAD_MAX_BYTES = env.int("CHAT_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
CHAT_UPLOAD_QUOTA_BYTES = env.int("CHAT_UPLOAD_QUOTA_BYTES", default=1024**3)
CHAT_ATTACHMENTS_MAX = env.int("CHAT_ATTACHMENTS_MAX", default=10)
