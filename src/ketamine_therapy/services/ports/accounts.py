"""Ports and records of user accounts, login sessions and patients' questionnaire links (storage implements them).

Secrets never reach these records in the clear: users carry an argon2id hash, sessions and links the SHA-256 of
their token (the token itself is shown once, to its owner).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ...clinic.exceptions import InvalidAnswerError
from ..authorization import Role

USERNAME = re.compile(r"[a-z0-9._-]{3,64}")
"""Allowed usernames: 3-64 characters of lower-case letters, digits, ``.``, ``_`` and ``-``."""


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise InvalidAnswerError(name, "naive datetime", "a timezone-aware UTC datetime")


@dataclass(frozen=True)
class User:
    """A login. ``patient_id`` is set exactly for patients; ``password_hash`` is an argon2id hash, never the password.

    ``failed_logins`` counts consecutive failures; ``locked_until`` is set once too many failures were made in a row.
    """

    username: str
    role: Role
    password_hash: str
    created_at: datetime
    patient_id: uuid.UUID | None = None
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    def __post_init__(self) -> None:
        if not isinstance(self.username, str) or not USERNAME.fullmatch(self.username):
            raise InvalidAnswerError(
                "username", f"{self.username!r} is not allowed", "3-64 characters of a-z 0-9 . _ -"
            )
        if not isinstance(self.role, Role):
            raise InvalidAnswerError("role", f"{self.role!r} is not a role", ", ".join(r.value for r in Role))
        if (self.role is Role.PATIENT) != (self.patient_id is not None):
            raise InvalidAnswerError(
                "patient_id",
                "is required for a patient" if self.role is Role.PATIENT else "is only allowed for a patient",
                "a patient's id exactly when the role is patient",
            )
        if not self.password_hash:
            raise InvalidAnswerError("password_hash", "is empty", "an argon2id hash")
        if self.failed_logins < 0:
            raise InvalidAnswerError("failed_logins", f"{self.failed_logins} is negative", ">= 0")
        _aware("created_at", self.created_at)
        _aware("locked_until", self.locked_until)


@dataclass(frozen=True)
class LoginSession:
    """A server-side login session (web cookie or API bearer token), stored by the SHA-256 of its token."""

    token_hash: str
    user_id: uuid.UUID
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    idle_seconds: int
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class QuestionnaireLinkRecord:
    """A single-use, short-lived link for a patient to fill one questionnaire, stored by the SHA-256 of its token."""

    token_hash: str
    patient_id: uuid.UUID
    scale_id: str
    created_at: datetime
    created_by: str
    expires_at: datetime
    used_at: datetime | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


class UserRepository(Protocol):
    """Users by id and by username."""

    def add(self, user: User) -> None:
        """Store a new user; :class:`~.ports.ConflictError` if the username is taken."""
        ...

    def get(self, user_id: uuid.UUID) -> User | None: ...
    def get_by_username(self, username: str) -> User | None: ...
    def update(self, user: User) -> None:
        """Store the user's current state (role, active, hash, failure counter, lock)."""
        ...

    def increment_failed_logins(self, user_id: uuid.UUID) -> int:
        """Add one failed login atomically (concurrent failures all count); returns the new count."""
        ...

    def list(self) -> Sequence[User]: ...
    def has_active_admin(self) -> bool: ...


class LoginSessionRepository(Protocol):
    """Login sessions by token hash."""

    def add(self, session: LoginSession) -> None: ...
    def get(self, token_hash: str) -> LoginSession | None: ...
    def touch(self, token_hash: str, last_seen_at: datetime) -> None: ...
    def delete(self, token_hash: str) -> None: ...
    def delete_for_user(self, user_id: uuid.UUID) -> int:
        """End every session of the user; returns how many there were."""
        ...


class QuestionnaireLinkRepository(Protocol):
    """Questionnaire links by token hash."""

    def add(self, link: QuestionnaireLinkRecord) -> None: ...
    def get(self, token_hash: str) -> QuestionnaireLinkRecord | None: ...
    def mark_used(self, token_hash: str, now: datetime) -> bool:
        """Mark the link used if it is still unused and unexpired at ``now`` (one conditional update).

        Returns whether this call consumed it: of two concurrent submissions only one gets True.
        """
        ...
