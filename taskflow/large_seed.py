"""A large, realistic data set for load tests: `python -m taskflow.seed --tasks N`.

Loads through the data layer's bulk path (COPY on PostgreSQL), one transaction per batch of
whole projects, so an interrupted load leaves no half-written project behind.
"""

import asyncio
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.config import Settings
from taskflow.database import check_migrated, create_engine, create_session_factory
from taskflow.datagen import COLUMNS, GENERATED_DOMAIN, Batch, Generator, Plan
from taskflow.models import utc_now
from taskflow.security import hash_password
from taskflow.services import bulk

__all__ = ["GENERATED_PASSWORD", "LoadResult", "RefusedError", "load", "peak_rss_mb"]

GENERATED_PASSWORD = "generated-password"  # noqa: S105  (published load-test credentials)
ID_TABLES = ("users", "projects", "project_members", "tags", "tasks")

Progress = Callable[[str, int], None]
"""Called with a table name and the number of rows just committed."""


class RefusedError(Exception):
    """The load would mix with an earlier one; the message says what to do."""


@dataclass(frozen=True)
class LoadResult:
    plan: Plan
    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def load(
    settings: Settings,
    *,
    tasks: int,
    random_seed: int = 1,
    force: bool = False,
    progress: Progress | None = None,
    tasks_per_batch: int = 20_000,
) -> LoadResult:
    """Generate and load `tasks` tasks with their users, projects, members and tags."""
    engine = create_engine(settings)
    started = time.perf_counter()
    rows = 0
    try:
        await check_migrated(engine)
        sessions = create_session_factory(engine)
        async with sessions() as session, session.begin():
            if await bulk.users_in_domain(session, GENERATED_DOMAIN):
                if not force:
                    raise RefusedError(
                        "the database already holds generated data; pass --force to replace it"
                    )
                await bulk.delete_users_by_domain(session, GENERATED_DOMAIN)
            first_ids = await bulk.next_ids(session, ID_TABLES)
        password_hash = await asyncio.to_thread(hash_password, GENERATED_PASSWORD)
        generator = Generator(
            Plan.for_tasks(tasks),
            seed=random_seed,
            first_ids=first_ids,
            password_hash=password_hash,
            now=utc_now(),
        )
        async with sessions() as session, session.begin():
            for users in generator.users():
                await bulk.copy_rows(session, "users", COLUMNS["users"], users)
                rows += len(users)
                if progress:
                    progress("users", len(users))
        for batch in generator.project_batches(tasks_per_batch):
            async with sessions() as session, session.begin():
                rows += await _load_batch(session, batch)
            if progress:
                progress("tasks", batch.tasks)
        async with sessions() as session, session.begin():
            await bulk.reset_sequences(session, ID_TABLES)
    finally:
        await engine.dispose()
    return LoadResult(plan=generator.plan, rows=rows, seconds=time.perf_counter() - started)


async def _load_batch(session: AsyncSession, batch: Batch) -> int:
    # Parents before children, so foreign keys hold at every statement.
    for table in ("projects", "project_members", "tags", "tasks", "task_tags"):
        await bulk.copy_rows(session, table, COLUMNS[table], batch.rows[table])
    return sum(len(rows) for rows in batch.rows.values())
