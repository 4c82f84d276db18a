"""How secrets are stored: passwords as argon2id hashes only, session and link tokens as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ...clinic.exceptions import InvalidAnswerError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; this only bounds the work an attacker can ask for

_HASHER = PasswordHasher()  # argon2id with the library's recommended parameters


def hash_token(token: str) -> str:
    """The SHA-256 (hex) under which a session or link token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salted)."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (False for a malformed hash)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's (upgrade it at the next login)."""
    return _HASHER.check_needs_rehash(password_hash)


@cache
def dummy_hash() -> str:
    """A hash to verify against for unknown users, so they take as long as known ones."""
    return _HASHER.hash(secrets.token_urlsafe(16))


def check_password(password: str) -> None:
    """Refuse a new password that is not text of 12-1024 characters (:class:`InvalidAnswerError`)."""
    if not isinstance(password, str):
        raise InvalidAnswerError("password", "is not text", f"{MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidAnswerError(
            "password", f"has {len(password)} characters", f"{MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters"
        )
