"""Demo data: `python -m taskflow.seed` (`make seed`). Idempotent and safe to run twice at once."""

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass
from datetime import timedelta

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import text
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.config import Settings, get_settings
from taskflow.database import (
    DatabaseNotReadyError,
    check_migrated,
    create_engine,
    create_session_factory,
)
from taskflow.datagen import Plan
from taskflow.large_seed import GENERATED_PASSWORD, RefusedError, load, peak_rss_mb
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
from taskflow.services.common import dialect_name, insert_ignoring_conflicts
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
        insert_ignoring_conflicts(dialect_name(session), users_table).values(
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


async def run(settings: Settings) -> SeedResult:
    """Check the database, seed it in one transaction, commit."""
    engine = create_engine(settings)
    try:
        await check_migrated(engine)
        async with create_session_factory(engine)() as session, session.begin():
            return await seed(session)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m taskflow.seed", description=__doc__)
    parser.add_argument(
        "--tasks", type=_positive, help="also load a large generated data set of this many tasks"
    )
    parser.add_argument("--random-seed", type=int, default=1, help="generated data's seed")
    parser.add_argument("--force", action="store_true", help="replace earlier generated data")
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        result = asyncio.run(run(settings))
        _report(result)
        if args.tasks:
            large = run_large(
                settings, tasks=args.tasks, random_seed=args.random_seed, force=args.force
            )
            print(large)
    except (DatabaseNotReadyError, RefusedError) as error:
        print(f"seed: {error}", file=sys.stderr)
        return 1
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _report(result: SeedResult) -> None:
    if not result.created:
        print("seed: demo data already present; nothing changed.")
    else:
        print(
            f"seed: created {result.users} users, {result.projects} projects, "
            f"{result.tasks} tasks, {result.tags} tags."
        )
    print(f"seed: demo login {USERS[0][0]} / {DEMO_PASSWORD} (every demo user has this password)")


def run_large(settings: Settings, *, tasks: int, random_seed: int, force: bool) -> str:
    """Load the generated data set with a progress bar; returns the summary line."""
    plan = Plan.for_tasks(tasks)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns) as bar:
        users = bar.add_task("users", total=plan.users, rate="")
        loaded = bar.add_task("tasks", total=plan.tasks, rate="")
        started = time.perf_counter()

        def advance(table: str, count: int) -> None:
            task_id = users if table == "users" else loaded
            bar.advance(task_id, count)
            done = bar.tasks[task_id].completed
            rate = done / max(time.perf_counter() - started, 1e-9)
            bar.update(task_id, rate=f"{rate:,.0f} {table}/s")

        result = asyncio.run(
            load(settings, tasks=tasks, random_seed=random_seed, force=force, progress=advance)
        )
    return (
        f"seed: loaded {plan.tasks:,} tasks, {plan.projects:,} projects, {plan.users:,} users "
        f"({result.rows:,} rows) in {result.seconds:.1f} s, {result.rows_per_second:,.0f} rows/s, "
        f"peak memory {peak_rss_mb():.0f} MiB; generated users' password: {GENERATED_PASSWORD}"
    )


if __name__ == "__main__":
    sys.exit(main())
