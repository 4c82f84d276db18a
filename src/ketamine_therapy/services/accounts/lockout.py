"""Failed logins lock an account: :data:`MAX_FAILED_LOGINS` wrong passwords in a row (at the login form or when
changing one's own password) lock it for :data:`LOCKOUT`."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from ..ports import UnitOfWork
from ..ports.accounts import User

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


def count_failed_login(uow: UnitOfWork, user: User, now: datetime) -> tuple[int, datetime | None]:
    """Count a wrong password of ``user`` (inside the caller's transaction) and lock the account at the limit.

    Returns the failures in a row and, when this one locked the account, until when.
    """
    failures = uow.users.increment_failed_logins(user.id)
    if failures < MAX_FAILED_LOGINS:
        return failures, None
    uow.users.update(replace(user, failed_logins=failures, locked_until=now + LOCKOUT))
    return failures, now + LOCKOUT
