"""Login sessions (web cookie, API bearer token) live on the server; the database holds only the SHA-256 of the
token. They end after ``idle`` without use (automatic logoff) and after ``lifetime`` in any case."""

from __future__ import annotations

import math
import secrets
from datetime import timedelta

from ...clinic.exceptions import InvalidAnswerError
from ..audit import audit
from ..authorization import Actor
from ..clock import Clock, utc_now
from ..ports import UnitOfWork
from ..ports.accounts import LoginSession, User
from .errors import AuthenticationError, SessionExpiredError
from .hashing import hash_token

IDLE_TIMEOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)


def start_login_session(
    uow: UnitOfWork,
    user: User | Actor,
    *,
    clock: Clock = utc_now,
    idle: timedelta = IDLE_TIMEOUT,
    lifetime: timedelta = SESSION_LIFETIME,
) -> tuple[str, str]:
    """Open a login session for an authenticated user; returns ``(token, csrf_token)``.

    The token is the web cookie or the API bearer token; only its SHA-256 is stored. The session ends after
    ``idle`` without a request and after ``lifetime`` in any case.
    """
    user_id = user.id if isinstance(user, User) else user.user_id
    if user_id is None:
        raise InvalidAnswerError("user", "has no user id", "a logged-in user")
    if idle <= timedelta(0) or lifetime <= timedelta(0):
        raise InvalidAnswerError("idle", "idle time and lifetime must be positive", "positive durations")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = clock()
    with uow:
        stored = uow.users.get(user_id)
        if stored is None or not stored.active:
            raise AuthenticationError()
        uow.login_sessions.add(
            LoginSession(token_hash=hash_token(token), user_id=user_id, csrf_token=csrf, created_at=now,
                        last_seen_at=now, expires_at=now + lifetime, idle_seconds=math.ceil(idle.total_seconds()))
        )  # fmt: skip
        uow.commit()
    return token, csrf


def resolve_login_session(
    uow: UnitOfWork, token: str, source: str, *, clock: Clock = utc_now, idle: timedelta | None = None
) -> tuple[Actor, str]:
    """The :class:`Actor` of a session token and its CSRF token; marks the session as used now.

    Raises :class:`SessionExpiredError` if the token is unknown, the session was idle longer than ``idle``
    (default: the idle time it was started with), is past its lifetime, or its user is inactive or gone.
    """
    if not isinstance(token, str) or not token:
        raise SessionExpiredError()
    key = hash_token(token)
    now = clock()
    with uow:
        session = uow.login_sessions.get(key)
        if session is None:
            raise SessionExpiredError()
        limit = idle if idle is not None else timedelta(seconds=session.idle_seconds)
        user = uow.users.get(session.user_id)
        if now - session.last_seen_at > limit or now >= session.expires_at or user is None or not user.active:
            uow.login_sessions.delete(key)
            uow.commit()
            raise SessionExpiredError()
        uow.login_sessions.touch(key, now)
        uow.commit()
    return Actor(user.username, user.role, source, user.id, user.patient_id), session.csrf_token


def end_login_session(uow: UnitOfWork, token: str, source: str = "system", *, clock: Clock = utc_now) -> None:
    """Log out: forget the session (nothing happens for an unknown token)."""
    if not isinstance(token, str) or not token:
        return
    key = hash_token(token)
    with uow:
        session = uow.login_sessions.get(key)
        if session is None:
            return
        user = uow.users.get(session.user_id)
        uow.login_sessions.delete(key)
        if user is not None:
            actor = Actor(user.username, user.role, source, user.id, user.patient_id)
            audit(uow, actor, "logout", "user", user.username, at=clock())
        uow.commit()
