"""Password hashing (pwdlib, argon2) and access tokens (PyJWT). No web framework here."""

import time
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
        user_id, expires = _verified_claims(token, secret)
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise InvalidTokenError(str(error)) from error
    # Checked on every use: a verified token stays in the cache after it expires.
    if expires <= time.time():
        raise InvalidTokenError("Signature has expired")
    return user_id


@lru_cache(maxsize=4096)
def _verified_claims(token: str, secret: str) -> tuple[int, int]:
    """The user id and expiry of a token whose signature and claims PyJWT accepted.

    A client sends the same token with every request until it expires; checking its
    signature again (key set-up, HMAC, base64 and JSON decoding) cost about 120 µs a
    request, a seventh of reading a task. Only tokens that passed are remembered (a
    refusal raises, and lru_cache keeps no exceptions), so nothing a client makes up can
    fill the cache (PyJWT from 2.15 accepts one spelling of each token's base64, give or
    take its padding); the secret is part of the key, so a new one verifies afresh. The
    expiry is kept in whole seconds, as PyJWT compares it.
    """
    claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]})
    return int(claims["sub"]), int(claims["exp"])
