"""Password hashing (pwdlib, argon2) and access tokens (PyJWT). No web framework here."""

from datetime import timedelta
from functools import lru_cache

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from taskflow.config import get_settings
from taskflow.models.base import utc_now

__all__ = [
    "InvalidTokenError",
    "create_access_token",
    "decode_access_token",
    "hash_password",
    "verify_and_update_password",
    "warm_up",
]

ALGORITHM = "HS256"


class InvalidTokenError(Exception):
    """A token that is malformed, expired, forged or not ours."""


@lru_cache
def _hasher() -> PasswordHash:
    settings = get_settings()
    return PasswordHash(
        (
            Argon2Hasher(
                time_cost=settings.password_hash_time_cost,
                memory_cost=settings.password_hash_memory_kib,
            ),
        )
    )


@lru_cache
def _dummy_hash() -> str:
    return _hasher().hash("not-a-real-password")


def warm_up() -> None:
    """Build the hasher and the dummy hash now, so no sign-in pays for it."""
    _dummy_hash()


def hash_password(password: str) -> str:
    """An argon2 hash of the password, with the current recommended parameters."""
    return _hasher().hash(password)


def verify_and_update_password(password: str, hashed: str | None) -> tuple[bool, str | None]:
    """Whether the password matches, and a new hash when the stored one is outdated.

    With no stored hash (unknown user) a dummy hash is checked, so the answer takes as
    long as for a wrong password and does not reveal which emails exist.
    """
    if hashed is None:
        _hasher().verify(password, _dummy_hash())
        return False, None
    return _hasher().verify_and_update(password, hashed)


def create_access_token(user_id: int, *, secret: str, minutes: int) -> str:
    """A signed token naming the user, valid for `minutes`."""
    now = utc_now()
    claims = {"sub": str(user_id), "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, *, secret: str) -> int:
    """The user id a valid token names; InvalidTokenError otherwise."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]}
        )
        return int(claims["sub"])
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise InvalidTokenError(str(error)) from error
