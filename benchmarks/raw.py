"""The baseline: the same reads and writes written by hand for asyncpg, one statement each
where a hand-written query would do it in one. Rows come back in the normalised shape of
`benchmarks.shapes`, so each variant can be checked equal to its data-layer twin."""

from datetime import datetime
from typing import Any

import asyncpg

from benchmarks.shapes import TaskShape, task_shape

# A task's tags come as one array of (id, name, created_at) records: one correlated
# subquery, which PostgreSQL runs only for the rows a page returns. A subquery per field
# took it longer (a page: 1,166 us with two, 1,524 with three, 982 this way); a LATERAL
# join ran for every task of a multi-project page before the sort (8 ms -> 24 ms).
_TASK_COLUMNS = """
    t.id, t.title, t.description, t.status, t.priority, t.due_date, t.project_id,
    t.assignee_id, t.created_at, t.updated_at,
    coalesce((SELECT array_agg((g.id, g.name, g.created_at) ORDER BY g.name, g.id)
              FROM task_tags tt JOIN tags g ON g.id = tt.tag_id
              WHERE tt.task_id = t.id), '{}') AS tags,
    (SELECT u.full_name FROM users u WHERE u.id = t.assignee_id) AS assignee_name
"""

# What a hand-written app with a trash would check too: the task and its project are live.
_LIVE = (
    "t.deleted_at IS NULL AND EXISTS "
    "(SELECT 1 FROM projects p WHERE p.id = t.project_id AND p.deleted_at IS NULL)"
)

GET_TASK = f"SELECT {_TASK_COLUMNS} FROM tasks t WHERE t.id = $1 AND {_LIVE}"  # noqa: S608

_MINE = (
    "SELECT m.project_id FROM project_members m JOIN projects p ON p.id = m.project_id "
    "WHERE m.user_id = $1 AND p.deleted_at IS NULL"
)

# One statement for a page: the tasks and their tags.
_PAGE = f"""
    SELECT {_TASK_COLUMNS}
    FROM tasks t
    WHERE t.project_id IN ({_MINE}) AND {_LIVE}
      {{filters}}
      AND ($2::timestamptz IS NULL OR (t.created_at, t.id) < ($2, $3))
    ORDER BY t.created_at DESC, t.id DESC
    LIMIT $4
"""  # noqa: S608

PAGE_FILTERS = {
    "all projects": "",
    "project": "AND t.project_id = $5",
    "status": "AND t.status = $5",
    # From the tags of that name in the caller's projects to their tasks.
    "tag": f"""AND t.id IN (SELECT tt.task_id FROM task_tags tt JOIN tags g ON g.id = tt.tag_id
        WHERE lower(g.name) = lower($5) AND g.project_id IN ({_MINE}))""",  # noqa: S608
    "search": (
        "AND (t.title ILIKE '%' || $5 || '%' ESCAPE '\\' "
        "OR t.description ILIKE '%' || $5 || '%' ESCAPE '\\')"
    ),
}


def shape(row: asyncpg.Record) -> TaskShape:
    """For the equality check only: timed calls return the records as fetched."""
    return task_shape(row, tags=row["tags"], assignee_name=row["assignee_name"])


def shape_page(page: tuple[list[asyncpg.Record], Any]) -> list[TaskShape]:
    return [shape(row) for row in page[0]]


def shape_created(created: tuple[asyncpg.Record, list[asyncpg.Record]]) -> TaskShape:
    row, tags = created
    return task_shape(row, tags=[(tag["id"], tag["name"], tag["created_at"]) for tag in tags])


async def get_task(conn: asyncpg.Connection, task_id: int) -> asyncpg.Record:
    return await conn.fetchrow(GET_TASK, task_id)


async def page(
    conn: asyncpg.Connection,
    *,
    user_id: int,
    shape: str,
    value: Any,
    after: tuple[datetime, int] | None,
    limit: int = 50,
) -> tuple[list[asyncpg.Record], tuple[datetime, int] | None]:
    """A page, and the keyset position after its last row."""
    sql = _PAGE.replace("{filters}", PAGE_FILTERS[shape])
    created, last_id = after if after else (None, 0)
    args: list[Any] = [user_id, created, last_id, limit + 1]  # one more: is there a next page?
    if PAGE_FILTERS[shape]:
        args.append(value)
    rows = (await conn.fetch(sql, *args))[:limit]
    last = (rows[-1]["created_at"], int(rows[-1]["id"])) if rows else None
    return rows, last


# The caller's role in a live project (no row: not a member).
MEMBERSHIP = (
    "SELECT m.project_id AS id, m.role FROM project_members m "
    "JOIN projects p ON p.id = m.project_id AND p.deleted_at IS NULL "
    "WHERE m.project_id = $1 AND m.user_id = $2"
)


async def membership(conn: asyncpg.Connection, *, project_id: int, user_id: int) -> tuple[int, str]:
    row = await conn.fetchrow(MEMBERSHIP, project_id, user_id)
    return int(row["id"]), str(row["role"])


async def autocomplete(
    conn: asyncpg.Connection, *, project_id: int, prefix: str
) -> list[asyncpg.Record]:
    """The tags an endpoint would return (20, and one more for the next cursor)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, project_id, name, created_at FROM tags "
        "WHERE project_id = $1 AND lower(name) LIKE lower($2) || '%' "
        "ORDER BY lower(name), id LIMIT 21",
        project_id,
        prefix,
    )
    return rows


def shape_tags(rows: list[asyncpg.Record]) -> list[tuple[Any, ...]]:
    """For the equality check only: the first 20, as the page's items."""
    return [tuple(row.values()) for row in rows[:20]]


async def create_task(
    conn: asyncpg.Connection, *, project_id: int, title: str, tag_ids: list[int]
) -> tuple[asyncpg.Record, list[asyncpg.Record]]:
    async with conn.transaction():
        tags = await conn.fetch(
            "SELECT id, name, created_at FROM tags WHERE id = ANY($1) AND project_id = $2 "
            "ORDER BY name, id",
            tag_ids,
            project_id,
        )
        if len(tags) != len(set(tag_ids)):
            raise ValueError("tags of another project")
        row = await conn.fetchrow(
            "INSERT INTO tasks (title, status, priority, project_id, created_at, updated_at) "
            "VALUES ($1, 'todo', 'medium', $2, now(), now()) RETURNING *",
            title,
            project_id,
        )
        await conn.executemany(
            "INSERT INTO task_tags (task_id, tag_id, task_created_at) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING",
            [(row["id"], tag["id"], row["created_at"]) for tag in tags],
        )
    return row, tags


async def update_status(conn: asyncpg.Connection, *, task_id: int, status: str) -> asyncpg.Record:
    async with conn.transaction():
        await conn.execute(
            "UPDATE tasks SET status = $1, updated_at = now() WHERE id = $2", status, task_id
        )
        return await conn.fetchrow(GET_TASK, task_id)
