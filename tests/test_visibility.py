"""Every query function of the data layer hides trashed rows (taskflow.services.visibility).

The first test lists the services' async functions and fails when one is neither checked
here nor exempt with a reason, so a new query cannot skip this file.
"""

import importlib
import inspect
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

import taskflow.services
from taskflow.errors import InvalidValueError, NotFoundError
from taskflow.models import MemberRole, Project, Tag, Task, TaskUpdate
from taskflow.services import access, members, projects, tags, tasks, trash, users
from taskflow.services.access import Permission
from taskflow.services.tasks import TaskFilter
from tests.factories import make_member, make_project, make_tag, make_task, make_user


@dataclass
class World:
    """A member of a live project and of a trashed one; a live, a trashed, a hidden task."""

    user_id: int
    live_project: Project
    trashed_project: Project
    live_task: Task
    trashed_task: Task
    task_of_trashed_project: Task
    tag_of_trashed_project: Tag


@pytest.fixture
async def world(session: AsyncSession) -> World:
    owner, user = await make_user(session), await make_user(session)
    live, gone = await make_project(session, owner), await make_project(session, owner)
    for project in (live, gone):
        await make_member(session, project, user, MemberRole.ADMIN)
    tag = await make_tag(session, gone, "hidden")
    live_task = await make_task(session, live, title="live task", assignee_id=user.id)
    trashed_task = await make_task(session, live, title="trashed task", assignee_id=user.id)
    hidden_task = await make_task(
        session, gone, title="task of a trashed project", assignee_id=user.id, tag_ids=[tag.id]
    )
    assert user.id is not None
    await trash.trash_task(session, _id(trashed_task))
    await trash.trash_project(session, _id(gone))
    session.expunge_all()  # nothing answered from the identity map
    return World(user.id, live, gone, live_task, trashed_task, hidden_task, tag)


def _id(row: Project | Task | Tag) -> int:
    assert row.id is not None
    return row.id


async def _raises_not_found(call: Awaitable[object]) -> None:
    with pytest.raises(NotFoundError):
        await call


async def _get_task(s: AsyncSession, w: World) -> None:
    assert (await tasks.get_task(s, _id(w.live_task))).id == w.live_task.id
    for task in (w.trashed_task, w.task_of_trashed_project):
        await _raises_not_found(tasks.get_task(s, _id(task)))


async def _read_task(s: AsyncSession, w: World) -> None:
    assert (await tasks.read_task(s, _id(w.live_task), member_id=w.user_id)).id == w.live_task.id
    for task in (w.trashed_task, w.task_of_trashed_project):
        await _raises_not_found(tasks.read_task(s, _id(task)))
        await _raises_not_found(tasks.read_task(s, _id(task), member_id=w.user_id))


async def _update_task_by_id(s: AsyncSession, w: World) -> None:
    change = TaskUpdate(title="renamed")
    updated = await tasks.update_task_by_id(s, _id(w.live_task), change, writer_id=w.user_id)
    assert updated.title == "renamed"
    for task in (w.trashed_task, w.task_of_trashed_project):
        # Not found means not written either: the UPDATE returns the rows it wrote.
        await _raises_not_found(tasks.update_task_by_id(s, _id(task), change))
        await _raises_not_found(tasks.update_task_by_id(s, _id(task), change, writer_id=w.user_id))


def _filters(w: World) -> list[TaskFilter]:
    return [
        TaskFilter(member_id=w.user_id),
        TaskFilter(member_id=w.user_id, project_id=_id(w.trashed_project)),
        TaskFilter(member_id=w.user_id, project_id=_id(w.live_project)),
        TaskFilter(assignee_id=w.user_id),
        TaskFilter(member_id=w.user_id, q="task"),
        TaskFilter(member_id=w.user_id, tag="hidden"),
    ]


async def _list_tasks(s: AsyncSession, w: World) -> None:
    seen: set[int | None] = set()
    for filters in _filters(w):
        seen |= {t.id for t in (await tasks.list_tasks(s, filters)).items}
    assert seen == {w.live_task.id}


async def _read_tasks(s: AsyncSession, w: World) -> None:
    seen: set[int | None] = set()
    for filters in _filters(w):
        seen |= {t.id for t in (await tasks.read_tasks(s, filters)).items}
    assert seen == {w.live_task.id}


async def _get_project(s: AsyncSession, w: World) -> None:
    assert (await projects.get_project(s, _id(w.live_project))).id == w.live_project.id
    await _raises_not_found(projects.get_project(s, _id(w.trashed_project)))


async def _list_projects(s: AsyncSession, w: World) -> None:
    page = await projects.list_projects(s, member_id=w.user_id)
    assert [p.id for p in page.items] == [w.live_project.id]


async def _require_project(s: AsyncSession, w: World) -> None:
    for project, visible in ((w.live_project, True), (w.trashed_project, False)):
        call = access.require_project(
            s, project_id=_id(project), user_id=w.user_id, permission=Permission.READ
        )
        if visible:
            await call
        else:
            await _raises_not_found(call)


