"""Password hashing (pwdlib, argon2). No web framework here: the data layer uses it too."""

from functools import lru_cache

from pwdlib import PasswordHash

__all__ = ["hash_password", "verify_and_update_password"]


@lru_cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    """An argon2 hash of the password, with the current recommended parameters."""
    return _hasher().hash(password)


def verify_and_update_password(password: str, hashed: str) -> tuple[bool, str | None]:
    """Whether the password matches, and a new hash when the stored one is outdated."""
    return _hasher().verify_and_update(password, hashed)
