"""Demo data: `python -m taskflow.seed` (`make seed`). Idempotent and safe to run twice at once."""

import argparse
import asyncio
import sys
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.config import Settings, get_settings
from taskflow.database import create_engine, create_session_factory
from taskflow.models import (
    MemberRole,
    Project,
    ProjectCreate,
    ProjectMemberCreate,
    Tag,
    TagCreate,
    TaskCreate,
    TaskPriority,
    TaskStatus,
    User,
    UserCreate,
    utc_now,
)
from taskflow.security import hash_password
from taskflow.services.common import insert_ignoring_conflicts
from taskflow.services.members import add_member
from taskflow.services.projects import create_project
from taskflow.services.tags import create_tag
from taskflow.services.tasks import create_task

DEMO_PASSWORD = "taskflow-demo"  # noqa: S105  (published demo credentials)
USERS = [
    ("alice@example.com", "Alice Archer"),
    ("bob@example.com", "Bob Builder"),
    ("carol@example.com", "Carol Chen"),
    ("dave@example.com", "Dave Diaz"),
]
# name, description, owner, {member email: role}, tags
PROJECTS = [
    (
        "Website relaunch",
        "New marketing site and blog.",
        "alice@example.com",
        {"bob@example.com": MemberRole.ADMIN, "carol@example.com": MemberRole.MEMBER},
        ["design", "frontend", "bug", "content"],
    ),
    (
        "Mobile app",
        "iOS and Android clients.",
        "bob@example.com",
        {"alice@example.com": MemberRole.MEMBER, "dave@example.com": MemberRole.ADMIN},
        ["ios", "android", "bug", "release"],
    ),
]
# project index, title, status, priority, assignee email or None, due in days or None, tags
TASKS = [
    (0, "Draft the sitemap", TaskStatus.DONE, TaskPriority.HIGH, "alice@example.com", -10, ["content"]),
    (0, "Pick a colour palette", TaskStatus.DONE, TaskPriority.LOW, "carol@example.com", None, ["design"]),
    (0, "Build the landing page", TaskStatus.IN_PROGRESS, TaskPriority.HIGH, "bob@example.com", 5, ["frontend", "design"]),
    (0, "Fix broken footer links", TaskStatus.TODO, TaskPriority.MEDIUM, None, 2, ["bug", "frontend"]),
    (0, "Write launch blog post", TaskStatus.TODO, TaskPriority.LOW, "carol@example.com", 14, ["content"]),
    (0, "Set up analytics", TaskStatus.TODO, TaskPriority.MEDIUM, None, None, []),
    (1, "Push notification opt-in", TaskStatus.IN_PROGRESS, TaskPriority.MEDIUM, "dave@example.com", 7, ["ios", "android"]),
    (1, "Crash on Android 15 login", TaskStatus.TODO, TaskPriority.HIGH, "bob@example.com", 1, ["android", "bug"]),
    (1, "App Store screenshots", TaskStatus.TODO, TaskPriority.LOW, "alice@example.com", 21, ["ios", "release"]),
    (1, "Release 1.2 checklist", TaskStatus.DONE, TaskPriority.HIGH, "bob@example.com", -3, ["release"]),
    (1, "Dark mode", TaskStatus.IN_PROGRESS, TaskPriority.LOW, None, None, ["ios", "android"]),
    (1, "Offline sync spike", TaskStatus.TODO, TaskPriority.MEDIUM, "dave@example.com", 30, []),
]  # fmt: skip


@dataclass(frozen=True)
class SeedResult:
    created: bool
    users: int = 0
    projects: int = 0
    tasks: int = 0
    tags: int = 0


class SeedError(Exception):
    """A reason the seed cannot run, worded for the command line."""


