"""Every protected action against every kind of caller, and each endpoint's statement cost."""

import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.api.conftest import ROLES, make_team, sign_up
from tests.conftest import StatementCounter

_numbers = itertools.count(1)
Team = tuple[int, dict[str, dict[str, str]], dict[str, int]]
Action = Callable[[AsyncClient, Team, dict[str, str]], Awaitable[Response]]


async def _task(client: AsyncClient, team: Team) -> int:
    project_id, headers, _ids = team
    response = await client.post(
        "/api/v1/tasks", json={"title": "t", "project_id": project_id}, headers=headers["owner"]
    )
    return int(response.json()["id"])


async def _tag(client: AsyncClient, team: Team) -> int:
    project_id, headers, _ids = team
    response = await client.post(
        f"/api/v1/projects/{project_id}/tags", json={"name": "t"}, headers=headers["owner"]
    )
    return int(response.json()["id"])


async def _outsider(client: AsyncClient) -> int:
    return int((await sign_up(client, f"outsider-{next(_numbers)}@example.com"))["id"])


async def _newcomer_member(client: AsyncClient, team: Team) -> int:
    project_id, headers, _ids = team
    user_id = await _outsider(client)
    await client.post(
        f"/api/v1/projects/{project_id}/members",
        json={"user_id": user_id},
        headers=headers["owner"],
    )
    return user_id


def _project_url(team: Team, suffix: str = "") -> str:
    return f"/api/v1/projects/{team[0]}{suffix}"


ACTIONS: dict[str, tuple[Action, dict[str, int]]] = {
    "read project": (
        lambda c, t, h: c.get(_project_url(t), headers=h),
        {"stranger": 404, "member": 200, "admin": 200, "owner": 200},
    ),
    "update project": (
        lambda c, t, h: c.patch(_project_url(t), json={"name": "n"}, headers=h),
        {"stranger": 404, "member": 403, "admin": 200, "owner": 200},
    ),
    "delete project": (
        lambda c, t, h: c.delete(_project_url(t), headers=h),
        {"stranger": 404, "member": 403, "admin": 403, "owner": 204},
    ),
    "list members": (
        lambda c, t, h: c.get(_project_url(t, "/members"), headers=h),
        {"stranger": 404, "member": 200, "admin": 200, "owner": 200},
    ),
    "add member": (
        lambda c, t, h: _add_member(c, t, h),
        {"stranger": 404, "member": 403, "admin": 201, "owner": 201},
    ),
    "change a role": (
        lambda c, t, h: c.patch(
            _project_url(t, f"/members/{t[2]['member']}"), json={"role": "admin"}, headers=h
        ),
        {"stranger": 404, "member": 403, "admin": 200, "owner": 200},
    ),
    "remove a member": (
        lambda c, t, h: _remove_member(c, t, h),
        {"stranger": 404, "member": 403, "admin": 204, "owner": 204},
    ),
    "list tags": (
        lambda c, t, h: c.get(_project_url(t, "/tags"), headers=h),
        {"stranger": 404, "member": 200, "admin": 200, "owner": 200},
    ),
    "create tag": (
        lambda c, t, h: c.post(_project_url(t, "/tags"), json={"name": "new"}, headers=h),
        {"stranger": 404, "member": 201, "admin": 201, "owner": 201},
    ),
    "delete tag": (
        lambda c, t, h: _delete_tag(c, t, h),
        {"stranger": 404, "member": 403, "admin": 204, "owner": 204},
    ),
    "create task": (
        lambda c, t, h: c.post("/api/v1/tasks", json={"title": "x", "project_id": t[0]}, headers=h),
        {"stranger": 404, "member": 201, "admin": 201, "owner": 201},
    ),
    "read task": (
        lambda c, t, h: _on_task(c, t, h, "GET"),
        {"stranger": 404, "member": 200, "admin": 200, "owner": 200},
    ),
    "update task": (
        lambda c, t, h: _on_task(c, t, h, "PATCH", json={"status": "done"}),
        {"stranger": 404, "member": 200, "admin": 200, "owner": 200},
    ),
    "delete task": (
        lambda c, t, h: _on_task(c, t, h, "DELETE"),
        {"stranger": 404, "member": 204, "admin": 204, "owner": 204},
    ),
}


