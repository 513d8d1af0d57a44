"""Dependencies the routes share: the session, the settings, the signed-in user."""

from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import OAuth2PasswordBearer
from sqlmodel.ext.asyncio.session import AsyncSession

from taskflow.config import Settings, get_settings
from taskflow.database import get_session
from taskflow.models import User
from taskflow.security import InvalidTokenError, decode_access_token

__all__ = ["CurrentUser", "SessionDep", "SettingsDep", "caller_id", "unauthorized"]

SessionDep = Annotated[AsyncSession, Depends(get_session)]
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
        user_id = decode_access_token(token, secret=settings.secret_key)
    except InvalidTokenError as error:
        raise unauthorized("could not validate credentials") from error
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise unauthorized("could not validate credentials")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def caller_id(user: User) -> int:
    """The id of a user loaded from the database (never None there)."""
    assert user.id is not None
    return user.id
