"""Inputs at the edges: each gets a clear 4xx, never a 500, on both databases."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.api.conftest import login, make_team, sign_up

TOO_BIG = 2**31


async def test_ids_beyond_the_column_range_are_422(
    client: AsyncClient, session: AsyncSession
) -> None:
    project_id, headers, _ids = await make_team(client, session)
    owner = headers["owner"]
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"/api/v1/tasks/{TOO_BIG}", {}),
        ("GET", f"/api/v1/projects/{2**63}", {}),
        ("GET", "/api/v1/tasks", {"params": {"project_id": TOO_BIG}}),
        ("GET", "/api/v1/tasks", {"params": {"assignee_id": 0}}),
        ("POST", "/api/v1/tasks", {"json": {"title": "t", "project_id": TOO_BIG}}),
        (
            "POST",
            "/api/v1/tasks",
            {"json": {"title": "t", "project_id": project_id, "tag_ids": [TOO_BIG]}},
        ),
        ("POST", f"/api/v1/projects/{project_id}/members", {"json": {"user_id": TOO_BIG}}),
    ]
    for method, url, kwargs in requests:
        response = await client.request(method, url, headers=owner, **kwargs)
        assert response.status_code == 422, (method, url, kwargs, response.text)


async def test_dates_without_a_utc_equivalent_are_422(
    client: AsyncClient, session: AsyncSession
) -> None:
    project_id, headers, _ids = await make_team(client, session)
    body = {"title": "t", "project_id": project_id, "due_date": "0001-01-01T00:00:00+05:00"}
    assert (
        await client.post("/api/v1/tasks", json=body, headers=headers["owner"])
    ).status_code == 422
    query = {"due_before": "9999-12-31T23:59:59-05:00"}
    assert (
        await client.get("/api/v1/tasks", params=query, headers=headers["owner"])
    ).status_code == 422
    # The first and last instants asyncpg would store as -infinity and infinity.
    for edge in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999+00:00"):
        body["due_date"] = edge
        response = await client.post("/api/v1/tasks", json=body, headers=headers["owner"])
        assert response.status_code == 422, edge
        assert "out of range" in response.text
    body["due_date"] = "0001-01-01T00:00:01Z"
    created = await client.post("/api/v1/tasks", json=body, headers=headers["owner"])
    assert created.status_code == 201, created.text
    shown = await client.get(f"/api/v1/tasks/{created.json()['id']}", headers=headers["owner"])
    assert shown.json()["due_date"] == "0001-01-01T00:00:01Z"


async def test_numbers_for_dates_are_422(client: AsyncClient, session: AsyncSession) -> None:
    # Pydantic alone would read them as seconds since 1970.
    project_id, headers, _ids = await make_team(client, session)
    owner = headers["owner"]
    for due in (0, 1700000000, 12.5, "1700000000", " 0 "):
        body = {"title": "t", "project_id": project_id, "due_date": due}
        response = await client.post("/api/v1/tasks", json=body, headers=owner)
        assert response.status_code == 422, (due, response.text)
        assert "ISO 8601" in response.text
        query = {"due_after": str(due)}
        response = await client.get("/api/v1/tasks", params=query, headers=owner)
        assert response.status_code == 422, (due, response.text)
    listed = await client.get("/api/v1/tasks", params={"project_id": project_id}, headers=owner)
    assert listed.json()["items"] == []  # nothing was stored
    body = {"title": "t", "project_id": project_id, "due_date": "2031-01-01T00:00:00Z"}
    assert (await client.post("/api/v1/tasks", json=body, headers=owner)).status_code == 201


async def test_nul_bytes_in_query_strings_are_refused(
    client: AsyncClient, session: AsyncSession
) -> None:
    project_id, headers, _ids = await make_team(client, session)
    owner = headers["owner"]
    for url, params in [
        ("/api/v1/tasks", {"q": "a\x00b"}),
        ("/api/v1/tasks", {"tag": "\x00"}),
        (f"/api/v1/projects/{project_id}/tags", {"prefix": "\x00"}),
        ("/api/v1/users", {"email": "a\x00@example.com"}),
    ]:
        response = await client.get(url, params=params, headers=owner)
        assert response.status_code == 422, (url, params, response.text)
    login_response = await client.post(
        "/api/v1/auth/token", data={"username": "\x00", "password": "password123"}
    )
    assert login_response.status_code == 401


async def test_foreign_cursors_are_422(client: AsyncClient, session: AsyncSession) -> None:
    _project_id, headers, _ids = await make_team(client, session)
    for url in ("/api/v1/tasks", "/api/v1/projects"):
        response = await client.get(url, params={"cursor": "a.é"}, headers=headers["owner"])
        assert response.status_code == 422


async def test_the_length_limit_applies_to_the_stored_text(
    client: AsyncClient, session: AsyncSession
) -> None:
    project_id, headers, _ids = await make_team(client, session)
    grows_under_nfc = "\u0958" * 300  # each becomes two code points
    body = {"title": grows_under_nfc, "project_id": project_id}
    assert (
        await client.post("/api/v1/tasks", json=body, headers=headers["owner"])
    ).status_code == 422
    padded = {"title": "x" * 300 + "   ", "project_id": project_id}
    assert (
        await client.post("/api/v1/tasks", json=padded, headers=headers["owner"])
    ).status_code == 201


async def test_login_accepts_the_address_as_typed_at_sign_up(client: AsyncClient) -> None:
    created = await sign_up(client, "Zoe@XN--EXMPLE-CUA.com")
    assert created["email"] == "zoe@exämple.com"
    await login(client, "Zoe@XN--EXMPLE-CUA.com")
    await login(client, "ZOE@exämple.com")


@pytest.mark.parametrize("names", [["ib", "Éclair", "éa", "İstanbul"], ["İa", "ib", "ÉCLAIR"]])
async def test_tag_pages_do_not_skip_non_ascii_names(
    client: AsyncClient, session: AsyncSession, names: list[str]
) -> None:
    project_id, headers, _ids = await make_team(client, session)
    url = f"/api/v1/projects/{project_id}/tags"
    for name in names:
        assert (
            await client.post(url, json={"name": name}, headers=headers["owner"])
        ).status_code == 201
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(url, params=params, headers=headers["owner"])).json()
        seen += [t["name"] for t in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert sorted(seen) == sorted(names)
    assert len(seen) == len(names)


async def test_case_insensitive_matching_covers_non_ascii_letters(
    client: AsyncClient, session: AsyncSession
) -> None:
    project_id, headers, _ids = await make_team(client, session)
    owner = headers["owner"]
    tag = (
        await client.post(
            f"/api/v1/projects/{project_id}/tags", json={"name": "Éclair"}, headers=owner
        )
    ).json()
    task = (
        await client.post(
            "/api/v1/tasks",
            json={"title": "Éclair recipe", "project_id": project_id, "tag_ids": [tag["id"]]},
            headers=owner,
        )
    ).json()
    by_q = await client.get("/api/v1/tasks", params={"q": "éclair"}, headers=owner)
    by_tag = await client.get("/api/v1/tasks", params={"tag": "ÉCLAIR"}, headers=owner)
    by_prefix = await client.get(
        f"/api/v1/projects/{project_id}/tags", params={"prefix": "é"}, headers=owner
    )
    assert [t["id"] for t in by_q.json()["items"]] == [task["id"]]
    assert [t["id"] for t in by_tag.json()["items"]] == [task["id"]]
    assert [t["id"] for t in by_prefix.json()["items"]] == [tag["id"]]
