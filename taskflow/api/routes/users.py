"""Sign-up, the caller's own profile, and user look-ups."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from taskflow.api.deps import CallerId, CurrentUser, IdPath, SearchText, SessionDep
from taskflow.api.responses import AUTH
from taskflow.errors import NotFoundError
from taskflow.models import UserCreate, UserRead, UserUpdate
from taskflow.services import users

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "Email already registered"}},
)
async def sign_up(data: UserCreate, session: SessionDep) -> UserRead:
    """Create an account."""
    user = await users.create_user(session, data)
    await session.commit()
    return UserRead.model_validate(user)


@router.get("/me", responses=AUTH)
async def read_me(me: CurrentUser) -> UserRead:
    """The signed-in user."""
    return UserRead.model_validate(me)


@router.patch("/me", responses=AUTH)
async def update_me(data: UserUpdate, me: CurrentUser, session: SessionDep) -> UserRead:
    """Change the signed-in user's name, password or active flag."""
    user = await users.update_user(session, me, data)
    await session.commit()
    return UserRead.model_validate(user)


@router.get("", responses=AUTH | {404: {"description": "No user with this email"}})
async def find_by_email(
    email: Annotated[SearchText, Query(max_length=320)], _caller: CallerId, session: SessionDep
) -> UserRead:
    """Exact look-up by email (to add members); there is no listing of all users."""
    user = await users.get_user_by_email(session, email)
    if user is None:
        raise NotFoundError("user not found")
    return UserRead.model_validate(user)


@router.get("/{user_id}", responses=AUTH | {404: {"description": "No such user"}})
async def read_user(user_id: IdPath, _caller: CallerId, session: SessionDep) -> UserRead:
    """A user's public profile."""
    return UserRead.model_validate(await users.get_user(session, user_id))
