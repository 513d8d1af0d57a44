"""What the database itself guarantees, on both engines, and how violations surface."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.errors import (
    DuplicateError,
    InvalidValueError,
    MissingReferenceError,
    ReferencedError,
    translate_integrity_error,
)
from taskflow.models import (
    MemberRole,
    Project,
    ProjectMember,
    Tag,
    Task,
    TaskCreate,
    TaskPriority,
    TaskStatus,
    TaskTag,
    User,
)
from taskflow.services.common import flush
from taskflow.services.tasks import create_task
from taskflow.services.users import delete_user, get_user_by_email
from tests.factories import make_member, make_project, make_tag, make_task, make_user


async def test_duplicate_email_in_another_case_is_a_duplicate_error(session: AsyncSession) -> None:
    await make_user(session, email="Same@Example.com")
    with pytest.raises(DuplicateError, match="email already exists"):
        await make_user(session, email="same@EXAMPLE.com")


async def test_email_lookup_ignores_case(session: AsyncSession) -> None:
    user = await make_user(session, email="mixed@example.com")
    assert await get_user_by_email(session, "  MIXED@Example.Com ") is user


async def test_the_database_refuses_an_upper_case_email(session: AsyncSession) -> None:
    with pytest.raises(IntegrityError, match="ck_users_email_lowercase"):
        await session.exec(  # type: ignore[call-overload]
            text(
                "INSERT INTO users (email, full_name, hashed_password, is_active, created_at,"
                " updated_at) VALUES ('UP@EXAMPLE.COM', 'U', 'x', true, now(), now())".replace(
                    "now()", "CURRENT_TIMESTAMP"
                )
            )
        )


async def test_foreign_keys_are_enforced(session: AsyncSession) -> None:
    with pytest.raises(MissingReferenceError):
        await create_task(session, TaskCreate(title="orphan", project_id=987654))


async def test_enum_values_are_stored_lower_case(session: AsyncSession) -> None:
    owner = await make_user(session)
    project = await make_project(session, owner)
    await make_task(session, project, status=TaskStatus.IN_PROGRESS, priority=TaskPriority.HIGH)
    row = (await session.exec(text("SELECT status, priority FROM tasks"))).one()  # type: ignore[call-overload]
    assert tuple(row) == ("in_progress", "high")
    role = await session.scalar(text("SELECT role FROM project_members"))
    assert role == "owner"


@pytest.mark.parametrize(
    ("column", "constraint"),
    [("status", "ck_tasks_task_status"), ("priority", "ck_tasks_task_priority")],
)
async def test_the_database_rejects_unknown_enum_values(
    session: AsyncSession, column: str, constraint: str
) -> None:
    owner = await make_user(session)
    project = await make_project(session, owner)
    task = await make_task(session, project)
    with pytest.raises(IntegrityError) as raised:
        await session.exec(  # type: ignore[call-overload]
            text(f"UPDATE tasks SET {column} = 'IN_PROGRESS' WHERE id = :id"),
            params={"id": task.id},
        )
    translated = translate_integrity_error(raised.value)
    assert isinstance(translated, InvalidValueError)
    assert constraint in translated.message


async def test_timestamps_read_back_as_aware_utc(session: AsyncSession) -> None:
    owner = await make_user(session)
    project = await make_project(session, owner)
    due = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
    task = await make_task(session, project, due_date=due)
    session.expunge_all()
    loaded = (await session.exec(select(Task).where(col(Task.id) == task.id))).one()
    for value in (loaded.created_at, loaded.updated_at, loaded.due_date):
        assert value is not None
        assert value.utcoffset() is not None
        assert value.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert loaded.due_date == due
    member = (await session.exec(select(ProjectMember))).first()
    assert member is not None
    assert member.joined_at.tzinfo is not None


async def test_server_defaults_fill_timestamps_for_raw_inserts(session: AsyncSession) -> None:
    await session.exec(  # type: ignore[call-overload]
        text(
            "INSERT INTO users (email, full_name, hashed_password, is_active)"
            " VALUES ('raw@example.com', 'Raw', 'x', true)"
        )
    )
    user = await get_user_by_email(session, "raw@example.com")
    assert user is not None
    assert user.created_at.tzinfo is not None
    assert user.updated_at.tzinfo is not None


async def test_updated_at_changes_on_every_orm_update(session: AsyncSession) -> None:
    owner = await make_user(session)
    project = await make_project(session, owner)
    before = project.updated_at
    project.name = "Renamed"
    session.add(project)
    await flush(session)
    assert project.updated_at > before
    assert project.created_at <= before


async def test_postgresql_trigger_updates_updated_at_for_raw_sql(
    backend: str, session: AsyncSession
) -> None:
    if backend != "postgresql":
        pytest.skip("the trigger is PostgreSQL-only; SQLite relies on the ORM's onupdate")
    owner = await make_user(session)
    project = await make_project(session, owner)
    old = datetime(2000, 1, 1, tzinfo=UTC)
    await session.exec(  # type: ignore[call-overload]
        text("UPDATE projects SET updated_at = :old WHERE id = :id"),
        params={"old": old, "id": project.id},
    )
    await session.exec(  # type: ignore[call-overload]
        text("UPDATE projects SET name = 'raw rename' WHERE id = :id"), params={"id": project.id}
    )
    value = await session.scalar(
        text("SELECT updated_at FROM projects WHERE id = :id"), params={"id": project.id}
    )
    assert value > old


async def test_deleting_a_project_cascades_to_tasks_members_tags_and_links(
    session: AsyncSession,
) -> None:
    owner = await make_user(session)
    other = await make_user(session)
    project = await make_project(session, owner)
    await make_member(session, project, other, MemberRole.ADMIN)
    tag = await make_tag(session, project, "bug")
    await make_task(session, project, tag_ids=[tag.id], assignee_id=other.id)
    keep = await make_project(session, other)
    await make_task(session, keep)
    await session.delete(project)
    await flush(session)
    session.expunge_all()
    for model in (Task, Tag, ProjectMember):
        rows = (await session.exec(select(model))).all()
        assert all(getattr(row, "project_id", None) == keep.id for row in rows), model
    assert (await session.exec(select(TaskTag))).all() == []


async def test_deleting_a_user_unassigns_their_tasks_and_ends_their_memberships(
    session: AsyncSession,
) -> None:
    owner = await make_user(session)
    leaver = await make_user(session)
    project = await make_project(session, owner)
    await make_member(session, project, leaver)
    task = await make_task(session, project, assignee_id=leaver.id)
    await delete_user(session, leaver)
    session.expunge_all()
    reloaded = await session.get(Task, task.id)
    assert reloaded is not None
    assert reloaded.assignee_id is None
    members = (await session.exec(select(ProjectMember.user_id))).all()
    assert leaver.id not in members


async def test_a_user_who_owns_projects_cannot_be_deleted(session: AsyncSession) -> None:
    owner = await make_user(session)
    await make_project(session, owner)
    with pytest.raises(ReferencedError, match="owns projects"):
        await delete_user(session, owner)


async def test_duplicate_membership_and_tag_names_are_duplicate_errors(
    session: AsyncSession,
) -> None:
    owner = await make_user(session)
    project = await make_project(session, owner)
    await make_tag(session, project, "bug")
    with pytest.raises(DuplicateError, match="tag with that name"):
        await make_tag(session, project, "bug")


async def test_owner_membership_cannot_be_added_twice(session: AsyncSession) -> None:
    owner = await make_user(session)
    project = await make_project(session, owner)
    with pytest.raises(DuplicateError, match="already a member"):
        await make_member(session, project, owner)


async def test_same_tag_name_is_fine_in_another_project(session: AsyncSession) -> None:
    owner = await make_user(session)
    first, second = await make_project(session, owner), await make_project(session, owner)
    await make_tag(session, first, "bug")
    await make_tag(session, second, "bug")


async def test_unloaded_relationships_fail_loudly(session: AsyncSession) -> None:
    owner = await make_user(session)
    project = await make_project(session, owner)
    await make_task(session, project)
    session.expunge_all()
    loaded = (await session.exec(select(Project))).first()
    assert loaded is not None
    with pytest.raises(Exception, match="lazy='raise'"):
        _ = loaded.tasks
    eager = (
        await session.exec(
            select(Project)
            .options(selectinload(Project.tasks))  # type: ignore[arg-type]
            .execution_options(populate_existing=True)
        )
    ).first()
    assert eager is not None
    assert len(eager.tasks) == 1
    user = (await session.exec(select(User))).first()
    assert user is not None
    with pytest.raises(Exception, match="lazy='raise'"):
        _ = user.memberships