def _role_check(
    require: Callable[..., Awaitable[MemberRole]],
) -> Callable[[AsyncSession, World], Awaitable[None]]:
    """A check for `access.require_role` or a function with its signature."""

    async def check(s: AsyncSession, w: World) -> None:
        read = Permission.READ
        live, gone = _id(w.live_project), _id(w.trashed_project)
        assert await require(s, project_id=live, user_id=w.user_id, permission=read)
        await _raises_not_found(require(s, project_id=gone, user_id=w.user_id, permission=read))

    return check


async def _get_membership(s: AsyncSession, w: World) -> None:
    live, gone = _id(w.live_project), _id(w.trashed_project)
    assert await members.get_membership(s, project_id=live, user_id=w.user_id) is not None
    assert await members.get_membership(s, project_id=gone, user_id=w.user_id) is None


async def _list_members(s: AsyncSession, w: World) -> None:
    assert (await members.list_members(s, project_id=_id(w.live_project))).items
    assert not (await members.list_members(s, project_id=_id(w.trashed_project))).items


async def _autocomplete_tags(s: AsyncSession, w: World) -> None:
    live_tag = await make_tag(s, w.live_project, "hidden")
    for project, expected in ((w.live_project, [live_tag.id]), (w.trashed_project, [])):
        page = await tags.autocomplete_tags(s, project_id=_id(project), prefix="hid")
        assert [t.id for t in page.items] == expected


async def _get_project_tags(s: AsyncSession, w: World) -> None:
    tag = w.tag_of_trashed_project
    with pytest.raises(InvalidValueError):
        await tags.get_project_tags(s, project_id=_id(w.trashed_project), tag_ids=[_id(tag)])


CHECKS: dict[str, Callable[[AsyncSession, World], Awaitable[None]]] = {
    "tasks.get_task": _get_task,
    "tasks.read_task": _read_task,
    "tasks.list_tasks": _list_tasks,
    "tasks.read_tasks": _read_tasks,
    "tasks.update_task_by_id": _update_task_by_id,
    "projects.get_project": _get_project,
    "projects.list_projects": _list_projects,
    "access.require_project": _require_project,
    "access.require_role": _role_check(access.require_role),
    "access.require_task_role": _role_check(access.require_task_role),
    "members.get_membership": _get_membership,
    "members.list_members": _list_members,
    "tags.autocomplete_tags": _autocomplete_tags,
    "tags.get_project_tags": _get_project_tags,
}

EXEMPT = {
    # Writes: they reach rows through the reads above (a trashed task cannot be loaded to
    # be updated), or create rows.
    **dict.fromkeys(
        [
            "tasks.create_task",
            "tasks.create_task_read",
            "tasks.update_task",
            "projects.create_project",
            "projects.update_project",
            "members.add_member",
            "members.update_member",
            "members.remove_member",
            "tags.create_tag",
            "tags.delete_tag",
        ],
        "a write",
    ),
    # The trash itself: it sees trashed rows on purpose (tests/api/test_trash.py).
    **dict.fromkeys(
        [f"trash.{name}" for name in trash.__all__ if name != "TrashedTask"], "the trash"
    ),
    # Users are never trashed.
    **dict.fromkeys([f"users.{name}" for name in users.__all__], "users are not trashed"),
    # Generic helpers and the bulk loader, not queries of an entity.
    **dict.fromkeys(
        [
            "common.fetch_all",
            "common.fetch_dicts",
            "common.fetch_scalar",
            "common.execute_write",
            "common.flush",
            "pagination.page_by_id",
        ],
        "a helper",
    ),
    **dict.fromkeys(
        [
            "bulk.copy_rows",
            "bulk.delete_users_by_domain",
            "bulk.next_ids",
            "bulk.reset_sequences",
            "bulk.users_in_domain",
        ],
        "the large seed's loader",
    ),
}


def _service_functions() -> set[str]:
    found = set()
    for info in pkgutil.iter_modules(taskflow.services.__path__):
        module = importlib.import_module(f"taskflow.services.{info.name}")
        for name in getattr(module, "__all__", []):
            if inspect.iscoroutinefunction(getattr(module, name)):
                found.add(f"{info.name}.{name}")
    return found


def test_every_service_function_is_checked_or_exempt() -> None:
    assert _service_functions() == set(CHECKS) | set(EXEMPT)
    assert not set(CHECKS) & set(EXEMPT)


@pytest.mark.parametrize("name", sorted(CHECKS))
async def test_query_function_hides_trashed_rows(
    name: str, session: AsyncSession, world: World
) -> None:
    await CHECKS[name](session, world)


async def test_a_trashed_task_cannot_be_updated(session: AsyncSession, world: World) -> None:
    await _raises_not_found(tasks.get_task(session, _id(world.trashed_task)))
    live = await tasks.get_task(session, _id(world.live_task))
    updated = await tasks.update_task(session, live, TaskUpdate(title="renamed"))
    assert updated.title == "renamed"
