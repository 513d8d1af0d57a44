"""The task queries other services use: filters, orders, keyset pages, tags, autocomplete."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert
from sqlalchemy.exc import PendingRollbackError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.errors import (
    InvalidCursorError,
    InvalidValueError,
    MissingReferenceError,
    NotFoundError,
)
from taskflow.models import (
    Project,
    Tag,
    Task,
    TaskCreate,
    TaskPriority,
    TaskRead,
    TaskStatus,
    TaskTag,
    TaskUpdate,
    User,
    UserSummary,
)
from taskflow.services.pagination import encode_cursor
from taskflow.services.tags import autocomplete_tags
from taskflow.services.tasks import (
    TaskFilter,
    TaskSort,
    create_task_read,
    get_task,
    list_tasks,
    read_task,
    read_tasks,
    update_task,
    update_task_by_id,
)
from taskflow.services.trash import trash_task
from tests.conftest import StatementCounter
from tests.factories import make_member, make_project, make_tag, make_task, make_user

T0 = datetime(2030, 1, 1, tzinfo=UTC)


async def _all_pages(session: AsyncSession, filters: TaskFilter, **kwargs: Any) -> list[Task]:
    seen: list[Task] = []
    cursor = None
    while True:
        page = await list_tasks(session, filters, cursor=cursor, **kwargs)
        seen.extend(page.items)
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


async def _project_with_tasks(
    session: AsyncSession, count: int
) -> tuple[User, Project, list[Task]]:
    owner = await make_user(session)
    project = await make_project(session, owner)
    priorities = list(TaskPriority)
    tasks = [
        await make_task(
            session,
            project,
            title=f"task {i:02d}",
            priority=priorities[i % 3],
            due_date=None if i % 4 == 0 else T0 + timedelta(days=i % 5),
        )
        for i in range(count)
    ]
    return owner, project, tasks


@pytest.mark.parametrize("sort", list(TaskSort))
async def test_pages_follow_the_sort_order_without_gaps_or_repeats(
    session: AsyncSession, sort: TaskSort
) -> None:
    _owner, project, tasks = await _project_with_tasks(session, 23)
    paged = await _all_pages(session, TaskFilter(project_id=project.id), sort=sort, limit=5)
    assert sorted(t.id or 0 for t in paged) == sorted(t.id or 0 for t in tasks)

    def key(task: Task) -> tuple[Any, ...]:
        if sort.field == "priority":
            return (TaskPriority(task.priority).rank, task.id)
        if sort.field == "created_at":
            return (task.created_at, task.id)
        return (task.due_date or T0, task.id)

    if sort.field == "due_date":
        dated = [t for t in tasks if t.due_date is not None]
        undated = [t for t in tasks if t.due_date is None]
        expected = sorted(dated, key=key, reverse=sort.descending) + sorted(
            undated, key=lambda t: t.id or 0, reverse=sort.descending
        )
    else:
        expected = sorted(tasks, key=key, reverse=sort.descending)
    assert [t.id for t in paged] == [t.id for t in expected]


async def test_priority_sorts_by_meaning(session: AsyncSession) -> None:
    _owner, project, _tasks = await _project_with_tasks(session, 6)
    page = await list_tasks(session, TaskFilter(project_id=project.id), sort=TaskSort.PRIORITY_DESC)
    assert [t.priority for t in page.items][:2] == [TaskPriority.HIGH, TaskPriority.HIGH]
    assert page.items[-1].priority == TaskPriority.LOW


async def test_rows_inserted_between_pages_are_neither_skipped_nor_repeated(
    session: AsyncSession,
) -> None:
    _owner, project, tasks = await _project_with_tasks(session, 10)
    filters = TaskFilter(project_id=project.id)
    first = await list_tasks(session, filters, sort=TaskSort.CREATED_AT, limit=4)
    newer = await make_task(session, project, title="added meanwhile")
    rest = await _all_pages(session, filters, sort=TaskSort.CREATED_AT, limit=4)
    ids = [t.id for t in first.items] + [t.id for t in rest[4:]]
    assert ids == [t.id for t in tasks] + [newer.id]


async def test_filters_narrow_the_list(session: AsyncSession) -> None:
    owner = await make_user(session)
    helper = await make_user(session)
    project = await make_project(session, owner)
    await make_member(session, project, helper)
    bug = await make_tag(session, project, "Bug")
    match = await make_task(
        session,
        project,
        title="Fix login",
        status=TaskStatus.IN_PROGRESS,
        priority=TaskPriority.HIGH,
        assignee_id=helper.id,
        due_date=T0,
        tag_ids=[bug.id],
    )
    await make_task(session, project, title="Write docs", due_date=T0 + timedelta(days=9))
    base = {"project_id": project.id}
    cases: list[dict[str, Any]] = [
        {"status": TaskStatus.IN_PROGRESS},
        {"priority": TaskPriority.HIGH},
        {"assignee_id": helper.id},
        {"tag": "bug"},
        {"q": "LOGIN"},
        {"due_before": T0 + timedelta(days=1)},
        {"due_after": T0 - timedelta(days=1), "due_before": T0 + timedelta(days=1)},
    ]
    for case in cases:
        page = await list_tasks(session, TaskFilter(**(base | case)))
        assert [t.id for t in page.items] == [match.id], case


async def test_search_treats_percent_and_underscore_literally(session: AsyncSession) -> None:
    owner = await make_user(session)
    project = await make_project(session, owner)
    literal = await make_task(session, project, title="100% done_now")
    await make_task(session, project, title="1000 donexnow")
    for q in ["100%", "done_now", "%", "_"]:
        page = await list_tasks(session, TaskFilter(project_id=project.id, q=q))
        assert [t.id for t in page.items] == [literal.id], q


async def test_search_covers_descriptions(session: AsyncSession) -> None:
    owner = await make_user(session)
    project = await make_project(session, owner)
    task = await make_task(session, project, title="t", description="Needle in a haystack")
    page = await list_tasks(session, TaskFilter(project_id=project.id, q="needle"))
    assert [t.id for t in page.items] == [task.id]


async def test_member_filter_returns_only_the_users_projects(session: AsyncSession) -> None:
    alice, bob = await make_user(session), await make_user(session)
    mine = await make_project(session, alice)
    theirs = await make_project(session, bob)
    visible = await make_task(session, mine)
    await make_task(session, theirs)
    page = await list_tasks(session, TaskFilter(member_id=alice.id))
    assert [t.id for t in page.items] == [visible.id]


async def test_a_page_costs_the_same_statements_whatever_its_size(
    session: AsyncSession, count_statements: StatementCounter
) -> None:
    owner, project, tasks = await _project_with_tasks(session, 60)
    tags = [await make_tag(session, project, f"tag{i}") for i in range(3)]
    for task in tasks:
        await update_task(
            session,
            await get_task(session, task.id or 0),
            TaskUpdate.model_validate({"tag_ids": [t.id for t in tags]}),
        )
    session.expunge_all()
    counts = []
    for limit in (1, 50):
        before = count_statements.count
        filters = TaskFilter(member_id=owner.id)
        page = await list_tasks(session, filters, limit=limit, with_assignee=True)
        payload = [TaskRead.model_validate(t) for t in page.items]
        assert all(len(item.tags) == 3 for item in payload)
        counts.append(count_statements.count - before)
        session.expunge_all()
    assert counts == [2, 2]  # tasks, their tags (no assignees here to load)


async def test_tampered_or_foreign_cursors_are_refused(session: AsyncSession) -> None:
    filters = TaskFilter()
    bad = [
        "not base64 !",
        "e30",  # "{}"
        encode_cursor("-created_at", "yesterday", 1),
        encode_cursor("-created_at", T0.isoformat(), "1"),  # type: ignore[arg-type]
        encode_cursor("priority", 99, 1),
        encode_cursor("due_date", T0.isoformat(), 1),  # issued for another sort
    ]
    for cursor in bad:
        with pytest.raises(InvalidCursorError):
            await list_tasks(session, filters, sort=TaskSort.CREATED_AT_DESC, cursor=cursor)


async def test_task_tags_must_belong_to_its_project(session: AsyncSession) -> None:
    owner = await make_user(session)
    project, other = await make_project(session, owner), await make_project(session, owner)
    foreign, own = await make_tag(session, other, "x"), await make_tag(session, project, "y")
    for tag_ids in ([foreign.id], [123456], [own.id, foreign.id], [foreign.id, own.id, own.id]):
        with pytest.raises(InvalidValueError, match="tag"):
            await make_task(session, project, tag_ids=tag_ids)
    # A refused create writes nothing, also for a caller that goes on and commits.
    await session.commit()
    assert (await session.exec(select(func.count()).select_from(Task))).one() == 0
    assert (await session.exec(select(func.count()).select_from(TaskTag))).one() == 0
    task = await make_task(session, project, tag_ids=[own.id, own.id])
    assert [tag.name for tag in task.tags] == ["y"]


async def test_a_created_task_is_the_sessions_own(session: AsyncSession) -> None:
    # On PostgreSQL the row is written by one statement, not by a flush: the task must
    # still be the session's, as if loaded, so that a later change to it is written.
    owner = await make_user(session)
    project = await make_project(session, owner)
    b, a = await make_tag(session, project, "b"), await make_tag(session, project, "a")
    task = await make_task(session, project, tag_ids=[b.id, a.id], assignee_id=owner.id)
    assert task.id is not None
    assert not session.new
    assert not session.dirty
    assert await session.get(Task, task.id) is task
    assert [tag.name for tag in task.tags] == ["a", "b"]
    assert task.assignee is not None
    assert task.assignee.id == owner.id
    created_at = task.created_at
    task.title = "changed"
    await session.commit()
    session.expunge_all()
    stored = await get_task(session, task.id)
    assert stored.title == "changed"
    assert stored.created_at == created_at
    assert [tag.name for tag in stored.tags] == ["a", "b"]
    links = await session.exec(select(TaskTag.task_created_at).where(TaskTag.task_id == task.id))
    assert set(links.all()) == {created_at}


async def test_assignee_must_be_a_member(session: AsyncSession) -> None:
    owner, stranger = await make_user(session), await make_user(session)
    project = await make_project(session, owner)
    with pytest.raises(InvalidValueError, match="member"):
        await make_task(session, project, assignee_id=stranger.id)


async def test_get_task_loads_tags_and_update_replaces_them(session: AsyncSession) -> None:
    owner = await make_user(session)
    project = await make_project(session, owner)
    a, b, c = [await make_tag(session, project, name) for name in "abc"]
    task = await make_task(session, project, tag_ids=[a.id, b.id])
    session.expunge_all()
    loaded = await get_task(session, task.id or 0)
    assert [t.name for t in loaded.tags] == ["a", "b"]
    await update_task(
        session, loaded, TaskUpdate.model_validate({"tag_ids": [c.id], "title": "  renamed "})
    )
    session.expunge_all()
    again = await get_task(session, task.id or 0)
    assert [t.name for t in again.tags] == ["c"]
    assert again.title == "renamed"


async def test_update_writes_what_changes_and_what_was_changed_by_hand(
    session: AsyncSession, count_statements: StatementCounter
) -> None:
    owner = await make_user(session)
    project = await make_project(session, owner)
    task = await make_task(session, project, status=TaskStatus.TODO)
    await session.commit()
    assert task.id is not None
    before = task.updated_at
    # The value it already has: nothing to write, and the task is not touched.
    count_statements.statements.clear()
    await update_task(session, task, TaskUpdate(status=TaskStatus.TODO))
    assert count_statements.count == 0
    assert task.updated_at == before
    # A change made by hand before the update is written with it.
    task.description = "by hand"
    await update_task(session, task, TaskUpdate(status=TaskStatus.DONE, title="new"))
    assert not session.dirty
    assert task.updated_at > before
    updated_at = task.updated_at
    await session.commit()
    session.expunge_all()
    stored = await get_task(session, task.id)
    assert (stored.status, stored.title, stored.description) == (TaskStatus.DONE, "new", "by hand")
    assert stored.updated_at == updated_at  # the object said what the row holds
    with pytest.raises(MissingReferenceError):
        await update_task(session, stored, TaskUpdate(project_id=987654))


async def test_update_fails_as_a_flush_would(session: AsyncSession) -> None:
    # The update is a Core statement, not a flush: what a flush would have done must hold.
    owner = await make_user(session)
    project = await make_project(session, owner)
    task = await make_task(session, project, status=TaskStatus.TODO)
    await session.commit()
    task_id = task.id
    assert task_id is not None
    # A change by hand is written even when the update itself changes nothing.
    task.description = "by hand"
    await update_task(session, task, TaskUpdate(status=TaskStatus.TODO))
    assert (await read_task(session, task_id)).description == "by hand"
    # An expired field is compared without being read (no IO outside the event loop).
    session.expire(task, ["description"])
    await update_task(session, task, TaskUpdate(description="new"))
    assert (await read_task(session, task_id)).description == "new"
    await session.commit()
    # A failed write rolls the transaction back, and the session refuses work, its commit
    # included, until the caller rolls back: nothing is committed as if the rest stood.
    await make_tag(session, project, "written before the failure")
    with pytest.raises(MissingReferenceError):
        await update_task(session, task, TaskUpdate(project_id=987654))
    with pytest.raises(PendingRollbackError):
        await read_task(session, task_id)
    with pytest.raises(PendingRollbackError):
        await session.commit()
    await session.rollback()
    assert (await session.exec(select(func.count()).select_from(Tag))).one() == 0
    # A task deleted since it was read is not found, not silently "updated".
    session.expunge_all()
    stale = await get_task(session, task_id)
    connection = await session.connection()  # as another writer would: the ORM not told
    await connection.execute(delete(TaskTag).where(col(TaskTag.task_id) == task_id))
    await connection.execute(delete(Task).where(col(Task.id) == task_id))
    with pytest.raises(NotFoundError):
        await update_task(session, stale, TaskUpdate(title="renamed"))


async def test_update_by_id_writes_once_and_returns_the_task_as_stored(
    session: AsyncSession, count_statements: StatementCounter
) -> None:
    owner, stranger = await make_user(session), await make_user(session)
    project = await make_project(session, owner)
    tag = await make_tag(session, project, "t")
    task = await make_task(session, project, tag_ids=[tag.id], assignee_id=owner.id)
    await session.commit()
    task_id, before = task.id, task.updated_at
    assert task_id is not None
    session.expunge_all()
    count_statements.statements.clear()
    change = TaskUpdate(status=TaskStatus.DONE, title="new", due_date=T0)
    updated = await update_task_by_id(session, task_id, change, writer_id=owner.id)
    # PostgreSQL: one UPDATE ... RETURNING; SQLite: the UPDATE, then the read.
    postgresql = session.get_bind().dialect.name == "postgresql"
    assert count_statements.count == (1 if postgresql else 2)
    assert count_statements.statements[0].lstrip().upper().startswith("UPDATE")
    assert (updated.status, updated.title, updated.due_date) == (TaskStatus.DONE, "new", T0)
    assert [t.name for t in updated.tags] == ["t"]
    assert updated.assignee == UserSummary(id=owner.id, full_name=owner.full_name)
    assert updated.updated_at > before
    await session.commit()
    assert await read_task(session, task_id) == updated
    # The values it already has: nothing written, `updated_at` kept.
    again = await update_task_by_id(session, task_id, change, writer_id=owner.id)
    assert again == updated
    # Not a member: as if the task did not exist, and nothing written.
    with pytest.raises(NotFoundError, match="task not found"):
        await update_task_by_id(session, task_id, TaskUpdate(title="x"), writer_id=stranger.id)
    # Moving needs the right in the other project too.
    other = await make_project(session, stranger)
    assert other.id is not None
    with pytest.raises(NotFoundError, match="project not found"):
        await update_task_by_id(
            session, task_id, TaskUpdate(project_id=other.id), writer_id=owner.id
        )
    await session.commit()
    assert (await read_task(session, task_id)) == updated
    # Nor is an id no row can have (PostgreSQL's INTEGER would refuse it as a value).
    for impossible in (0, 2**31):
        with pytest.raises(NotFoundError):
            await update_task_by_id(session, impossible, TaskUpdate(title="x"))
    # A trashed task is not found, even by its project's owner.
    await trash_task(session, task_id)
    with pytest.raises(NotFoundError):
        await update_task_by_id(session, task_id, TaskUpdate(title="x"), writer_id=owner.id)


async def test_update_by_id_keeps_a_task_in_the_session_true(session: AsyncSession) -> None:
    owner = await make_user(session)
    project = await make_project(session, owner)
    task = await make_task(session, project, status=TaskStatus.TODO)
    await session.commit()
    assert task.id is not None
    loaded = await get_task(session, task.id)
    updated = await update_task_by_id(session, task.id, TaskUpdate(status=TaskStatus.DONE))
    # The object the session holds is the one updated, not left stale behind it.
    assert loaded.status == updated.status == TaskStatus.DONE
    assert loaded.updated_at == updated.updated_at
    # Changes made by hand are written first, as before any statement.
    loaded.description = "by hand"
    await update_task_by_id(session, task.id, TaskUpdate(title="renamed"))
    await session.commit()
    session.expunge_all()
    stored = await read_task(session, task.id)
    assert (stored.title, stored.description) == ("renamed", "by hand")


async def test_create_read_writes_once_and_returns_the_task_as_stored(
    session: AsyncSession, count_statements: StatementCounter
) -> None:
    owner = await make_user(session)
    project = await make_project(session, owner)
    b, a = await make_tag(session, project, "b"), await make_tag(session, project, "a")
    await session.commit()
    count_statements.statements.clear()
    tag_ids = [b.id, a.id, b.id]  # once each
    fields = {"title": "new", "project_id": project.id, "tag_ids": tag_ids}
    data = TaskCreate.model_validate(fields | {"assignee_id": owner.id})
    created = await create_task_read(session, data)
    if session.get_bind().dialect.name == "postgresql":
        assert count_statements.count == 1  # tags checked, task inserted, tags linked
        assert not [o for o in session.identity_map.values() if isinstance(o, Task)]
    assert [t.name for t in created.tags] == ["a", "b"]
    assert created.assignee == UserSummary(id=owner.id, full_name=owner.full_name)
    assert created.status == TaskStatus.TODO
    assert created.created_at.tzinfo is not None
    await session.commit()
    assert created.id is not None
    assert await read_task(session, created.id) == created
    # Rolled back: nothing stored, nothing left in the session.
    gone = await create_task_read(session, TaskCreate.model_validate(fields | {"title": "gone"}))
    await session.rollback()
    assert gone.id is not None
    assert await session.get(Task, gone.id) is None


async def test_create_read_refuses_as_create_does_and_writes_nothing(
    session: AsyncSession,
) -> None:
    owner, stranger = await make_user(session), await make_user(session)
    project, other = await make_project(session, owner), await make_project(session, stranger)
    foreign = await make_tag(session, other, "foreign")
    await session.commit()
    fields = {"title": "x", "project_id": project.id}
    refused = [
        TaskCreate.model_validate(fields | {"tag_ids": [foreign.id]}),
        TaskCreate.model_validate(fields | {"assignee_id": stranger.id}),
    ]
    for data in refused:
        with pytest.raises(InvalidValueError):
            await create_task_read(session, data)
    # A failed statement fails as a failed flush does (SQLite's way): what came before is
    # rolled back, and nothing more is done or committed until the caller rolls back.
    earlier = await make_task(session, project, title="before the failure")
    with pytest.raises(MissingReferenceError):
        await create_task_read(session, TaskCreate(title="x", project_id=987654))
    assert earlier.id is not None
    with pytest.raises(PendingRollbackError):
        await read_task(session, earlier.id)
    with pytest.raises(PendingRollbackError):
        await session.commit()
    await session.rollback()
    assert (await session.exec(select(func.count()).select_from(Task))).one() == 0
    assert (await session.exec(select(func.count()).select_from(Tag))).one() == 1
    created = await create_task_read(session, TaskCreate.model_validate(fields))
    await session.commit()
    assert created.id is not None


async def test_a_create_rolled_back_leaves_the_session(session: AsyncSession) -> None:
    owner = await make_user(session)
    project = await make_project(session, owner)
    tag = await make_tag(session, project, "t")
    await session.commit()
    task = await make_task(session, project, title="gone", tag_ids=[tag.id])
    task_id = task.id
    await session.rollback()
    assert task not in session
    assert task.title == "gone"
    assert task_id is not None
    assert await session.get(Task, task_id) is None


async def test_missing_tasks_are_not_found(session: AsyncSession) -> None:
    with pytest.raises(NotFoundError):
        await get_task(session, 424242)
    with pytest.raises(NotFoundError):
        await trash_task(session, 424242)


async def _names(session: AsyncSession, project: Project, prefix: str, **kw: Any) -> list[str]:
    page = await autocomplete_tags(session, project_id=project.id or 0, prefix=prefix, **kw)
    return [t.name for t in page.items]


async def test_autocomplete_is_a_case_insensitive_prefix_match(session: AsyncSession) -> None:
    owner = await make_user(session)
    project, other = await make_project(session, owner), await make_project(session, owner)
    for name in ["Backend", "bug", "Build", "frontend", "b_x", "bxx"]:
        await make_tag(session, project, name)
    await make_tag(session, other, "bugzilla")
    assert await _names(session, project, "B") == ["b_x", "Backend", "bug", "Build", "bxx"]
    assert await _names(session, project, "b_") == ["b_x"]
    assert await _names(session, project, "BU") == ["bug", "Build"]


async def test_autocomplete_pages_follow_the_name_order(session: AsyncSession) -> None:
    owner = await make_user(session)
    project = await make_project(session, owner)
    for name in ["d", "B", "a", "C", "e"]:
        await make_tag(session, project, name)
    seen, cursor = [], None
    while True:
        page = await autocomplete_tags(session, project_id=project.id or 0, limit=2, cursor=cursor)
        seen += [t.name for t in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert seen == ["a", "B", "C", "d", "e"]


async def test_an_edited_cursor_is_refused(session: AsyncSession) -> None:
    _owner, project, _tasks = await _project_with_tasks(session, 3)
    filters = TaskFilter(project_id=project.id)
    page = await list_tasks(session, filters, sort=TaskSort.PRIORITY, limit=1)
    assert page.next_cursor is not None
    payload, signature = page.next_cursor.split(".")
    forged = encode_cursor("priority", 0, 999999).split(".")[0]
    other = "y" if signature.endswith("x") else "x"  # a signature that differs, always
    for cursor in (f"{forged}.{signature}", payload, f"{payload}.{signature[:-1]}{other}"):
        with pytest.raises(InvalidCursorError):
            await list_tasks(session, filters, sort=TaskSort.PRIORITY, cursor=cursor)


async def test_tags_and_assignees_load_in_constant_statements(
    session: AsyncSession, count_statements: StatementCounter
) -> None:
    owner = await make_user(session)
    project = await make_project(session, owner)
    helpers = [await make_user(session) for _ in range(3)]
    for helper in helpers:
        await make_member(session, project, helper)
    tag = await make_tag(session, project, "x")
    for i in range(50):
        await make_task(session, project, assignee_id=helpers[i % 3].id, tag_ids=[tag.id])
    session.expunge_all()
    before = count_statements.count
    page = await list_tasks(session, TaskFilter(project_id=project.id), with_assignee=True)
    assert len(page.items) == 50
    assert {t.assignee.email for t in page.items if t.assignee} == {h.email for h in helpers}
    assert all(t.tags[0].name == "x" for t in page.items)
    assert count_statements.count - before == 2  # tasks joined with assignees, then tags
    session.expunge_all()
    single = await get_task(session, page.items[0].id or 0, with_assignee=True)
    assert single.assignee is not None


async def test_setting_the_same_tags_twice_is_idempotent(session: AsyncSession) -> None:
    owner = await make_user(session)
    project = await make_project(session, owner)
    a, b = await make_tag(session, project, "a"), await make_tag(session, project, "b")
    task = await make_task(session, project, tag_ids=[a.id, a.id, b.id])
    assert [t.name for t in task.tags] == ["a", "b"]
    for _ in range(2):
        loaded = await get_task(session, task.id or 0)
        await update_task(session, loaded, TaskUpdate.model_validate({"tag_ids": [b.id]}))
    session.expunge_all()
    assert [t.name for t in (await get_task(session, task.id or 0)).tags] == ["b"]


async def test_the_read_path_returns_what_the_orm_path_does(session: AsyncSession) -> None:
    owner, project, tasks = await _project_with_tasks(session, 12)
    await update_task(
        session, await get_task(session, tasks[1].id or 0), TaskUpdate(assignee_id=owner.id)
    )
    tag_b, tag_a = await make_tag(session, project, "b"), await make_tag(session, project, "a")
    await update_task(
        session,
        await get_task(session, tasks[0].id or 0),
        TaskUpdate.model_validate({"tag_ids": [tag_b.id, tag_a.id]}),
    )
    session.expunge_all()
    for task in tasks:
        assert await read_task(session, task.id or 0) == TaskRead.model_validate(
            await get_task(session, task.id or 0, with_assignee=True)
        )
    assert [t.name for t in (await read_task(session, tasks[0].id or 0)).tags] == ["a", "b"]
    assigned = await read_task(session, tasks[1].id or 0)
    assert assigned.assignee == UserSummary(id=owner.id or 0, full_name=owner.full_name)
    assert (await read_task(session, tasks[2].id or 0)).assignee is None
    for sort in TaskSort:
        filters = TaskFilter(project_id=project.id)
        orm_page = await list_tasks(session, filters, sort=sort, limit=5, with_assignee=True)
        read_page = await read_tasks(session, filters, sort=sort, limit=5)
        assert read_page.items == [TaskRead.model_validate(t) for t in orm_page.items]
        assert read_page.next_cursor == orm_page.next_cursor
    with pytest.raises(NotFoundError):
        await read_task(session, 424242)


@pytest.mark.parametrize("sort", [TaskSort.CREATED_AT_DESC, TaskSort.CREATED_AT])
async def test_pages_across_projects_match_the_plain_query(
    session: AsyncSession, sort: TaskSort
) -> None:
    """On PostgreSQL read_tasks merges per-project or per-tag index scans (LATERAL); same
    rows, trashed tasks and other filters included."""
    me = await make_user(session)
    projects = [await make_project(session, me) for _ in range(3)]
    theirs = await make_project(session, await make_user(session))
    tags = [await make_tag(session, project, "bug") for project in projects]
    their_tag = await make_tag(session, theirs, "bug")
    their_task = await make_task(session, theirs, tag_ids=[their_tag.id])
    # A link the services never write (a task tagged with another project's tag) must
    # not show their task to me either.
    await session.exec(
        insert(TaskTag).values(
            task_id=their_task.id, tag_id=tags[0].id, task_created_at=their_task.created_at
        )
    )
    session.expire(their_task)  # its tags, as loaded, lack that link
    shouted = await make_tag(session, projects[0], "BUG")  # the same name, but for case
    statuses, priorities = list(TaskStatus), list(TaskPriority)
    for i in range(40):
        index = i % 3
        tag_ids = [tags[index].id] if i % 4 < 2 else []
        task = await make_task(
            session,
            projects[index],
            status=statuses[i % 2],
            priority=priorities[i % 3],
            title=f"task {i}" + (" urgent" if i % 3 == 1 else ""),
            tag_ids=tag_ids + ([shouted.id] if index == 0 and i % 2 == 0 else []),
        )
        if i % 5 == 0:
            await trash_task(session, task.id or 0)
    for extra in (
        {},
        {"status": TaskStatus.TODO},
        {"tag": "BUG"},
        {"tag": "bug", "status": TaskStatus.TODO},
        {"tag": "bug", "project_id": projects[1].id},
        {"tag": "bug", "priority": TaskPriority.HIGH},
        {"tag": "bug", "q": "urgent"},
        {"tag": "bug", "member_id": None},  # anyone's tasks, as the data layer allows
    ):
        filters = TaskFilter(**({"member_id": me.id} | extra))
        expected, cursor = [], None
        while True:
            page = await list_tasks(
                session, filters, sort=sort, limit=4, cursor=cursor, with_assignee=True
            )
            expected += [TaskRead.model_validate(t) for t in page.items]
            if (cursor := page.next_cursor) is None:
                break
        got, cursor = [], None
        while True:
            read_page = await read_tasks(session, filters, sort=sort, limit=4, cursor=cursor)
            got += read_page.items
            if (cursor := read_page.next_cursor) is None:
                break
        # Their task carries two tags named "bug" (the link above), in either order.
        assert [_by_tag_id(t) for t in got] == [_by_tag_id(t) for t in expected], extra
        assert len(got) > (2 if "q" in extra or "priority" in extra else 4), extra
        assert len({task.id for task in got}) == len(got), extra  # each task once
        if filters.member_id is not None:
            assert all(task.project_id != theirs.id for task in got)


def _by_tag_id(task: TaskRead) -> TaskRead:
    return task.model_copy(update={"tags": sorted(task.tags, key=lambda tag: tag.id)})
