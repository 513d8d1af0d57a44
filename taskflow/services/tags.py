"""Tags: a project's vocabulary; creation and prefix autocomplete."""

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    delete,
    func,
    tuple_,
    type_coerce,
)
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from taskflow.errors import InvalidCursorError, InvalidValueError, NotFoundError
from taskflow.models import Tag, TagCreate, TagRead
from taskflow.services.common import (
    dialect_name,
    escape_like,
    fetch_dicts,
    flush,
    literal_limit,
    prepared,
)
from taskflow.services.pagination import Page, decode_cursor, encode_cursor
from taskflow.services.visibility import hide_trashed

__all__ = [
    "FOREIGN_TAGS",
    "autocomplete_tags",
    "create_tag",
    "delete_tag",
    "get_project_tags",
    "named_in_project",
]

# Validates plain rows straight into TagRead (the extra sort_key column is ignored).
_TAG_READS = TypeAdapter(list[TagRead])


async def create_tag(session: AsyncSession, *, project_id: int, data: TagCreate) -> Tag:
    """A new tag in the project; DuplicateError if the name is taken there."""
    tag = Tag.model_validate(data, update={"project_id": project_id})
    session.add(tag)
    await flush(session)
    return tag


async def autocomplete_tags(
    session: AsyncSession,
    *,
    project_id: int,
    prefix: str = "",
    limit: int = 20,
    cursor: str | None = None,
) -> Page[TagRead]:
    """The project's tags whose name starts with `prefix`, case-insensitively, by name.

    A read: Core rows validated once into TagRead, no ORM objects.
    """
    params: dict[str, object] = {
        "project_id": project_id,
        "prefix": escape_like(prefix.strip()),
    }
    if cursor is not None:
        key, last_id = decode_cursor(cursor, "name")
        if not isinstance(key, str):
            raise InvalidCursorError("the cursor is malformed")
        params |= {"key": key, "last_id": last_id}
    query = _autocomplete_query(after_cursor=cursor is not None, limit=limit + 1)
    rows = await fetch_dicts(session, query, params)
    items = _TAG_READS.validate_python(rows[:limit])
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor("name", rows[limit - 1]["sort_key"], items[-1].id)
    return Page(items=items, next_cursor=next_cursor)


@lru_cache
def _autocomplete_query(*, after_cursor: bool, limit: int) -> Select[Any]:
    # Built once per shape, values bound per call: building it cost more than running it.
    # lower(name) LIKE 'x%' matches the PostgreSQL index (project_id, lower(name) text_pattern_ops).
    # Lower-cased by the database on both sides: Python's lower() differs for some letters.
    # The model's attributes, so that taskflow.services.visibility's rules apply.
    tag_id, name = col(Tag.id), col(Tag.name)
    lowered = func.lower(name).label("sort_key")
    pattern = func.lower(bindparam("prefix", type_=String) + "%")
    # TagRead makes the time aware UTC itself: no conversion keeps the read from the driver.
    created_at = type_coerce(col(Tag.created_at), DateTime(timezone=True)).label("created_at")
    columns = (tag_id, col(Tag.project_id), name, created_at, lowered)
    query = (
        sa_select(*columns)
        .where(col(Tag.project_id) == bindparam("project_id"))
        .where(lowered.like(pattern, escape="\\"))
    )
    if after_cursor:
        query = query.where(
            tuple_(lowered, tag_id) > tuple_(bindparam("key"), bindparam("last_id"))
        )
    return prepared(query.order_by(lowered, tag_id).limit(literal_limit(limit)))


async def delete_tag(session: AsyncSession, *, project_id: int, tag_id: int) -> None:
    """Delete one of the project's tags (it leaves every task); NotFoundError otherwise."""
    result = await session.exec(
        delete(Tag).where(col(Tag.id) == tag_id, col(Tag.project_id) == project_id)
    )
    if result.rowcount == 0:
        raise NotFoundError("tag not found")


FOREIGN_TAGS = "every tag must exist and belong to the task's project"
"""The error of a write that names a tag its task's project does not have."""


def named_in_project(dialect: str) -> ColumnElement[bool]:
    """Tags whose ids are among the bound `tag_ids`, of the project bound as `project_id`.

    On PostgreSQL the ids go as one array: an expanding IN is rendered again for each call,
    which cost about 40 us of a select's 280 (CPU, a loop of selects of three tags).
    """
    if dialect == "postgresql":
        wanted = col(Tag.id) == any_(bindparam("tag_ids", type_=postgresql.ARRAY(Integer)))
    else:
        wanted = col(Tag.id).in_(bindparam("tag_ids", expanding=True))
    return and_(wanted, col(Tag.project_id) == bindparam("project_id"))


@lru_cache
def _project_tags(dialect: str) -> SelectOfScalar[Tag]:
    # Built once per dialect: every task created or retagged runs it.
    return hide_trashed(select(Tag).where(named_in_project(dialect)))


async def get_project_tags(
    session: AsyncSession, *, project_id: int, tag_ids: Sequence[int]
) -> list[Tag]:
    """The tags with these ids; InvalidValueError unless all belong to the project."""
    wanted = set(tag_ids)
    if not wanted:
        return []
    params = {"tag_ids": sorted(wanted), "project_id": project_id}
    statement = _project_tags(dialect_name(session))
    tags = list((await session.exec(statement, params=params)).all())
    if len(tags) != len(wanted):
        raise InvalidValueError(FOREIGN_TAGS)
    return tags
