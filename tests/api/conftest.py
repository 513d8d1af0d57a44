"""An httpx client over the ASGI app, its sessions bound to the test's rolled-back transaction."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from taskflow.api import create_app
from taskflow.config import Settings, get_settings
from taskflow.database import get_session

TEST_SETTINGS = Settings(secret_key="test-secret-" + "x" * 40, access_token_minutes=5)


@pytest.fixture
async def client(connection: Any) -> AsyncIterator[AsyncClient]:
    from sqlmodel.ext.asyncio.session import AsyncSession

    async def session_in_test_transaction() -> AsyncIterator[AsyncSession]:
        # Each request gets a fresh session (nothing cached between requests), whose
        # commits become savepoints of the test's outer transaction.
        async with AsyncSession(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        ) as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise

    app = create_app()
    app.dependency_overrides[get_session] = session_in_test_transaction
    app.dependency_overrides[get_settings] = lambda: TEST_SETTINGS
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield client


async def sign_up(client: AsyncClient, email: str, password: str = "password123") -> dict[str, Any]:
    response = await client.post(
        "/api/v1/users", json={"email": email, "full_name": "Test User", "password": password}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def login(client: AsyncClient, email: str, password: str = "password123") -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
