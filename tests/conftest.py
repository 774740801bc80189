"""Fixtures for tests that run real server processes (see testing/servers.py)."""

from contextlib import ExitStack

import pytest

from testing.servers import Deployment, postgres_deployment
from testing.services import postgres_url, redis_url


@pytest.fixture
def deployment(tmp_path):
    """The defaults a user gets: a fresh SQLite file, in-memory layer, no Redis."""
    deployments: list[Deployment] = []

    def make(**settings) -> Deployment:
        db = tmp_path / f"db-{len(deployments)}.sqlite3"
        d = Deployment(tmp_path, f"sqlite:///{db}", **settings)
        deployments.append(d)
        return d

    yield make
    for d in deployments:
        d.stop()


@pytest.fixture
def scaled_deployment(tmp_path):
    """Scale-out: a fresh PostgreSQL database and the machine's Redis."""
    redis = redis_url()
    base = postgres_url()
    with ExitStack() as made:

        def make(redis_url: str = redis, **settings) -> Deployment:
            return made.enter_context(
                postgres_deployment(tmp_path, base, redis_url, **settings)
            )

        yield make