async def seed(session: AsyncSession) -> SeedResult:
    """Add the demo data unless it is there. The caller commits."""
    hashed = await asyncio.to_thread(hash_password, DEMO_PASSWORD)
    # One run at a time: a transaction-scoped advisory lock on PostgreSQL; on SQLite the
    # INSERT below takes the database's write lock. A concurrent run waits, then finds
    # the demo projects there.
    if session.get_bind().dialect.name == "postgresql":
        await session.exec(text("SELECT pg_advisory_xact_lock(hashtext('taskflow.seed'))"))  # type: ignore[call-overload]
    users_table = SQLModel.metadata.tables["users"]
    await session.exec(
        insert_ignoring_conflicts(session, users_table).values(
            [
                User.model_validate(
                    UserCreate(email=email, full_name=name, password=DEMO_PASSWORD),
                    update={"hashed_password": hashed},
                ).model_dump(exclude={"id"})
                for email, name in USERS
            ]
        )
    )
    users = {
        user.email: user
        for user in (
            await session.exec(select(User).where(col(User.email).in_([e for e, _ in USERS])))
        ).all()
    }
    first_project, _description, first_owner = PROJECTS[0][:3]
    already = await session.scalar(
        select(Project.id).where(
            col(Project.owner_id) == users[first_owner].id, col(Project.name) == first_project
        )
    )
    if already is not None:
        return SeedResult(created=False)
    projects: list[Project] = []
    tags: dict[tuple[int, str], Tag] = {}
    for name, description, owner, members, tag_names in PROJECTS:
        project = await create_project(
            session,
            owner_id=_id(users[owner]),
            data=ProjectCreate(name=name, description=description),
        )
        project_id = _id(project)
        for email, role in members.items():
            await add_member(
                session,
                project_id=project_id,
                data=ProjectMemberCreate(user_id=_id(users[email]), role=role),
                actor_role=MemberRole.OWNER,
            )
        for tag_name in tag_names:
            tag = await create_tag(session, project_id=project_id, data=TagCreate(name=tag_name))
            tags[(len(projects), tag_name)] = tag
        projects.append(project)
    now = utc_now()
    for index, title, status, priority, assignee, due_days, tag_names in TASKS:
        await create_task(
            session,
            TaskCreate(
                project_id=_id(projects[index]),
                title=title,
                status=status,
                priority=priority,
                assignee_id=None if assignee is None else users[assignee].id,
                due_date=None if due_days is None else now + timedelta(days=due_days),
                tag_ids=[_id(tags[(index, name)]) for name in tag_names],
            ),
        )
    return SeedResult(
        created=True, users=len(USERS), projects=len(projects), tasks=len(TASKS), tags=len(tags)
    )


def _id(row: User | Tag | object) -> int:
    row_id = getattr(row, "id", None)
    assert isinstance(row_id, int)
    return row_id


async def _check_migrated(engine: AsyncEngine) -> None:
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    except (OSError, DBAPIError) as error:
        reason = str(getattr(error, "orig", error)).splitlines()[0]
        raise SeedError(f"cannot reach the database ({reason}); is it running?") from error
    if not {"alembic_version", "users", "tasks"} <= tables:
        raise SeedError("the database is not migrated: run `make migrate` first")


async def run(settings: Settings) -> SeedResult:
    """Check the database, seed it in one transaction, commit."""
    engine = create_engine(settings)
    try:
        await _check_migrated(engine)
        async with create_session_factory(engine)() as session, session.begin():
            return await seed(session)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m taskflow.seed", description=__doc__)
    parser.parse_args(argv)
    settings = get_settings()
    try:
        result = asyncio.run(run(settings))
    except SeedError as error:
        print(f"seed: {error}", file=sys.stderr)
        return 1
    if not result.created:
        print("seed: demo data already present; nothing changed.")
    else:
        print(
            f"seed: created {result.users} users, {result.projects} projects, "
            f"{result.tasks} tasks, {result.tags} tags."
        )
    print(f"seed: demo login {USERS[0][0]} / {DEMO_PASSWORD} (every demo user has this password)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
