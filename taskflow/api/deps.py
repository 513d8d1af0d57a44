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
from taskflow.services.users import get_user

__all__ = [
    "CurrentUser",
    "IdPath",
    "IdQuery",
    "SearchText",
    "SessionDep",
    "SettingsDep",
    "caller_id",
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
SettingsDep = Annotated[Settings, Depends(get_settings)]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token")


def unauthorized(detail: str) -> HTTPException:
    """A 401 that tells the client to authenticate with a bearer token."""
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def get_current_user(
    session: SessionDep, settings: SettingsDep, token: Annotated[str, Depends(oauth2_scheme)]
) -> User:
    try:
        user = await get_user(session, decode_access_token(token, secret=settings.secret_key))
    except (InvalidTokenError, NotFoundError) as error:
        raise unauthorized("could not validate credentials") from error
    if not user.is_active:
        raise unauthorized("could not validate credentials")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def caller_id(user: User) -> int:
    """The id of a user loaded from the database (never None there)."""
    assert user.id is not None
    return user.id


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
