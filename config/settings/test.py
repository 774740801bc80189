"""The in-process test suite: fast hashing, the in-memory layer and state.

DATABASE_URL still applies (CI runs the suite on PostgreSQL). Tests of
several processes start real servers with REDIS_URL themselves
(tests/conftest.py), reading it from the environment.
"""

from .base import *  # noqa: F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REDIS_URL = ""
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Static files straight from the apps (no collectstatic needed), rescanned on
# each request: convenient here, too slow for production.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
