"""Fuzz every REST API operation against its own OpenAPI schema (/api/schema/)
on a real server: no server errors, every status and body as documented,
invalid input refused and valid input accepted (schemathesis' default checks)."""

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from chat.api.schema import openapi_schema

from .servers import Deployment

# Bounded: the whole run takes well under a minute on two cores. POST
# /api/token hashes each password it is sent (~0.5 s): its cases dominate.
MAX_EXAMPLES = 10


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    deployment = Deployment(tmp, f"sqlite:///{tmp / 'db.sqlite3'}")
    (token,) = deployment.tokens("fuzzer")
    server = deployment.server()
    assert httpx.get(f"{server.http}/api/schema/").json() == openapi_schema()
    yield server, token
    deployment.stop()


# The schema as the code builds it (pytest-django has set Django up before
# collection); the fixture checks that the server serves the same document.
# (Not schemathesis.pytest.from_fixture: its lazy loading breaks on pytest 9.2.)
# Invalid data must be refused with a 4xx, and the API says "too long" with 413.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": ["400", "401", "404", "413"]
            }
        }
    }
)
schema = schemathesis.openapi.from_dict(openapi_schema(), config=CONFIG)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same cases on every run: a failure reproduces
)
def test_api_conforms_to_its_schema(case, fuzzed_server):
    """Each generated request gets a documented status and a body that matches
    the schema; never a 5xx."""
    server, token = fuzzed_server
    case.call_and_validate(
        base_url=server.http, headers={"Authorization": f"Bearer {token}"}
    )
