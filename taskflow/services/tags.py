"""Tags: a project's vocabulary; creation and prefix autocomplete."""

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.errors import InvalidValueError
from taskflow.models import Tag, TagCreate
from taskflow.services.common import escape_like, flush

__all__ = ["autocomplete_tags", "create_tag", "get_project_tags"]


async def create_tag(session: AsyncSession, *, project_id: int, data: TagCreate) -> Tag:
    """A new tag in the project; DuplicateError if the name is taken there."""
    tag = Tag.model_validate(data, update={"project_id": project_id})
    session.add(tag)
    await flush(session)
    return tag


async def autocomplete_tags(
    session: AsyncSession, *, project_id: int, prefix: str = "", limit: int = 20
) -> Sequence[Tag]:
    """The project's tags whose name starts with `prefix`, case-insensitively, by name."""
    # lower(name) LIKE 'x%' matches the PostgreSQL index (project_id, lower(name) text_pattern_ops).
    pattern = escape_like(prefix.strip().lower()) + "%"
    result = await session.exec(
        select(Tag)
        .where(col(Tag.project_id) == project_id)
        .where(func.lower(Tag.name).like(pattern, escape="\\"))
        .order_by(func.lower(Tag.name), col(Tag.id))
        .limit(limit)
    )
    return result.all()


async def get_project_tags(
    session: AsyncSession, *, project_id: int, tag_ids: Sequence[int]
) -> list[Tag]:
    """The tags with these ids; InvalidValueError unless all belong to the project."""
    wanted = set(tag_ids)
    if not wanted:
        return []
    result = await session.exec(
        select(Tag).where(col(Tag.id).in_(wanted), col(Tag.project_id) == project_id)
    )
    tags = list(result.all())
    if len(tags) != len(wanted):
        raise InvalidValueError("every tag must exist and belong to the task's project")
    return tags
