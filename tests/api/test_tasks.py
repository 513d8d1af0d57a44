"""Tasks through the API: membership rules, filters, pages, and a constant statement count."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.api.conftest import make_team
from tests.conftest import StatementCounter


async def _tag(client: AsyncClient, project_id: int, name: str, headers: dict[str, str]) -> int:
    response = await client.post(
        f"/api/v1/projects/{project_id}/tags", json={"name": name}, headers=headers
    )
    assert response.status_code == 201
    return int(response.json()["id"])


async def test_create_returns_the_task_with_its_tags(
    client: AsyncClient, session: AsyncSession
) -> None:
    project_id, headers, ids = await make_team(client, session)
    bug = await _tag(client, project_id, "bug", headers["owner"])
    response = await client.post(
        "/api/v1/tasks",
        json={
            "title": "Fix it",
            "project_id": project_id,
            "assignee_id": ids["member"],
            "due_date": "2031-01-01T12:00:00",
            "tag_ids": [bug],
            "priority": "high",
        },
        headers=headers["member"],
    )
    assert response.status_code == 201
    body = response.json()
    assert body["tags"][0]["name"] == "bug"
    assert body["due_date"] in ("2031-01-01T12:00:00Z", "2031-01-01T12:00:00+00:00")
    assert body["status"] == "todo"
    assert body["assignee"] == {"id": ids["member"], "full_name": "Test User"}
    fetched = await client.get(f"/api/v1/tasks/{body['id']}", headers=headers["admin"])
    assert fetched.json() == body
    unassigned = await client.patch(
        f"/api/v1/tasks/{body['id']}", json={"assignee_id": None}, headers=headers["member"]
    )
    assert unassigned.json()["assignee"] is None


async def test_create_checks_membership_assignee_and_tags(
    client: AsyncClient, session: AsyncSession
) -> None:
    project_id, headers, ids = await make_team(client, session)
    other = (
        await client.post("/api/v1/projects", json={"name": "O"}, headers=headers["owner"])
    ).json()
    foreign_tag = await _tag(client, other["id"], "x", headers["owner"])
    base = {"title": "t", "project_id": project_id}
    cases: list[tuple[str, dict[str, Any], int]] = [
        ("stranger", base, 404),
        ("member", base | {"assignee_id": ids["stranger"]}, 422),
        ("member", base | {"tag_ids": [foreign_tag]}, 422),
        ("member", base | {"project_id": 987654}, 404),
        ("member", base | {"status": "nope"}, 422),
        ("member", base | {"title": "bad\x00"}, 422),
    ]
    for actor, body, expected in cases:
        response = await client.post("/api/v1/tasks", json=body, headers=headers[actor])
        assert response.status_code == expected, (body, response.text)


async def test_task_access_by_role(client: AsyncClient, session: AsyncSession) -> None:
    project_id, headers, _ids = await make_team(client, session)
    created = await client.post(
        "/api/v1/tasks", json={"title": "t", "project_id": project_id}, headers=headers["owner"]
    )
    url = f"/api/v1/tasks/{created.json()['id']}"
    assert (await client.get(url, headers=headers["stranger"])).status_code == 404
    assert (
        await client.patch(url, json={"title": "x"}, headers=headers["stranger"])
    ).status_code == 404
    assert (await client.delete(url, headers=headers["stranger"])).status_code == 404
    assert (
        await client.patch(url, json={"title": "x"}, headers=headers["member"])
    ).status_code == 200
    assert (
        await client.patch(url, json={"title": None}, headers=headers["member"])
    ).status_code == 422
    assert (await client.delete(url, headers=headers["member"])).status_code == 204
    assert (await client.get(url, headers=headers["owner"])).status_code == 404


async def test_moving_a_task_needs_membership_in_both_projects(
    client: AsyncClient, session: AsyncSession
) -> None:
    project_id, headers, _ids = await make_team(client, session)
    task = (
        await client.post(
            "/api/v1/tasks", json={"title": "t", "project_id": project_id}, headers=headers["owner"]
        )
    ).json()
    elsewhere = (
        await client.post("/api/v1/projects", json={"name": "E"}, headers=headers["stranger"])
    ).json()
    url = f"/api/v1/tasks/{task['id']}"
    denied = await client.patch(url, json={"project_id": elsewhere["id"]}, headers=headers["owner"])
    assert denied.status_code == 404
    mine = (
        await client.post("/api/v1/projects", json={"name": "M"}, headers=headers["owner"])
    ).json()
    moved = await client.patch(url, json={"project_id": mine["id"]}, headers=headers["owner"])
    assert moved.status_code == 200
    assert moved.json()["project_id"] == mine["id"]


async def test_list_filters_sorts_and_pages(client: AsyncClient, session: AsyncSession) -> None:
    project_id, headers, ids = await make_team(client, session)
    owner = headers["owner"]
    bug = await _tag(client, project_id, "bug", owner)
    titles = []
    for i, priority in enumerate(["low", "high", "medium", "high", "low"]):
        body = {"title": f"task {i} 50%", "project_id": project_id, "priority": priority}
        if i % 2:
            body |= {"tag_ids": [bug], "assignee_id": ids["member"]}
        response = await client.post("/api/v1/tasks", json=body, headers=owner)
        titles.append(response.json()["title"])
    # Someone else's project stays invisible.
    hidden = (
        await client.post("/api/v1/projects", json={"name": "H"}, headers=headers["stranger"])
    ).json()
    await client.post(
        "/api/v1/tasks",
        json={"title": "hidden", "project_id": hidden["id"]},
        headers=headers["stranger"],
    )

    async def titles_of(**params: Any) -> list[str]:
        response = await client.get("/api/v1/tasks", params=params, headers=owner)
        assert response.status_code == 200, response.text
        return [t["title"] for t in response.json()["items"]]

    assert await titles_of() == titles[::-1]
    assert await titles_of(tag="bug", sort="created_at") == [titles[1], titles[3]]
    assert await titles_of(assignee_id=ids["member"], sort="created_at") == [titles[1], titles[3]]
    assert (await titles_of(sort="-priority"))[:2] == [titles[3], titles[1]]
    assert await titles_of(q="TASK 2 50%") == [titles[2]]
    assert await titles_of(q="_") == []
    collected, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, "sort": "priority"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/tasks", params=params, headers=owner)).json()
        collected += [t["title"] for t in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert collected == [titles[0], titles[4], titles[2], titles[1], titles[3]]


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "garbage"},
        {"limit": 0},
        {"limit": 201},
        {"sort": "title"},
        {"status": "x"},
        {"due_before": "soon"},
    ],
)
async def test_bad_list_queries_are_422(
    client: AsyncClient, session: AsyncSession, params: dict[str, Any]
) -> None:
    _project_id, headers, _ids = await make_team(client, session)
    response = await client.get("/api/v1/tasks", params=params, headers=headers["owner"])
    assert response.status_code == 422


async def test_each_endpoint_costs_constant_statements(
    client: AsyncClient, session: AsyncSession, count_statements: StatementCounter
) -> None:
    project_id, headers, _ids = await make_team(client, session)
    owner = headers["owner"]
    tags = [await _tag(client, project_id, f"t{i}", owner) for i in range(3)]
    for i in range(60):
        await client.post(
            "/api/v1/tasks",
            json={"title": f"t{i}", "project_id": project_id, "tag_ids": tags},
            headers=owner,
        )
    counts = {}
    for limit in (1, 50):
        before = count_statements.count
        response = await client.get("/api/v1/tasks", params={"limit": limit}, headers=owner)
        assert len(response.json()["items"]) == limit
        counts[limit] = count_statements.count - before
    assert counts[1] == counts[50] == 1  # the account check is part of the page's statement
    task_id = response.json()["items"][0]["id"]
    before = count_statements.count
    assert (await client.get(f"/api/v1/tasks/{task_id}", headers=owner)).status_code == 200
    assert count_statements.count - before == 1
    for path in (f"/api/v1/projects/{project_id}/members", f"/api/v1/projects/{project_id}/tags"):
        before = count_statements.count
        await client.get(path, headers=owner)
        assert count_statements.count - before <= 3, path


async def test_a_deactivated_account_gets_401_from_the_reads_that_check_it_themselves(
    client: AsyncClient, session: AsyncSession
) -> None:
    # The task and task-list reads check the account in their own statement; what they
    # find nothing for must still tell a deactivated account (401) from a miss (404).
    project_id, headers, _ids = await make_team(client, session)
    member, stranger = headers["member"], headers["stranger"]
    created = await client.post(
        "/api/v1/tasks", json={"title": "t", "project_id": project_id}, headers=member
    )
    url = f"/api/v1/tasks/{created.json()['id']}"
    assert (await client.get(url, headers=stranger)).status_code == 404
    assert (await client.get("/api/v1/tasks", headers=stranger)).json()["items"] == []
    assert (await client.get(url, headers=member)).status_code == 200
    response = await client.patch("/api/v1/users/me", json={"is_active": False}, headers=member)
    assert response.status_code == 200
    checks: list[tuple[str, dict[str, Any]]] = [
        (url, {}),
        ("/api/v1/tasks/2147483647", {}),
        ("/api/v1/tasks", {}),
        ("/api/v1/tasks", {"project_id": project_id}),
        ("/api/v1/tasks", {"cursor": "garbage"}),
    ]
    for path, params in checks:
        response = await client.get(path, params=params, headers=member)
        assert response.status_code == 401, (path, params, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