async def _add_member(client: AsyncClient, team: Team, headers: dict[str, str]) -> Response:
    user_id = await _outsider(client)
    return await client.post(
        _project_url(team, "/members"), json={"user_id": user_id}, headers=headers
    )


async def _remove_member(client: AsyncClient, team: Team, headers: dict[str, str]) -> Response:
    user_id = await _newcomer_member(client, team)
    return await client.delete(_project_url(team, f"/members/{user_id}"), headers=headers)


async def _delete_tag(client: AsyncClient, team: Team, headers: dict[str, str]) -> Response:
    tag_id = await _tag(client, team)
    return await client.delete(_project_url(team, f"/tags/{tag_id}"), headers=headers)


async def _on_task(
    client: AsyncClient, team: Team, headers: dict[str, str], method: str, **kwargs: Any
) -> Response:
    task_id = await _task(client, team)
    return await client.request(method, f"/api/v1/tasks/{task_id}", headers=headers, **kwargs)


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("role", ROLES)
async def test_authorisation_matrix(
    client: AsyncClient, session: AsyncSession, action: str, role: str
) -> None:
    team = await make_team(client, session)
    call, expected = ACTIONS[action]
    response = await call(client, team, team[1][role])
    assert response.status_code == expected[role], response.text


async def test_statement_counts_do_not_grow_with_the_data(
    client: AsyncClient, session: AsyncSession, count_statements: StatementCounter
) -> None:
    team = await make_team(client, session)
    project_id, headers, ids = team
    owner = headers["owner"]

    async def costs() -> dict[str, int]:
        task_id = await _task(client, team)
        tags = [
            t["id"]
            for t in (await client.get(_project_url(team, "/tags"), headers=owner)).json()["items"]
        ]
        requests: list[tuple[str, str, dict[str, Any]]] = [
            ("GET", "/api/v1/users/me", {}),
            ("GET", f"/api/v1/users/{ids['member']}", {}),
            ("GET", "/api/v1/projects", {}),
            ("GET", _project_url(team), {}),
            ("GET", _project_url(team, "/members"), {}),
            ("GET", _project_url(team, "/tags"), {"params": {"prefix": "t"}}),
            ("GET", "/api/v1/tasks", {"params": {"project_id": project_id, "tag": "t0"}}),
            ("GET", f"/api/v1/tasks/{task_id}", {}),
            (
                "POST",
                "/api/v1/tasks",
                {"json": {"title": "n", "project_id": project_id, "tag_ids": tags}},
            ),
            ("PATCH", f"/api/v1/tasks/{task_id}", {"json": {"tag_ids": tags, "title": "m"}}),
            ("PATCH", _project_url(team), {"json": {"name": f"renamed {next(_numbers)}"}}),
        ]
        cost = {}
        for index, (method, url, kwargs) in enumerate(requests):
            before = count_statements.count
            response = await client.request(method, url, headers=owner, **kwargs)
            assert response.status_code < 300, (url, response.text)
            cost[f"#{index} {method} {url}"] = count_statements.count - before
        return cost

    t0 = await client.post(_project_url(team, "/tags"), json={"name": "t0"}, headers=owner)
    # Lists are compared non-empty on both sides (an empty page skips the tag query).
    await client.post(
        "/api/v1/tasks",
        json={"title": "tagged", "project_id": project_id, "tag_ids": [t0.json()["id"]]},
        headers=owner,
    )
    small = await costs()
    for i in range(1, 25):
        await client.post(_project_url(team, "/tags"), json={"name": f"t{i}"}, headers=owner)
        await _newcomer_member(client, team)
        await client.post("/api/v1/projects", json={"name": f"p{i}"}, headers=owner)
    for _ in range(30):
        await _task(client, team)
    large = await costs()
    assert list(small.values()) == list(large.values()), (small, large)
