"""Dependencies the routes share: the session, the settings, the signed-in user."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.security import OAuth2PasswordBearer
from pydantic import AfterValidator
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.config import Settings, get_settings
from taskflow.database import get_session_factory
from taskflow.errors import NotFoundError
from taskflow.models import User
from taskflow.models.base import MAX_ID, has_control_characters
from taskflow.security import InvalidTokenError, decode_access_token
from taskflow.services.users import get_user, is_active_user

__all__ = [
    "CallerId",
    "CurrentUser",
    "IdPath",
    "IdQuery",
    "SearchText",
    "SessionDep",
    "SettingsDep",
    "app_settings",
    "request_session",
    "unauthorized",
]

READ_METHODS = frozenset({"GET", "HEAD"})


async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; GET and HEAD get a read-only one (no transaction round trips).

    Closing the session rolls back whatever the endpoint did not commit.
    """
    factory = get_session_factory(read_only=request.method in READ_METHODS)
    async with factory() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(request_session)]


async def app_settings() -> Settings:
    """The settings, as a dependency (tests override this one).

    A coroutine on purpose: FastAPI runs a plain function dependency in a worker thread,
    which costs more than the call, on every request.
    """
    return get_settings()


SettingsDep = Annotated[Settings, Depends(app_settings)]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token")


def unauthorized(detail: str) -> HTTPException:
    """A 401 that tells the client to authenticate with a bearer token."""
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def get_caller_id(
    session: SessionDep, settings: SettingsDep, token: Annotated[str, Depends(oauth2_scheme)]
) -> int:
    """The id of the signed-in user, checked to exist and be active on every request.

    One indexed scalar instead of loading the user: most routes need only the id.
    """
    try:
        user_id = decode_access_token(token, secret=settings.secret_key)
    except InvalidTokenError as error:
        raise unauthorized("could not validate credentials") from error
    if not await is_active_user(session, user_id):
        raise unauthorized("could not validate credentials")
    return user_id


CallerId = Annotated[int, Depends(get_caller_id)]
"""The signed-in user's id."""


async def get_current_user(session: SessionDep, caller: CallerId) -> User:
    """The signed-in user as an ORM object, for the routes that show or change it."""
    try:
        return await get_user(session, caller)
    except NotFoundError as error:  # deleted since the check above
        raise unauthorized("could not validate credentials") from error


CurrentUser = Annotated[User, Depends(get_current_user)]


IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
"""A row id in the URL path (32-bit, as the columns are)."""

IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
"""An optional row id in the query string."""


def _no_control_characters(value: str) -> str:
    if has_control_characters(value):
        raise ValueError("must not contain control characters")
    return value


SearchText = Annotated[str, AfterValidator(_no_control_characters)]
"""Free text in a query string (search, prefix, email look-up)."""
