"""Development on one machine: `make run`. Debug on, SQLite, in-memory layer."""

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
