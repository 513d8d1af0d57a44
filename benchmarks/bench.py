"""`make bench`: TaskFlow's data layer side by side with hand-written asyncpg, on PostgreSQL.

Builds its own database for each size (migrated with the project's migrations, filled by
the large seed), checks that every data-layer operation returns the same data as its raw
twin, then times them in rotated rounds in one process. Prints one table per size and
writes the same as JSON under benchmarks/results/. Also prints each list query's access
path on `tasks`, and each page's p50 at the largest size over the smallest, timed side by
side.
"""

import argparse
import asyncio
import itertools
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from rich.console import Console
from rich.table import Table
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from benchmarks import layer, raw
from benchmarks.http import measure_http
from taskflow.config import Settings, normalize_database_url
from taskflow.database import create_engine, create_session_factory
from taskflow.datagen import BENCH_EMAIL, COLUMNS, Generator, Plan
from taskflow.large_seed import load
from taskflow.models import utc_now
from taskflow.services import bulk
from taskflow.services.tasks import TaskSort, read_query

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
console = Console(width=150)

Call = Callable[[], Awaitable[Any]]


@dataclass
class Variant:
    """One operation, done both ways."""

    name: str
    layer: Call
    raw: Call
    kind: str = "read"
    # Applied only when checking that both ways return the same data, never while timing.
    layer_shape: Callable[[Any], Any] = lambda value: value
    raw_shape: Callable[[Any], Any] = lambda value: value
    compare: Callable[[Any], Any] = lambda value: value
    # Run, untimed, after each timed stretch: takes out what a write added, so that the
    # reads measure the generated data and not thousands of the benchmark's own rows.
    cleanup: Call | None = None


