"""Users: sign-up, look-up by id or email, profile updates."""

import asyncio

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.errors import MissingReferenceError, NotFoundError, ReferencedError
from taskflow.models import User, UserCreate, UserUpdate
from taskflow.models.base import has_control_characters, lookup_email
from taskflow.security import hash_password, verify_and_update_password
from taskflow.services.common import fetch_scalar, flush, prepared

__all__ = [
    "authenticate",
    "create_user",
    "delete_user",
    "get_user",
    "get_user_by_email",
    "is_active_user",
    "update_user",
]


async def create_user(session: AsyncSession, data: UserCreate) -> User:
    """Add a user with a hashed password (hashed off the event loop)."""
    hashed = await asyncio.to_thread(hash_password, data.password)
    user = User.model_validate(data, update={"hashed_password": hashed})
    session.add(user)
    await flush(session)
    return user


async def get_user(session: AsyncSession, user_id: int) -> User:
    """The user with this id, or NotFoundError."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFoundError("user not found")
    return user


_USERS = SQLModel.metadata.tables[User.__tablename__]
_IS_ACTIVE = prepared(sa_select(_USERS.c.is_active).where(_USERS.c.id == bindparam("user_id")))


async def is_active_user(session: AsyncSession, user_id: int) -> bool:
    """Whether this user exists and may sign in: one indexed scalar, no ORM object.

    What authentication checks on every request, so built once and run through Core.
    """
    return bool(await fetch_scalar(session, _IS_ACTIVE, {"user_id": user_id}))


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    """The user with this email, compared in the normalised, case-insensitive stored form."""
    if has_control_characters(email):
        return None  # no stored address holds one, and PostgreSQL refuses NUL outright
    result = await session.exec(select(User).where(User.email == lookup_email(email)))
    return result.first()


async def update_user(session: AsyncSession, user: User, data: UserUpdate) -> User:
    """Apply the fields that were sent; a new password is hashed."""
    changes = data.model_dump(exclude_unset=True)
    if "password" in changes:
        changes["hashed_password"] = await asyncio.to_thread(hash_password, changes.pop("password"))
    user.sqlmodel_update(changes)
    session.add(user)
    await flush(session)
    return user


async def delete_user(session: AsyncSession, user: User) -> None:
    """Delete the user; ReferencedError while they still own projects."""
    await session.delete(user)
    try:
        await flush(session)
    except MissingReferenceError as error:  # the only foreign key that restricts: projects
        message = (
            "the user still owns projects (those in the trash count until purged): "
            "transfer or delete them first"
        )
        raise ReferencedError(message) from error


async def authenticate(session: AsyncSession, email: str, password: str) -> User | None:
    """The active user with these credentials, else None; upgrades an outdated hash."""
    user = await get_user_by_email(session, email)
    hashed = None if user is None else user.hashed_password
    valid, new_hash = await asyncio.to_thread(verify_and_update_password, password, hashed)
    if user is None or not valid or not user.is_active:
        return None
    if new_hash is not None:
        user.hashed_password = new_hash
        session.add(user)
        await flush(session)
    return user
