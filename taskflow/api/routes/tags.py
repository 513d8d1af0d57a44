"""A project's tags: prefix autocomplete, create, delete."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from taskflow.api.deps import CallerId, IdPath, SearchText, SessionDep
from taskflow.api.pages import PageOut
from taskflow.api.responses import INVALID, ROLE, VISIBLE
from taskflow.models import TagCreate, TagRead
from taskflow.services import tags
from taskflow.services.access import Permission, require_role

router = APIRouter(prefix="/api/v1/projects/{project_id}/tags", tags=["tags"])


@router.get("", responses=VISIBLE | INVALID)
async def list_tags(
    project_id: IdPath,
    caller: CallerId,
    session: SessionDep,
    prefix: Annotated[SearchText, Query(max_length=50)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> PageOut[TagRead]:
    """The project's tags by name; `prefix` narrows them case-insensitively (autocomplete)."""
    await require_role(session, project_id=project_id, user_id=caller, permission=Permission.READ)
    page = await tags.autocomplete_tags(
        session, project_id=project_id, prefix=prefix, limit=limit, cursor=cursor
    )
    return PageOut(items=page.items, next_cursor=page.next_cursor)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=ROLE | {409: {"description": "The project already has a tag with that name"}},
)
async def create_tag(
    project_id: IdPath, data: TagCreate, caller: CallerId, session: SessionDep
) -> TagRead:
    """Add a tag to the project's vocabulary (any member)."""
    await require_role(
        session, project_id=project_id, user_id=caller, permission=Permission.WRITE_TASKS
    )
    tag = await tags.create_tag(session, project_id=project_id, data=data)
    await session.commit()
    return TagRead.model_validate(tag)


@router.delete("/{tag_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ROLE)
async def delete_tag(
    project_id: IdPath, tag_id: IdPath, caller: CallerId, session: SessionDep
) -> Response:
    """Delete a tag; it is removed from every task (owner or admin)."""
    await require_role(
        session, project_id=project_id, user_id=caller, permission=Permission.MANAGE_TAGS
    )
    await tags.delete_tag(session, project_id=project_id, tag_id=tag_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
