"""Dependencies the routes share: the session, the settings, the signed-in user."""

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.security import OAuth2PasswordBearer
from pydantic import AfterValidator, BeforeValidator
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.config import Settings, get_settings
from taskflow.database import get_session_factory
from taskflow.errors import NotFoundError
from taskflow.models import User
from taskflow.models.base import MAX_ID, UTCDatetime, date_time_text, has_control_characters
from taskflow.security import InvalidTokenError, decode_access_token
from taskflow.services.users import get_user, is_active_user

__all__ = [
    "CallerId",
    "CurrentUser",
    "DateTimeQuery",
    "IdPath",
    "IdQuery",
    "SearchText",
    "SessionDep",
    "SettingsDep",
    "TokenUserId",
    "app_settings",
    "confirm_active",
    "request_session",
    "sessions_per_request",
    "unauthorized",
]

READ_METHODS = frozenset({"GET", "HEAD"})


def sessions_per_request(
    factory: Callable[..., async_sessionmaker[AsyncSession]],
) -> Callable[[Request], AsyncIterator[AsyncSession]]:
    """A dependency that opens one session per request from `factory(read_only=...)`: GET
    and HEAD get a read-only one (no transaction round trips).

    Closing the session rolls back whatever the endpoint did not commit.
    """

    async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
        session = factory(read_only=request.method in READ_METHODS)()
        try:
            yield session
        finally:
            # Not `async with session`: its exit closes the session in a task of its own,
            # so that a cancelled request still returns its connection. FastAPI (0.165 and
            # later) already shields a dependency's exit from the cancellation of the
            # request, and that task cost a turn of the event loop on every request. A
            # bare asyncio cancel landing inside close() (a server's shutdown timeout) makes
            # the pool discard that connection instead of reusing it: nothing leaks.
            await session.close()

    return request_session


request_session = sessions_per_request(get_session_factory)
"""The app's sessions (tests serve their own through `sessions_per_request`)."""

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


async def get_token_user_id(
    settings: SettingsDep, token: Annotated[str, Depends(oauth2_scheme)]
) -> int:
    """The id of the user a valid token names; whether that account is still active is
    left to the caller (`CallerId` checks it, or the route's own statement does)."""
    try:
        return decode_access_token(token, secret=settings.secret_key)
    except InvalidTokenError as error:
        raise unauthorized("could not validate credentials") from error


TokenUserId = Annotated[int, Depends(get_token_user_id)]
"""The user a valid token names, its account not yet checked: only for routes whose
statement answers active members alone and that call `confirm_active` when it finds
nothing."""


async def confirm_active(session: AsyncSession, user_id: int) -> None:
    """A 401 unless the account exists and is active.

    The busiest reads (a task, a page of tasks) check the account in their own statement,
    which returns nothing to a deactivated one: a round trip less on every request. Only
    when they find nothing, or refuse the input, does this tell a deactivated account
    (401) from a task that is not there (404) or bad input (422).
    """
    if not await is_active_user(session, user_id):
        raise unauthorized("could not validate credentials")


async def get_caller_id(session: SessionDep, user_id: TokenUserId) -> int:
    """The id of the signed-in user, checked to exist and be active on every request.

    One indexed scalar instead of loading the user: most routes need only the id.
    """
    await confirm_active(session, user_id)
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


DateTimeQuery = Annotated[UTCDatetime, BeforeValidator(date_time_text)]
"""A date and time in the query string: ISO 8601, never a number of seconds."""
