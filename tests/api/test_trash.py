"""The trash over HTTP: delete moves to it, restore brings back, delete from it is for good."""

from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.models import Task
from taskflow.services.visibility import include_trashed
from tests.api.conftest import make_team


async def _task(client: AsyncClient, headers: dict[str, str], project_id: int, title: str) -> int:
    response = await client.post(
        "/api/v1/tasks", json={"title": title, "project_id": project_id}, headers=headers
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _trash(client: AsyncClient, headers: dict[str, str]) -> list[tuple[str, int]]:
    response = await client.get("/api/v1/trash", headers=headers)
    assert response.status_code == 200, response.text
    return [(item["kind"], item["id"]) for item in response.json()["items"]]


async def _task_ids(client: AsyncClient, headers: dict[str, str], **params: Any) -> set[int]:
    response = await client.get("/api/v1/tasks", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return {task["id"] for task in response.json()["items"]}


async def test_a_trashed_task_is_hidden_listed_restored_and_deleted_for_good(
    client: AsyncClient, session: AsyncSession
) -> None:
    project_id, headers, _ids = await make_team(client, session)
    member = headers["member"]
    kept_id = await _task(client, member, project_id, "kept")
    trashed_id = await _task(client, member, project_id, "oops")

    assert (await client.delete(f"/api/v1/tasks/{trashed_id}", headers=member)).status_code == 204
    assert (await client.get(f"/api/v1/tasks/{trashed_id}", headers=member)).status_code == 404
    assert await _task_ids(client, member) == {kept_id}
    assert await _task_ids(client, member, q="oops") == set()
    assert (await client.delete(f"/api/v1/tasks/{trashed_id}", headers=member)).status_code == 404
    assert await _trash(client, member) == [("task", trashed_id)]
    assert await _trash(client, headers["stranger"]) == []

    restored = await client.post(f"/api/v1/tasks/{trashed_id}/restore", headers=member)
    assert restored.status_code == 200, restored.text
    assert restored.json()["title"] == "oops"
    assert await _task_ids(client, member) == {kept_id, trashed_id}
    again = await client.post(f"/api/v1/tasks/{trashed_id}/restore", headers=member)
    assert again.status_code == 409
    assert "not in the trash" in again.json()["detail"]

    # Only what is in the trash can be deleted for good.
    assert (
        await client.delete(f"/api/v1/trash/tasks/{trashed_id}", headers=member)
    ).status_code == 404
    await client.delete(f"/api/v1/tasks/{trashed_id}", headers=member)
    gone = await client.delete(f"/api/v1/trash/tasks/{trashed_id}", headers=member)
    assert gone.status_code == 204
    assert await _trash(client, member) == []
    left = await session.scalar(
        include_trashed(select(func.count()).where(col(Task.id) == trashed_id))
    )
    assert left == 0
    missing = await client.post(f"/api/v1/tasks/{trashed_id}/restore", headers=member)
    assert missing.status_code == 404


async def test_who_may_restore_and_purge_is_who_may_delete(
    client: AsyncClient, session: AsyncSession
) -> None:
    project_id, headers, _ids = await make_team(client, session)
    task_id = await _task(client, headers["member"], project_id, "task")
    await client.delete(f"/api/v1/tasks/{task_id}", headers=headers["member"])
    stranger = headers["stranger"]
    assert (
        await client.post(f"/api/v1/tasks/{task_id}/restore", headers=stranger)
    ).status_code == 404
    assert (
        await client.delete(f"/api/v1/trash/tasks/{task_id}", headers=stranger)
    ).status_code == 404

    for role in ("member", "admin"):
        response = await client.delete(f"/api/v1/projects/{project_id}", headers=headers[role])
        assert response.status_code == 403
    owner = headers["owner"]
    assert (await client.delete(f"/api/v1/projects/{project_id}", headers=owner)).status_code == 204
    for role, status in (("admin", 403), ("member", 403), ("stranger", 404)):
        restore = await client.post(f"/api/v1/projects/{project_id}/restore", headers=headers[role])
        assert restore.status_code == status, role
        purge = await client.delete(f"/api/v1/trash/projects/{project_id}", headers=headers[role])
        assert purge.status_code == status, role


async def test_a_trashed_project_hides_everything_in_it_and_comes_back_as_it_was(
    client: AsyncClient, session: AsyncSession
) -> None:
    project_id, headers, ids = await make_team(client, session)
    owner, member = headers["owner"], headers["member"]
    tag = await client.post(
        f"/api/v1/projects/{project_id}/tags", json={"name": "x"}, headers=owner
    )
    assert tag.status_code == 201
    live_id = await _task(client, member, project_id, "live")
    own_trash_id = await _task(client, member, project_id, "trashed on its own")
    await client.delete(f"/api/v1/tasks/{own_trash_id}", headers=member)

    assert (await client.delete(f"/api/v1/projects/{project_id}", headers=owner)).status_code == 204
    for path in (
        f"/api/v1/projects/{project_id}",
        f"/api/v1/projects/{project_id}/members",
        f"/api/v1/projects/{project_id}/tags",
        f"/api/v1/tasks/{live_id}",
    ):
        assert (await client.get(path, headers=member)).status_code == 404, path
    assert await _task_ids(client, member) == set()
    assert await _task_ids(client, member, project_id=project_id) == set()
    projects = await client.get("/api/v1/projects", headers=member)
    assert projects.json()["items"] == []
    new_task = await client.post(
        "/api/v1/tasks", json={"title": "new", "project_id": project_id}, headers=member
    )
    assert new_task.status_code == 404
    assert await _trash(client, member) == [("project", project_id), ("task", own_trash_id)]

    blocked = await client.post(f"/api/v1/tasks/{own_trash_id}/restore", headers=member)
    assert blocked.status_code == 409
    assert "project is in the trash" in blocked.json()["detail"]

    restored = await client.post(f"/api/v1/projects/{project_id}/restore", headers=owner)
    assert restored.status_code == 200, restored.text
    assert restored.json()["id"] == project_id
    again = await client.post(f"/api/v1/projects/{project_id}/restore", headers=owner)
    assert again.status_code == 409
    assert "not in the trash" in again.json()["detail"]
    # Exactly the tasks that were not trashed on their own come back.
    assert await _task_ids(client, member, project_id=project_id) == {live_id}
    assert await _trash(client, member) == [("task", own_trash_id)]
    members = await client.get(f"/api/v1/projects/{project_id}/members", headers=member)
    assert {m["user_id"] for m in members.json()["items"]} >= {ids["owner"], ids["member"]}


async def test_deleting_a_trashed_project_for_good_takes_its_tasks(
    client: AsyncClient, session: AsyncSession
) -> None:
    project_id, headers, _ids = await make_team(client, session)
    owner = headers["owner"]
    task_ids = [await _task(client, owner, project_id, f"t{i}") for i in range(3)]
    live = await client.delete(f"/api/v1/trash/projects/{project_id}", headers=owner)
    assert live.status_code == 404  # not in the trash yet
    await client.delete(f"/api/v1/projects/{project_id}", headers=owner)
    assert (
        await client.delete(f"/api/v1/trash/projects/{project_id}", headers=owner)
    ).status_code == 204
    left = await session.scalar(
        include_trashed(select(func.count()).where(col(Task.id).in_(task_ids)))
    )
    assert left == 0
    assert await _trash(client, owner) == []
    restore = await client.post(f"/api/v1/projects/{project_id}/restore", headers=owner)
    assert restore.status_code == 404


async def test_the_trash_pages_with_cursors(client: AsyncClient, session: AsyncSession) -> None:
    project_id, headers, _ids = await make_team(client, session)
    member = headers["member"]
    task_ids = [await _task(client, member, project_id, f"t{i}") for i in range(5)]
    for task_id in task_ids:
        await client.delete(f"/api/v1/tasks/{task_id}", headers=member)
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/trash", params=params, headers=member)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(task_ids)
    assert len(seen) == len(set(seen))
    bad = await client.get("/api/v1/trash", params={"cursor": "nope"}, headers=member)
    assert bad.status_code == 422