@dataclass
class Timing:
    ops: list[float] = field(default_factory=list)  # ops/s of each round
    latencies: list[float] = field(default_factory=list)  # seconds

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.latencies)
        return {
            "ops_per_s": statistics.median(self.ops),
            "p50_ms": 1000 * ordered[len(ordered) // 2],
            "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        }


class QueryCounter:
    """Counts round trips, and of those the SQL statements an operation sends.

    Raw connections: asyncpg's query log, where BEGIN, COMMIT and ROLLBACK are round trips
    but no statements, nor is the reset query asyncpg's pool sends when a connection comes
    back. The engine: SQLAlchemy's events (its asyncpg adapter runs statements through
    prepared statements, which asyncpg does not log), with BEGIN and COMMIT/ROLLBACK
    counted as round trips unless in autocommit.

    The engine's listeners are there only while counting: with them, `fetch_all` leaves
    its reads to SQLAlchemy (so that they are seen), which sends the same statements."""

    def __init__(self) -> None:
        self.round_trips = 0
        self.statements = 0
        self._resets: set[str] = set()

    def _logged(self, record: Any) -> None:
        self.round_trips += 1
        if record.query not in self._resets and not _TRANSACTION_CONTROL.match(record.query):
            self.statements += 1

    def _executed(self, *_args: Any) -> None:
        self.round_trips += 1
        self.statements += 1

    def attach(self, connection: asyncpg.Connection) -> None:
        self._resets.add(connection.get_reset_query())
        connection.add_query_logger(self._logged)

    def listen(self, engine: Any) -> None:
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", self._executed)
        for name in ("begin", "commit", "rollback"):
            event.listen(sync_engine, name, self._transaction_control)

    def unlisten(self, engine: Any) -> None:
        sync_engine = engine.sync_engine
        event.remove(sync_engine, "before_cursor_execute", self._executed)
        for name in ("begin", "commit", "rollback"):
            event.remove(sync_engine, name, self._transaction_control)

    def _transaction_control(self, connection: Any) -> None:
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            self.round_trips += 1


_TRANSACTION_CONTROL = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|START TRANSACTION)\b", re.I)


def paired_ratio(mine: Timing, theirs: Timing) -> float:
    """The median of each round's own ops/s ratio: both sides of a round run back to back,
    the fairest pair on a machine whose speed drifts between rounds (as for HTTP)."""
    return statistics.median(a / b for a, b in zip(mine.ops, theirs.ops, strict=True))


async def time_call(call: Call, duration: float, timing: Timing) -> None:
    count, started = 0, time.perf_counter()
    while True:
        begin = time.perf_counter()
        await call()
        end = time.perf_counter()
        timing.latencies.append(end - begin)
        count += 1
        if end - started >= duration and count >= 3:
            break
    timing.ops.append(count / (time.perf_counter() - started))


async def build_variants(
    sessions: Any, readers: Any, pool: asyncpg.Pool, ids: dict[str, Any]
) -> list[Variant]:
    """Reads go through read-only sessions, as GET requests do; writes through normal ones."""
    user = ids["user"]
    variants = [
        Variant(
            "get task with tags",
            lambda: layer.get_task(readers, ids["task"]),
            lambda: _with(pool, lambda c: raw.get_task(c, ids["task"])),
            layer_shape=layer.shape,
            raw_shape=raw.shape,
        ),
        Variant(
            "membership check",
            lambda: layer.membership(readers, project_id=ids["project"], user_id=user),
            lambda: _with(
                pool, lambda c: raw.membership(c, project_id=ids["project"], user_id=user)
            ),
        ),
        Variant(
            "tag autocomplete",
            lambda: layer.autocomplete(readers, project_id=ids["project"], prefix="b"),
            lambda: _with(
                pool, lambda c: raw.autocomplete(c, project_id=ids["project"], prefix="b")
            ),
            layer_shape=layer.shape_tags,
            raw_shape=raw.shape_tags,
        ),
    ]
    for shape, value in (
        ("all projects", None),
        ("project", ids["project"]),
        ("status", "todo"),
        ("tag", ids["tag"]),
        ("search", "login"),
    ):
        pages = ("first", "20th") if shape != "search" else ("first",)
        for which in pages:
            cursor, after = (None, None)
            if which == "20th":
                cursor, after = await _positions(readers, pool, user, shape, value, 19)
                if cursor is None:
                    console.print(f"[yellow]no 20th page for {shape}: too few rows[/yellow]")
                    continue
            variants.append(
                Variant(
                    f"page of 50 with tags, {shape}, {which}",
                    _layer_page(readers, user, shape, value, cursor),
                    _raw_page(pool, user, shape, value, after),
                    layer_shape=lambda rows: [layer.shape(read) for read in rows],
                    raw_shape=lambda rows: [raw.shape(row) for row in rows],
                )
            )
    counter = iter(range(10**9))
    statuses = itertools.cycle(["in_progress", "todo"])
    variants += [
        Variant(
            "create task with 3 tags",
            lambda: layer.create_task(
                sessions,
                project_id=ids["project"],
                title=f"bench {next(counter)}",
                tag_ids=ids["tags"],
            ),
            lambda: _with(
                pool,
                lambda c: raw.create_task(
                    c,
                    project_id=ids["project"],
                    title=f"bench {next(counter)}",
                    tag_ids=ids["tags"],
                ),
            ),
            kind="write",
            layer_shape=layer.shape,
            raw_shape=raw.shape_created,
            compare=lambda shape: (shape[2:],),  # ids and titles differ by design
            cleanup=lambda: _with(pool, lambda c: _delete_created(c, ids["project"])),
        ),
        Variant(
            "update task status",
            lambda: layer.update_status(sessions, task_id=ids["task"], status=next(statuses)),
            lambda: _with(
                pool, lambda c: raw.update_status(c, task_id=ids["task"], status=next(statuses))
            ),
            kind="write",
            layer_shape=layer.shape,
            raw_shape=raw.shape,
            # Each call sets the other status, whichever side made the last one: setting
            # the value a task already has writes nothing through the ORM (no UPDATE).
            compare=lambda shape: shape[:2] + shape[3:],
        ),
    ]
    return variants


async def _delete_created(connection: asyncpg.Connection, project_id: int) -> None:
    """The tasks the create variant made (their links go with them: ON DELETE CASCADE).

    Left in place, each round added a thousand or so tasks with the same three tags to
    the project the pages read, and the first pages of that project, of the caller's
    projects and of the status filter measured those instead of the generated backlog.
    """
    await connection.execute(
        "DELETE FROM tasks WHERE project_id = $1 AND title LIKE 'bench %'", project_id
    )


def _layer_page(sessions: Any, user: int, shape: str, value: Any, cursor: str | None) -> Call:
    async def call() -> Any:
        rows, _next = await layer.page(
            sessions, user_id=user, shape=shape, value=value, cursor=cursor
        )
        return rows

    return call


def _raw_page(pool: asyncpg.Pool, user: int, shape: str, value: Any, after: Any) -> Call:
    async def call() -> Any:
        rows, _last = await _with(
            pool, lambda c: raw.page(c, user_id=user, shape=shape, value=value, after=after)
        )
        return rows

    return call


async def _positions(
    sessions: Any, pool: asyncpg.Pool, user: int, shape: str, value: Any, pages: int
) -> tuple[str | None, Any]:
    """The data layer's cursor and the raw keyset position after `pages` pages."""
    cursor, after = None, None
    for page_number in range(pages):
        if page_number and cursor is None:
            return None, None
        _rows, cursor = await layer.page(
            sessions, user_id=user, shape=shape, value=value, cursor=cursor
        )
        async with pool.acquire() as connection:
            _raw_rows, after = await raw.page(
                connection, user_id=user, shape=shape, value=value, after=after
            )
    return cursor, after


async def _with(pool: asyncpg.Pool, fn: Callable[[asyncpg.Connection], Awaitable[Any]]) -> Any:
    async with pool.acquire() as connection:
        return await fn(connection)


async def discover(url: str) -> dict[str, Any]:
    """The benchmark user, one of its projects, a task, a common tag and three tag ids."""
    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        user = await conn.fetchval("SELECT id FROM users WHERE email = $1", BENCH_EMAIL)
        # The largest of its projects, so that a 20th page exists within it.
        project = await conn.fetchval(
            "SELECT m.project_id FROM project_members m "
            "JOIN tasks t ON t.project_id = m.project_id WHERE m.user_id = $1 "
            "GROUP BY m.project_id ORDER BY count(*) DESC, m.project_id LIMIT 1",
            user,
        )
        task = await conn.fetchval(
            "SELECT id FROM tasks WHERE project_id = $1 ORDER BY id LIMIT 1", project
        )
        # The tasks a tag-filtered page reads and sorts: how common the tag is, which
        # differs from one generated data set to another.
        tag, tag_tasks = await conn.fetchrow(
            "SELECT g.name, count(*) FROM task_tags tt JOIN tags g ON g.id = tt.tag_id "
            "JOIN project_members m ON m.project_id = g.project_id AND m.user_id = $1 "
            "GROUP BY g.name ORDER BY count(*) DESC LIMIT 1",
            user,
        )
        tags = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM tags WHERE project_id = $1 ORDER BY id LIMIT 3", project
            )
        ]
    finally:
        await conn.close()
    return {
        "user": user,
        "project": project,
        "task": task,
        "tag": tag,
        "tag_tasks": tag_tasks,
        "tags": tags,
    }


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def run_size(url: str, ids: dict[str, Any], duration: float, rounds: int) -> dict[str, Any]:
    settings = Settings(database_url=url)
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    readers = create_session_factory(engine, read_only=True)
    layer_counter, raw_counter = QueryCounter(), QueryCounter()
    dsn = _asyncpg_dsn(url)
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=settings.pool_size)
    # Raw's statements are counted through a pool of their own: with a query logger on a
    # connection asyncpg times and records every query, which the timed calls must not pay.
    counting = await asyncpg.create_pool(dsn, min_size=1, max_size=2, init=_attach(raw_counter))
    results: dict[str, Any] = {}
    try:
        variants = await build_variants(sessions, readers, pool, ids)
        counted = {v.name: v.raw for v in await build_variants(sessions, readers, counting, ids)}
        for variant in variants:  # same data both ways, and statements per operation
            got = variant.compare(variant.layer_shape(await variant.layer()))
            want = variant.compare(variant.raw_shape(await variant.raw()))
            if got != want:
                raise SystemExit(
                    f"bench: {variant.name}: the data layer and raw asyncpg differ\n"
                    f"  layer: {str(got)[:300]}\n  raw:   {str(want)[:300]}"
                )
            layer_counter.listen(engine)
            try:
                layer_statements, layer_round_trips = await _per_op(layer_counter, variant.layer)
            finally:
                layer_counter.unlisten(engine)
            raw_statements, raw_round_trips = await _per_op(raw_counter, counted[variant.name])
            results[variant.name] = {
                "layer_statements": layer_statements,
                "raw_statements": raw_statements,
                "layer_round_trips": layer_round_trips,
                "raw_round_trips": raw_round_trips,
            }
        await counting.close()
        for variant in variants:  # what the checks above wrote
            if variant.cleanup is not None:
                await variant.cleanup()
        timings = {(v.name, side): Timing() for v in variants for side in ("layer", "raw")}
        for round_number in range(rounds):
            shift = round_number % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                sides = ("layer", "raw") if round_number % 2 == 0 else ("raw", "layer")
                for side in sides:
                    await time_call(getattr(variant, side), duration, timings[(variant.name, side)])
                    if variant.cleanup is not None:
                        await variant.cleanup()
        for variant in variants:
            mine, theirs = timings[(variant.name, "layer")], timings[(variant.name, "raw")]
            results[variant.name] |= {
                "kind": variant.kind,
                "layer": mine.summary(),
                "raw": theirs.summary(),
                "ratio": paired_ratio(mine, theirs),
            }
        results["bulk load"] = await bulk_load(url, sessions)
    finally:
        await counting.close()
        await pool.close()
        await engine.dispose()
    return results


