"""Access tokens: what the verified-token cache must not change."""

import time

import jwt
import pytest

from taskflow.security import InvalidTokenError, create_access_token, decode_access_token

SECRET = "test-secret-" + "t" * 40


def test_a_token_verified_once_is_still_refused_once_it_expires() -> None:
    expires = int(time.time()) + 2  # PyJWT's claims are whole seconds
    token = jwt.encode({"sub": "7", "exp": expires}, SECRET, algorithm="HS256")
    assert decode_access_token(token, secret=SECRET) == 7
    assert decode_access_token(token, secret=SECRET) == 7  # from the cache now
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    with pytest.raises(InvalidTokenError, match="expired"):
        decode_access_token(token, secret=SECRET)


def test_a_verified_token_is_refused_under_another_secret() -> None:
    token = create_access_token(7, secret=SECRET, minutes=5)
    assert decode_access_token(token, secret=SECRET) == 7
    with pytest.raises(InvalidTokenError):
        decode_access_token(token, secret="rotated-secret-" + "r" * 40)


def test_a_refused_token_is_refused_every_time() -> None:
    forged = create_access_token(7, secret="not-ours-" + "n" * 40, minutes=5)
    no_subject = jwt.encode({"exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    not_a_number = jwt.encode({"sub": "x", "exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    # Signed with the secret, but an expiry no clock reaches (JSON's Infinity).
    endless = jwt.encode({"sub": "7", "exp": float("inf")}, SECRET, algorithm="HS256")
    for token in (forged, no_subject, not_a_number, endless, "garbage"):
        for _ in range(2):
            with pytest.raises(InvalidTokenError):
                decode_access_token(token, secret=SECRET)
