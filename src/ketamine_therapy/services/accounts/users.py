"""Logins and their passwords: creating, listing, (de)activating, resetting, changing one's own, the first admin.

A generated password is returned once, to be shown once; only its argon2id hash is stored. Every change of a
password ends all sessions of the user (whoever knew the old one is logged out).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from ...clinic.exceptions import InvalidAnswerError
from ..audit import audit
from ..authorization import SYSTEM, Actor, Permission, Role
from ..clock import Clock, utc_now
from ..ports import ConflictError, NotFoundError, UnitOfWork
from ..ports.accounts import USERNAME, User
from .errors import AuthenticationError
from .hashing import check_password, hash_password, verify_password
from .lockout import count_failed_login


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidAnswerError("role", f"{role!r} is not a role", ", ".join(r.value for r in Role)) from None


def _new_user(
    uow: UnitOfWork, actor: Actor, username: str, role: Role, password: str, patient_id: uuid.UUID | None, now: datetime
) -> User:
    """Add a user inside the caller's transaction (validated, unique, audited)."""
    if patient_id is not None:
        uow.patients.get(patient_id)  # NotFoundError for an unknown patient
    user = User(username=username, role=role, password_hash=hash_password(password), created_at=now,
                patient_id=patient_id)  # fmt: skip
    if uow.users.get_by_username(username) is not None:
        raise ConflictError(f"username {username!r} is taken")
    uow.users.add(user)  # also maps the database's unique violation (a concurrent insert) to ConflictError
    audit(uow, actor, "create", "user", username, patient_id, f"role {role.value}", at=now)
    return user


def create_user(
    uow: UnitOfWork,
    actor: Actor,
    username: str,
    role: Role | str,
    *,
    password: str | None = None,
    patient_id: uuid.UUID | None = None,
    clock: Clock = utc_now,
) -> tuple[User, str]:
    """Create a login; returns the user and the password in the clear, to be shown once (generated if not given).

    Needs :attr:`Permission.USER_ADMIN`. A given password must have at least 12 characters; a patient's login must
    name the patient (``patient_id``) and only a patient's may. A taken username raises :class:`ConflictError`.
    """
    actor.require(Permission.USER_ADMIN)
    checked_role = _role(role)
    if password is None:
        password = secrets.token_urlsafe(12)
    check_password(password)
    with uow:
        user = _new_user(uow, actor, username, checked_role, password, patient_id, clock())
        uow.commit()
    return user, password


def list_users(uow: UnitOfWork, actor: Actor) -> Sequence[User]:
    """All users by username (needs :attr:`Permission.USER_ADMIN`)."""
    actor.require(Permission.USER_ADMIN)
    with uow:
        return uow.users.list()


def set_user_active(uow: UnitOfWork, actor: Actor, username: str, active: bool, *, clock: Clock = utc_now) -> User:
    """Activate or deactivate a login (needs :attr:`Permission.USER_ADMIN`); a deactivated user's sessions end."""
    actor.require(Permission.USER_ADMIN)
    now = clock()
    with uow:
        user = uow.users.get_by_username(username)
        if user is None:
            raise NotFoundError(f"user {username!r}")
        updated = (
            replace(user, active=True, failed_logins=0, locked_until=None) if active else replace(user, active=False)
        )
        uow.users.update(updated)
        audit(uow, actor, "update", "user", username, detail="activated" if active else "deactivated", at=now)
        uow.commit()
    return updated


def _set_password(uow: UnitOfWork, user: User, password: str) -> int:
    """Store a new password hash and end every session of the user (inside the caller's transaction).

    The one way a password changes: whoever knew the old one (a stolen cookie, a shared screen) is logged out.
    Returns the number of sessions ended.
    """
    uow.users.update(replace(user, password_hash=hash_password(password), failed_logins=0, locked_until=None))
    return uow.login_sessions.delete_for_user(user.id)


def reset_password(uow: UnitOfWork, actor: Actor, username: str, *, clock: Clock = utc_now) -> str:
    """Give a login a new generated password (returned once), clear its lockout and end its sessions (USER_ADMIN)."""
    actor.require(Permission.USER_ADMIN)
    password = secrets.token_urlsafe(12)
    with uow:
        user = uow.users.get_by_username(username)
        if user is None:
            raise NotFoundError(f"user {username!r}")
        ended = _set_password(uow, user, password)
        audit(uow, actor, "update", "user", username, detail=f"password reset; {ended} sessions ended", at=clock())
        uow.commit()
    return password


def change_password(
    uow: UnitOfWork, actor: Actor, current_password: str, new_password: str, *, clock: Clock = utc_now
) -> None:
    """The logged-in user changes their own password; all their sessions end (this one too: log in again).

    A wrong ``current_password`` raises :class:`InvalidAnswerError` and counts as a failed login (five in a row
    lock the account, as at the login form). The new password has the login rules' length and must differ.
    """
    if actor.user_id is None:
        raise AuthenticationError()
    check_password(new_password)
    now = clock()
    with uow:
        user = uow.users.get(actor.user_id)
        if user is None or not user.active:
            raise AuthenticationError()
        if not verify_password(user.password_hash, current_password if isinstance(current_password, str) else ""):
            failures, locked_until = count_failed_login(uow, user, now)
            detail = f"password change: wrong current password ({failures} in a row)"
            if locked_until is not None:
                uow.login_sessions.delete_for_user(user.id)
                detail += f"; locked until {locked_until.isoformat()}, sessions ended"
            audit(uow, actor, "password-change-failed", "user", user.username, detail=detail, at=now)
            uow.commit()
            raise InvalidAnswerError("current_password", "is not your current password", "your current password")
        if verify_password(user.password_hash, new_password):
            raise InvalidAnswerError("new_password", "is the current password", "a different password")
        ended = _set_password(uow, user, new_password)
        audit(uow, actor, "update", "user", user.username, detail=f"own password changed; {ended} sessions ended",
              at=now)  # fmt: skip
        uow.commit()


def ensure_admin(uow: UnitOfWork, clock: Clock = utc_now) -> str | None:
    """Make sure an active admin exists; if none does, set up ``admin`` and return its new password (show it once).

    Returns None when an active admin already exists (so calling it on every start is safe). An existing but
    inactive ``admin`` login is reactivated as an admin with a new password.
    """
    password = secrets.token_urlsafe(12)
    now = clock()
    with uow:
        if uow.users.has_active_admin():
            return None
        existing = uow.users.get_by_username("admin")
        if existing is None:
            try:
                _new_user(uow, SYSTEM, "admin", Role.ADMIN, password, None, now)
            except ConflictError:  # another process created it just now
                return None
        else:
            _set_password(uow, replace(existing, role=Role.ADMIN, patient_id=None, active=True), password)
            audit(uow, SYSTEM, "update", "user", "admin", detail="reactivated as admin, new password", at=now)
        uow.commit()
    return password


def shell_actor(uow: UnitOfWork, username: str, source: str = "cli") -> Actor:
    """The actor of an active login, for a command run on the server's shell (whoever can run it owns the
    database, so no password is asked); its own permissions still apply and its reads are audited under its name."""
    name = username.strip().lower() if isinstance(username, str) else ""
    with uow:
        user = uow.users.get_by_username(name) if USERNAME.fullmatch(name) else None
    if user is None or not user.active:
        raise InvalidAnswerError("user", f"no active login named {username!r}", "an active login (users list)")
    return Actor(user.username, user.role, source, user.id, user.patient_id)