async def measure_flat(urls: dict[int, str], duration: float, rounds: int) -> dict[str, Any]:
    """Each page's p50 at the largest size over the same at the smallest, both databases
    loaded and timed side by side in alternating rounds (raw asyncpg's growth beside).

    The per-size tables run minutes apart, and this machine's speed drifts in between:
    their p50s alone once put raw asyncpg's own 20th "todo" page at 1.37x. Each round
    here times a page at both sizes back to back; the figure is the median of the
    rounds' own ratios, as for every other ratio.
    """
    small, large = min(urls), max(urls)
    engines, pools = [], []
    calls: dict[int, dict[tuple[str, str], Call]] = {}
    try:
        for size in (small, large):
            engine = create_engine(Settings(database_url=urls[size]))
            engines.append(engine)
            pool = await asyncpg.create_pool(_asyncpg_dsn(urls[size]), min_size=1, max_size=2)
            pools.append(pool)
            sessions = create_session_factory(engine)
            readers = create_session_factory(engine, read_only=True)
            variants = await build_variants(sessions, readers, pool, await discover(urls[size]))
            calls[size] = {
                (variant.name, side): getattr(variant, side)
                for variant in variants
                if variant.name.startswith("page")
                for side in ("layer", "raw")
            }
        return await time_flat(calls[small], calls[large], duration, rounds)
    finally:
        for pool in pools:
            await pool.close()
        for engine in engines:
            await engine.dispose()


