"""The errors of logins, login sessions and questionnaire links (the HTTP edge maps each to a problem)."""

from __future__ import annotations

from datetime import datetime


class AccountError(Exception):
    """Base class of the account errors."""


class AuthenticationError(AccountError):
    """The login failed. The message is the same whatever the reason, so it does not reveal which names exist."""

    def __init__(self, message: str = "invalid username or password") -> None:
        super().__init__(message)


class AccountLockedError(AuthenticationError):
    """Too many failed logins in a row: the account is locked until ``locked_until`` (told only to the owner)."""

    def __init__(self, locked_until: datetime) -> None:
        super().__init__(f"account locked after too many failed logins; try again after {locked_until.isoformat()}")
        self.locked_until = locked_until


class RateLimitedError(AccountError):
    """Too many login attempts from one source; retry after ``retry_after_seconds``."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"too many login attempts; retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class SessionExpiredError(AccountError):
    """The login session is unknown, idle for too long, past its lifetime, or its user is inactive."""

    def __init__(self) -> None:
        super().__init__("session expired; please log in again")


class LinkInvalidError(AccountError):
    """The questionnaire link is unknown, already used or expired (one message for all three)."""

    def __init__(self) -> None:
        super().__init__("this questionnaire link is invalid, expired or already used")


class NotConfiguredError(AccountError):
    """A feature needs a setting the administrator has not made (the message names it)."""
