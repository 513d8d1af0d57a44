"""Property-based run of schemathesis against /openapi.json, in process, on both databases.

Every operation gets a bounded number of generated requests, authenticated as a seeded
user, against a dedicated database (the run commits real rows). No response may be a 5xx,
carry an undocumented status code, or break its own schema.
"""

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from taskflow.api import create_app
from taskflow.api.deps import app_settings, request_session
from taskflow.config import Settings
from taskflow.database import create_engine, create_session_factory
from taskflow.security import create_access_token
from taskflow.seed import run as seed
from taskflow.services.users import get_user_by_email
from tests.api.conftest import TEST_SETTINGS, serve_sessions_from
from tests.conftest import create_empty_database, migrate

app = create_app()
app.dependency_overrides[app_settings] = lambda: TEST_SETTINGS
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="session")
async def fuzz_database(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[str, str]]:
    """A migrated, seeded database of its own, and a token for a seeded user."""
    url, drop = await create_empty_database(backend, tmp_path_factory.mktemp("fuzz"))
    await migrate(url)
    await seed(Settings(database_url=url))
    engine = create_engine(Settings(database_url=url, database_null_pool=True))
    async with create_session_factory(engine)() as session:
        user = await get_user_by_email(session, "alice@example.com")
    await engine.dispose()
    assert user is not None
    assert user.id is not None
    token = create_access_token(
        user.id, secret=TEST_SETTINGS.secret_key, minutes=TEST_SETTINGS.access_token_minutes
    )
    try:
        yield url, token
    finally:
        await drop()


@pytest.fixture
def api_headers(fuzz_database: tuple[str, str]) -> Iterator[dict[str, str]]:
    url, token = fuzz_database
    # No pool: the test client runs the app on its own event loop, so connections
    # must not outlive a request.
    serve_sessions_from(app, create_engine(Settings(database_url=url, database_null_pool=True)))
    yield {"Authorization": f"Bearer {token}"}
    del app.dependency_overrides[request_session]


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "20")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
def test_api_conforms_to_its_schema(case: Any, api_headers: dict[str, str]) -> None:
    # Schema-valid data may still be refused by business rules (an assignee who is not a
    # member, a tag of another project, a reserved email domain): 422 is right there.
    case.call_and_validate(headers=api_headers, excluded_checks=[positive_data_acceptance])