async def time_flat(
    small: dict[tuple[str, str], Call],
    large: dict[tuple[str, str], Call],
    duration: float,
    rounds: int,
) -> dict[str, Any]:
    """For each (page, side) found at both sizes: the median of the rounds' own p50 ratios
    (large over small), and the median p50s in ms, the smaller size first. The sizes
    take turns to go first."""
    for name, _side in sorted(small.keys() ^ large.keys()):
        console.print(f"[yellow]flat cost: {name} exists at one size only[/yellow]")
    ratios: dict[tuple[str, str], list[float]] = {}
    p50s: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    for round_number in range(rounds):
        for key in sorted(small.keys() & large.keys()):
            found = {}
            sizes = [("small", small), ("large", large)]
            for label, calls in sizes if round_number % 2 == 0 else reversed(sizes):
                timing = Timing()
                await time_call(calls[key], duration, timing)
                found[label] = statistics.median(timing.latencies)
            before, after = found["small"], found["large"]
            ratios.setdefault(key, []).append(after / before)
            mine = p50s.setdefault(key, ([], []))
            mine[0].append(1000 * before)
            mine[1].append(1000 * after)
    flat: dict[str, Any] = {}
    for (name, side), found_ratios in ratios.items():
        row = flat.setdefault(name, {"p50_ms": {}})
        row[side] = statistics.median(found_ratios)
        row["p50_ms"][side] = [statistics.median(values) for values in p50s[(name, side)]]
    return flat


