"""Sign-in: the OAuth2 password flow, returning a bearer token."""

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from taskflow.api.deps import SessionDep, SettingsDep, unauthorized
from taskflow.security import create_access_token
from taskflow.services.users import authenticate

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105  (the OAuth2 token type, not a secret)


@router.post("/token", responses={401: {"description": "Wrong credentials or inactive user"}})
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    """Exchange an email (as `username`) and password for an access token."""
    user = await authenticate(session, form.username, form.password)
    if user is None or user.id is None:
        raise unauthorized("incorrect email or password")
    await session.commit()  # keeps a transparently upgraded hash
    token = create_access_token(
        user.id, secret=settings.secret_key, minutes=settings.access_token_minutes
    )
    return Token(access_token=token)
