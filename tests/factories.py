"""Small builders for test data, going through the same services the app uses."""

import itertools
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.models import (
    MemberRole,
    Project,
    ProjectCreate,
    ProjectMemberCreate,
    Tag,
    TagCreate,
    Task,
    TaskCreate,
    User,
    UserCreate,
)
from taskflow.services.members import add_member
from taskflow.services.projects import create_project
from taskflow.services.tags import create_tag
from taskflow.services.tasks import create_task
from taskflow.services.users import create_user

_numbers = itertools.count(1)


async def make_user(session: AsyncSession, **fields: Any) -> User:
    n = next(_numbers)
    data = {"email": f"user{n}@example.com", "full_name": f"User {n}", "password": "password123"}
    return await create_user(session, UserCreate(**(data | fields)))


async def make_project(session: AsyncSession, owner: User, **fields: Any) -> Project:
    assert owner.id is not None
    data = ProjectCreate(**({"name": f"Project {next(_numbers)}"} | fields))
    return await create_project(session, owner_id=owner.id, data=data)


async def make_member(
    session: AsyncSession, project: Project, user: User, role: MemberRole = MemberRole.MEMBER
) -> None:
    assert project.id is not None
    assert user.id is not None
    await add_member(
        session,
        project_id=project.id,
        data=ProjectMemberCreate(user_id=user.id, role=role),
        actor_role=MemberRole.OWNER,
    )


async def make_tag(session: AsyncSession, project: Project, name: str) -> Tag:
    assert project.id is not None
    return await create_tag(session, project_id=project.id, data=TagCreate(name=name))


async def make_task(session: AsyncSession, project: Project, **fields: Any) -> Task:
    data = {"title": f"Task {next(_numbers)}", "project_id": project.id} | fields
    return await create_task(session, TaskCreate(**data))