def _attach(counter: QueryCounter) -> Callable[[asyncpg.Connection], Awaitable[None]]:
    async def init(connection: asyncpg.Connection) -> None:
        counter.attach(connection)

    return init


async def _per_op(counter: QueryCounter, call: Call, repeat: int = 5) -> tuple[float, float]:
    """Statements and round trips per call, after one call not counted: asyncpg looks up
    the types of a statement's values on its first use on a connection, with queries of
    its own."""
    await call()
    await asyncio.sleep(0)
    statements, round_trips = counter.statements, counter.round_trips
    for _ in range(repeat):
        await call()
    await asyncio.sleep(0)  # asyncpg calls its query loggers on the loop's next turn
    return (
        (counter.statements - statements) / repeat,
        (counter.round_trips - round_trips) / repeat,
    )


async def bulk_load(url: str, sessions: Any) -> dict[str, Any]:
    """Rows/s of the data layer's bulk path against raw COPY of the same rows (rolled back)."""

    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        first_ids = {
            table: int(await conn.fetchval(f"SELECT coalesce(max(id), 0) + 1 FROM {table}"))  # noqa: S608
            for table in ("users", "projects", "project_members", "tags", "tasks")
        }
        generator = Generator(
            Plan.for_tasks(20_000),
            seed=99,
            first_ids=first_ids,
            password_hash="-",  # noqa: S106  (never used to sign in)
            now=utc_now(),
        )
        # Other addresses than the loaded users', so the rows can be inserted next to them.
        users = [
            (row[0], f"bulk-{row[1]}", *row[2:]) for batch in generator.users() for row in batch
        ]
        batch = next(generator.project_batches(tasks_per_batch=20_000))
        tables = [("users", users)] + [(name, rows) for name, rows in batch.rows.items()]
        count = sum(len(rows) for _name, rows in tables)

        async def with_layer() -> None:
            async with sessions() as session:
                for name, rows in tables:
                    await bulk.copy_rows(session, name, COLUMNS[name], rows)
                await session.rollback()

        async def with_raw() -> None:
            transaction = conn.transaction()
            await transaction.start()
            for name, rows in tables:
                await conn.copy_records_to_table(name, records=rows, columns=list(COLUMNS[name]))
            await transaction.rollback()

        speeds: dict[str, list[float]] = {"layer": [], "raw": []}
        for round_number in range(4):
            order = (("layer", with_layer), ("raw", with_raw))
            for side, call in order if round_number % 2 == 0 else order[::-1]:
                started = time.perf_counter()
                await call()
                speeds[side].append(count / (time.perf_counter() - started))
    finally:
        await conn.close()
    mine, theirs = statistics.median(speeds["layer"]), statistics.median(speeds["raw"])
    return {
        "kind": "bulk",
        "rows": count,
        "layer_rows_per_s": mine,
        "raw_rows_per_s": theirs,
        "ratio": mine / theirs,
    }


async def plans(url: str, user_id: int, values: dict[str, Any]) -> dict[str, str]:
    """The access path PostgreSQL picks on `tasks` for each list query shape.

    Both plans the app's prepared statements may run: the one for the given values, and
    the generic one PostgreSQL may switch to after a few runs, which knows no values.
    """
    engine = create_engine(Settings(database_url=url, database_null_pool=True))
    found = {}
    async with engine.connect() as connection:
        driver: Any = (await connection.get_raw_connection()).driver_connection
        await driver.execute("SET plan_cache_mode = force_generic_plan")
        for shape, value in values.items():
            filters = layer.page_filter(user_id, shape, value)
            query = read_query(
                filters, sort=TaskSort.CREATED_AT_DESC, limit=51, dialect="postgresql"
            )
            literal = query.compile(
                dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
                compile_kwargs={"literal_binds": True},
            )
            custom = await _scans(driver, f"EXPLAIN (FORMAT JSON) {literal}")
            # The SQL the app sends, with its placeholders (see taskflow.services.common).
            bound = query.compile(dialect=connection.dialect)
            arguments = ", ".join(_literal(bound.params[name]) for name in bound.positiontup)
            await driver.execute(f"PREPARE bench_plan AS {bound.string}")
            try:
                generic = await _scans(
                    driver, f"EXPLAIN (FORMAT JSON) EXECUTE bench_plan({arguments})"
                )
            finally:
                await driver.execute("DEALLOCATE bench_plan")
            found[shape] = custom if generic == custom else f"{custom} (generic plan: {generic})"
    await engine.dispose()
    return found


