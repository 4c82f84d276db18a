"""Logging in: checking a username and password, and the login use case of the API and the web form.

The same :class:`AuthenticationError` answers an unknown name, a wrong password and an inactive account, so the
answer does not tell which usernames exist; :class:`AccountLockedError` is raised only to someone who gave the
right password. Every attempt is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from ..authorization import Actor, AuditEntry
from ..clock import Clock, utc_now
from ..ports import UnitOfWork
from ..ports.accounts import USERNAME
from .errors import AccountLockedError, AuthenticationError
from .hashing import dummy_hash, hash_password, hash_token, needs_rehash, verify_password
from .lockout import count_failed_login
from .login_sessions import IDLE_TIMEOUT, start_login_session
from .rate_limit import LoginRateLimiter


def _login_audit(uow: UnitOfWork, at: datetime, username: str, role: str, source: str, ok: bool, detail: str) -> None:
    name = username[:64] or "(empty)"
    uow.audit.append(
        AuditEntry(at=at, username=name, role=role, source=source[:100], action="login" if ok else "login-failed",
                   entity="user", entity_id=name, detail=detail)
    )  # fmt: skip


def authenticate(uow: UnitOfWork, username: str, password: str, source: str, *, clock: Clock = utc_now) -> Actor:
    """Check a username and password; returns the logged-in :class:`Actor` (``source`` is the IP or ``cli``).

    Raises :class:`AuthenticationError` (one message) for an unknown name, a wrong password or an inactive account,
    and :class:`AccountLockedError` when the password is right but the account is locked. Failed attempts are
    counted towards the lockout (:mod:`.lockout`) and audited even though the login fails. A success resets the
    counter and upgrades an outdated hash.
    """
    now = clock()
    name = username.strip().lower() if isinstance(username, str) else ""
    secret = password if isinstance(password, str) else ""
    with uow:
        user = uow.users.get_by_username(name) if USERNAME.fullmatch(name) else None
        if user is None:
            verify_password(dummy_hash(), secret)  # as slow as a real check: timing does not reveal unknown names
            # an unknown name may be a password typed in the wrong field: log only a short digest of it
            _login_audit(uow, now, f"unknown:{hash_token(name)[:8]}", "unknown", source, False, "unknown user")
            uow.commit()
            raise AuthenticationError()
        password_ok = verify_password(user.password_hash, secret)
        role = user.role.value
        if user.locked_until is not None and now < user.locked_until:
            _login_audit(uow, now, name, role, source, False, "account locked")
            uow.commit()
            raise AccountLockedError(user.locked_until) if password_ok else AuthenticationError()
        if user.locked_until is not None:  # the lock has run out: start counting afresh
            user = replace(user, failed_logins=0, locked_until=None)
            uow.users.update(user)
        if not password_ok:
            failures, locked_until = count_failed_login(uow, user, now)
            detail = f"wrong password ({failures} in a row)"
            if locked_until is not None:
                detail += f"; locked until {locked_until.isoformat()}"
            _login_audit(uow, now, name, role, source, False, detail)
            uow.commit()
            raise AuthenticationError()
        if not user.active:
            _login_audit(uow, now, name, role, source, False, "inactive account")
            uow.commit()
            raise AuthenticationError()
        updated = replace(user, failed_logins=0)
        if needs_rehash(user.password_hash):
            updated = replace(updated, password_hash=hash_password(secret))
        if updated != user:
            uow.users.update(updated)
        _login_audit(uow, now, name, role, source, True, "")
        uow.commit()
    return Actor(user.username, user.role, source, user.id, user.patient_id)


def log_in(
    new_uow: Callable[[], UnitOfWork],
    limiter: LoginRateLimiter,
    username: str,
    password: str,
    source: str,
    *,
    idle: timedelta = IDLE_TIMEOUT,
    clock: Clock = utc_now,
) -> tuple[str, str]:
    """The login use case of the API and the web form: rate-limit per ``source``, authenticate, start a session.

    Returns ``(token, csrf_token)``; raises :class:`.RateLimitedError`, :class:`AccountLockedError` or
    :class:`AuthenticationError` (every attempt counts towards the limit, failed ones are audited).
    """
    now = clock()
    limiter.check(source, now)
    limiter.record(source, now)
    actor = authenticate(new_uow(), username, password, source, clock=clock)
    return start_login_session(new_uow(), actor, clock=clock, idle=idle)
