"""Sign-up, sign-in and the token rules."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from httpx import AsyncClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pydantic import ValidationError
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.config import Settings
from taskflow.models import User, utc_now
from taskflow.security import create_access_token
from tests.api.conftest import TEST_SETTINGS, login, sign_up


async def test_sign_up_returns_the_user_without_any_password(client: AsyncClient) -> None:
    body = await sign_up(client, "New@Example.com")
    assert body["email"] == "new@example.com"
    assert {"id", "created_at", "updated_at", "is_active"} <= set(body)
    assert not {"password", "hashed_password"} & set(body)


async def test_duplicate_email_in_any_case_is_409(client: AsyncClient) -> None:
    await sign_up(client, "dup@example.com")
    response = await client.post(
        "/api/v1/users",
        json={"email": "DUP@example.com", "full_name": "Again", "password": "password123"},
    )
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


async def test_invalid_sign_up_is_422(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/users", json={"email": "nope", "full_name": " ", "password": "short"}
    )
    assert response.status_code == 422
    fields = {error["loc"][-1] for error in response.json()["detail"]}
    assert fields == {"email", "full_name", "password"}


async def test_login_then_me(client: AsyncClient) -> None:
    await sign_up(client, "me@example.com")
    headers = await login(client, "ME@example.com")
    response = await client.get("/api/v1/users/me", headers=headers)
    assert response.status_code == 200
    assert response.json()["email"] == "me@example.com"


async def test_wrong_password_unknown_email_and_inactive_user_get_401(client: AsyncClient) -> None:
    await sign_up(client, "who@example.com")
    headers = await login(client, "who@example.com")
    await client.patch("/api/v1/users/me", json={"is_active": False}, headers=headers)
    for username, password in [
        ("who@example.com", "wrong-password"),
        ("nobody@example.com", "password123"),
        ("who@example.com", "password123"),  # deactivated
    ]:
        response = await client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


async def test_bad_tokens_get_401(client: AsyncClient) -> None:
    user = await sign_up(client, "tok@example.com")
    secret = TEST_SETTINGS.secret_key
    expired = jwt.encode(
        {"sub": str(user["id"]), "exp": utc_now() - timedelta(minutes=1)}, secret, algorithm="HS256"
    )
    forged = create_access_token(user["id"], secret="another-secret-" + "y" * 40, minutes=5)
    ghost = create_access_token(999999, secret=secret, minutes=5)
    for token in [None, "garbage", expired, forged, ghost]:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        response = await client.get("/api/v1/users/me", headers=headers)
        assert response.status_code == 401, token
        assert response.headers["www-authenticate"] == "Bearer"


async def test_patch_me_changes_password_and_refuses_null_name(client: AsyncClient) -> None:
    await sign_up(client, "pw@example.com")
    headers = await login(client, "pw@example.com")
    response = await client.patch(
        "/api/v1/users/me", json={"password": "new-password-1"}, headers=headers
    )
    assert response.status_code == 200
    await login(client, "pw@example.com", "new-password-1")
    response = await client.patch("/api/v1/users/me", json={"full_name": None}, headers=headers)
    assert response.status_code == 422


async def test_user_lookup_by_id_and_exact_email(client: AsyncClient) -> None:
    other = await sign_up(client, "other@example.com")
    await sign_up(client, "asker@example.com")
    headers = await login(client, "asker@example.com")
    by_id = await client.get(f"/api/v1/users/{other['id']}", headers=headers)
    assert by_id.json()["email"] == "other@example.com"
    by_email = await client.get(
        "/api/v1/users", params={"email": "OTHER@example.com"}, headers=headers
    )
    assert by_email.json()["id"] == other["id"]
    missing = await client.get("/api/v1/users", params={"email": "x@example.com"}, headers=headers)
    assert missing.status_code == 404
    assert (await client.get("/api/v1/users/424242", headers=headers)).status_code == 404


async def test_health_reports_ok(client: AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_login_upgrades_an_outdated_hash(client: AsyncClient, session: AsyncSession) -> None:
    user = await sign_up(client, "old@example.com")
    weak = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8192),)).hash("password123")
    await session.exec(update(User).where(col(User.id) == user["id"]).values(hashed_password=weak))
    await login(client, "old@example.com")
    stored = await session.scalar(select(User.hashed_password).where(col(User.id) == user["id"]))
    assert stored != weak
    assert stored is not None
    assert stored.startswith("$argon2")


def test_production_refuses_the_example_secret() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production")
    Settings(environment="production", secret_key="s" * 48)


def test_the_app_refuses_to_start_in_production_with_the_example_secret(tmp_path: Path) -> None:
    script = (
        "import asyncio\n"
        "from taskflow.api import app\n"
        "async def start():\n"
        "    async with app.router.lifespan_context(app):\n"
        "        pass\n"
        "asyncio.run(start())\n"
    )
    env = os.environ | {"ENVIRONMENT": "production"}
    env.pop("SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