async def _scans(driver: Any, explain: str) -> str:
    plan = await driver.fetchval(explain)
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return "; ".join(sorted(set(_task_scans(plan[0]["Plan"]))))


def _literal(value: Any) -> str:
    # The few kinds of values a list query binds: ids, names, patterns, a page size.
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _task_scans(node: dict[str, Any]) -> list[str]:
    scans = []
    if node.get("Relation Name") == "tasks":
        index = node.get("Index Name")
        scans.append(f"{node['Node Type']}" + (f" using {index}" if index else ""))
    for child in node.get("Plans", []):
        scans += _task_scans(child)
    return scans


def url_of(server_url: str, database: str) -> str:
    """The server's URL with another database."""
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def prepare(server_url: str, name: str, tasks: int, fresh: bool) -> str:
    """The benchmark's own database, migrated and filled with `tasks` generated tasks."""
    admin = _asyncpg_dsn(server_url)
    url = url_of(server_url, name)

    async def create() -> None:
        conn = await asyncpg.connect(admin)
        try:
            if fresh:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    env = os.environ | {"DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [sys.executable, "-m", "taskflow.seed"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    asyncio.run(load(Settings(database_url=url), tasks=tasks, force=True))
    asyncio.run(_vacuum(url))
    return url


async def _vacuum(url: str) -> None:
    # VACUUM as well as ANALYZE: after a million inserts autovacuum would otherwise start
    # on its own in the middle of the timings, and index-only scans need the visibility map.
    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await conn.execute("VACUUM (ANALYZE)")
    finally:
        await conn.close()


def render(size: int, results: dict[str, Any], access: dict[str, str]) -> None:
    table = Table(title=f"TaskFlow data layer vs raw asyncpg, {size:,} tasks")
    for column in (
        "operation",
        "layer ops/s",
        "raw ops/s",
        "ratio",
        "layer p50/p99 ms",
        "raw p50/p99 ms",
        "statements, round trips layer / raw",
    ):
        # Each row on one line; the headers wrap instead.
        left = column == "operation"
        table.add_column(column, justify="left" if left else "right", no_wrap=left)
    for name, row in results.items():
        if row.get("kind") == "http":
            mine, theirs = row["layer"], row["raw"]
            table.add_row(
                name, f"{mine['req_per_s']:,.0f} req/s", f"{theirs['req_per_s']:,.0f} req/s",
                f"{row['ratio']:.2f}", f"{mine['p50_ms']:.2f} / {mine['p99_ms']:.2f}",
                f"{theirs['p50_ms']:.2f} / {theirs['p99_ms']:.2f}",
                f"CPU {mine['cpu_ms_per_req']:.2f}/{theirs['cpu_ms_per_req']:.2f} ms,"
                f" {row['cpu_ratio']:.2f}x",
            )  # fmt: skip
            continue
        if row.get("kind") == "bulk":
            table.add_row(
                f"bulk load ({row['rows']:,} rows)",
                f"{row['layer_rows_per_s']:,.0f} rows/s",
                f"{row['raw_rows_per_s']:,.0f} rows/s",
                f"{row['ratio']:.2f}",
                "",
                "",
                "",
            )
            continue
        mine, theirs = row["layer"], row["raw"]
        table.add_row(
            name, f"{mine['ops_per_s']:,.0f}", f"{theirs['ops_per_s']:,.0f}", f"{row['ratio']:.2f}",
            f"{mine['p50_ms']:.2f} / {mine['p99_ms']:.2f}",
            f"{theirs['p50_ms']:.2f} / {theirs['p99_ms']:.2f}",
            f"{row['layer_statements']:.2g}, {row['layer_round_trips']:.2g}"
            f" / {row['raw_statements']:.2g}, {row['raw_round_trips']:.2g}",
        )  # fmt: skip
    console.print(table)
    for shape, path in access.items():
        warning = " [red](reads the whole table)[/red]" if "Seq Scan" in path else ""
        console.print(f"  plan on tasks, {shape}: {path}{warning}")


def render_flat(report: dict[str, Any]) -> None:
    """The side-by-side flat cost (`measure_flat`), one line per page."""
    sizes = sorted(report["sizes"], key=int)
    console.print(
        f"flat cost, p50 at {int(sizes[-1]):,} ÷ at {int(sizes[0]):,} tasks, side by side"
        f" (target: layer within {FLAT_LIMIT}):"
    )
    for name, ratio in report["flat"].items():
        warning = " [red](grows)[/red]" if ratio["layer"] > FLAT_LIMIT else ""
        console.print(f"  {name}: layer {ratio['layer']:.2f}{warning}, raw {ratio['raw']:.2f}")


# The bound on a page's p50 at 1,000,000 tasks over the same at 100,000.
FLAT_LIMIT = 1.2


# From this size on a list query must find its tasks through an index: a sequential scan
# there is a cost that grows with the table (smaller tables may be scanned on purpose).
LARGE = 1_000_000


def sequential_scans(report: dict[str, Any]) -> list[str]:
    """`size: shape` for each list query shape read by a sequential scan at a large size."""
    return [
        f"{size}: {shape}"
        for size, data in report["sizes"].items()
        if int(size) >= LARGE
        for shape, path in data["plans"].items()
        if "Seq Scan" in path
    ]


def measure(
    server: str,
    database: str,
    size: int,
    duration: float,
    rounds: int,
    *,
    fresh: bool,
    http: bool = True,
) -> dict[str, Any]:
    """Load `size` tasks, compare and time every operation, find the plans; print them."""
    started = time.perf_counter()
    url = prepare(server, database, size, fresh=fresh)
    console.print(f"[dim]{size:,} tasks loaded in {time.perf_counter() - started:.0f} s[/dim]")
    # Found once, before the timed calls create tasks: the plans and the tag reported are
    # those of the requests that were timed.
    ids = asyncio.run(discover(url))
    results = asyncio.run(run_size(url, ids, duration, rounds))
    shapes = {
        "all projects": None,
        "project": ids["project"],
        "status": "todo",
        "tag": ids["tag"],
        "search": "login",
    }
    access = asyncio.run(plans(url, ids["user"], shapes))
    if http:
        results |= measure_http(
            url, user_id=ids["user"], project_id=ids["project"], task_id=ids["task"],
            duration=max(duration * 2, 0.01), rounds=rounds,
        )  # fmt: skip
    render(size, results, access)
    tag = {"name": ids["tag"], "tasks": ids["tag_tasks"]}
    console.print(
        f"  tag filter: {tag['name']!r}, on {tag['tasks']:,} tasks of the user's projects"
    )
    return {"results": results, "plans": access, "tag": tag}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__)
    parser.add_argument("--tasks", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--duration", type=float, default=1.0, help="seconds per variant and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--database",
        default="taskflow_bench",
        help="the name its databases start with, one per size (taskflow_bench_100000, ...)",
    )
    parser.add_argument(
        "--no-http", dest="http", action="store_false", help="skip the uvicorn comparison"
    )
    parser.add_argument(
        "--server",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server URL; the benchmark creates its own databases there",
    )
    args = parser.parse_args(argv)
    server = normalize_database_url(args.server)
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "sizes": {},
    }
    urls: dict[int, str] = {}
    for size in sorted(set(args.tasks)):
        # A database per size, kept until the end: the flat cost is timed on two at once.
        database = f"{args.database}_{size}"
        report["sizes"][str(size)] = measure(
            server, database, size, args.duration, args.rounds, fresh=True, http=args.http
        )
        urls[size] = url_of(server, database)
    if len(urls) > 1:
        console.print("[dim]flat cost: the pages at both sizes, side by side[/dim]")
        report["flat"] = asyncio.run(measure_flat(urls, args.duration, args.rounds))
        render_flat(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    console.print(f"results: {out.relative_to(ROOT)}")
    if scanned := sequential_scans(report):
        console.print(f"bench: sequential scan on tasks at {', '.join(scanned)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["Variant", "main", "measure", "paired_ratio"]
