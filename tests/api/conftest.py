"""An httpx client over the ASGI app, its sessions bound to the test's rolled-back transaction."""

import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.api import create_app
from taskflow.api.deps import app_settings, request_session, sessions_per_request
from taskflow.config import Settings
from taskflow.database import create_session_factory
from taskflow.models import MemberRole, ProjectMemberCreate
from taskflow.services.members import add_member

_numbers = itertools.count(1)

TEST_SETTINGS = Settings(secret_key="test-secret-" + "x" * 40, access_token_minutes=5)


@pytest.fixture
async def client(connection: Any) -> AsyncIterator[AsyncClient]:
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
    app.dependency_overrides[request_session] = session_in_test_transaction
    app.dependency_overrides[app_settings] = lambda: TEST_SETTINGS
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield client


def serve_sessions_from(app: FastAPI, engine: AsyncEngine) -> None:
    """Make the app's requests use sessions of `engine` (which really commit)."""
    factories = {
        read_only: create_session_factory(engine, read_only=read_only)
        for read_only in (False, True)
    }

    def factory(*, read_only: bool) -> async_sessionmaker[AsyncSession]:
        return factories[read_only]

    app.dependency_overrides[request_session] = sessions_per_request(factory)


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


ROLES = ["owner", "admin", "member", "stranger"]


async def make_team(
    client: AsyncClient, session: AsyncSession
) -> tuple[int, dict[str, dict[str, str]], dict[str, int]]:
    """A project, and headers and ids for its owner, an admin, a member and a non-member."""
    headers, ids = {}, {}
    for role in ROLES:
        user = await sign_up(client, f"{role}-{next(_numbers)}@example.com")
        ids[role] = user["id"]
        headers[role] = await login(client, user["email"])
    response = await client.post(
        "/api/v1/projects", json={"name": "Apollo"}, headers=headers["owner"]
    )
    assert response.status_code == 201
    project_id = response.json()["id"]
    for role in (MemberRole.ADMIN, MemberRole.MEMBER):
        await add_member(
            session,
            project_id=project_id,
            data=ProjectMemberCreate(user_id=ids[role.value], role=role),
            actor_role=MemberRole.OWNER,
        )
    return project_id, headers, ids
