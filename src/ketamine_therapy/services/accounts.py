"""User accounts, logins, login sessions and patients' questionnaire links (DESIGN.md section 5).

- Passwords are stored as argon2id hashes only; a generated password is returned once, to be shown once.
- Logins give the same :class:`AuthenticationError` for an unknown name, a wrong password and an inactive
  account, so the answer does not tell which usernames exist. Five failures in a row lock the account for
  15 minutes; :class:`AccountLockedError` is raised only to someone who gave the right password.
- :class:`LoginRateLimiter` caps attempts per source (IP), whatever the usernames tried.
- Login sessions (web cookie, API bearer token) live on the server; the database holds only the SHA-256 of the
  token. They end after ``idle`` without use (automatic logoff) and after ``lifetime`` in any case.
- Questionnaire links are single-use and short-lived; a submission scores the answers, consumes the link with a
  conditional update and records the scale in one transaction, so two concurrent submissions record once.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..clinic.exceptions import InvalidAnswerError
from ..clinic.records import RecordedScale
from ..clinic.scales import score
from .account_ports import USERNAME, AuthSession, QuestionnaireLinkRecord, User
from .authorization import SYSTEM, Actor, AuditEntry, Permission, Role
from .patients import Clock, utc_now
from .ports import ConflictError, NotFoundError, UnitOfWork

__all__ = [
    "IDLE_TIMEOUT",
    "LINK_SCALES",
    "LOCKOUT",
    "MAX_FAILED_LOGINS",
    "MIN_PASSWORD_LENGTH",
    "SESSION_LIFETIME",
    "AccountError",
    "AccountLockedError",
    "AuthenticationError",
    "LinkInvalidError",
    "LoginRateLimiter",
    "NotConfiguredError",
    "QuestionnaireLink",
    "RateLimitedError",
    "SessionExpiredError",
    "User",
    "authenticate",
    "change_password",
    "create_questionnaire_link",
    "create_user",
    "end_session",
    "ensure_admin",
    "hash_token",
    "list_users",
    "log_in",
    "open_questionnaire",
    "questionnaire_link_url",
    "reset_password",
    "resolve_session",
    "set_user_active",
    "start_session",
    "submit_questionnaire",
]

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; this only bounds the work an attacker can ask for
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
IDLE_TIMEOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
LINK_TTL = timedelta(hours=72)
MAX_LINK_TTL = timedelta(days=7)
LINK_SCALES = ("PHQ-9", "GAD-7")
"""The questionnaires a patient may fill through a link (self-report scales)."""
LINK_SUBMITTER = "patient (questionnaire link)"

_HASHER = PasswordHasher()  # argon2id with the library's recommended parameters


class AccountError(Exception):
    """Base class of the errors of this module."""


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


@dataclass(frozen=True)
class QuestionnaireLink:
    """What a valid link opens: which questionnaire, for whom, until when."""

    patient_id: uuid.UUID
    scale_id: str
    expires_at: datetime


def hash_token(token: str) -> str:
    """The SHA-256 (hex) under which a session or link token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def _hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown users, so they take as long as known ones."""
    return _HASHER.hash(secrets.token_urlsafe(16))


def _check_password(password: str) -> None:
    if not isinstance(password, str):
        raise InvalidAnswerError("password", "is not text", f"{MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidAnswerError(
            "password", f"has {len(password)} characters", f"{MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters"
        )


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidAnswerError("role", f"{role!r} is not a role", ", ".join(r.value for r in Role)) from None


def _audit(
    uow: UnitOfWork,
    actor: Actor,
    at: datetime,
    action: str,
    entity: str,
    entity_id: str | None = None,
    patient_id: uuid.UUID | None = None,
    detail: str = "",
) -> None:
    uow.audit.append(
        AuditEntry(at=at, username=actor.username, role=actor.role.value, source=actor.source, action=action,
                   entity=entity, entity_id=entity_id, patient_id=patient_id, detail=detail)
    )  # fmt: skip


def _new_user(
    uow: UnitOfWork, actor: Actor, username: str, role: Role, password: str, patient_id: uuid.UUID | None, now: datetime
) -> User:
    """Add a user inside the caller's transaction (validated, unique, audited)."""
    if patient_id is not None:
        uow.patients.get(patient_id)  # NotFoundError for an unknown patient
    user = User(username=username, role=role, password_hash=_hash_password(password), created_at=now,
                patient_id=patient_id)  # fmt: skip
    if uow.users.get_by_username(username) is not None:
        raise ConflictError(f"username {username!r} is taken")
    uow.users.add(user)  # also maps the database's unique violation (a concurrent insert) to ConflictError
    _audit(uow, actor, now, "create", "user", entity_id=username, patient_id=patient_id, detail=f"role {role.value}")
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
    _check_password(password)
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
        _audit(uow, actor, now, "update", "user", entity_id=username, detail="activated" if active else "deactivated")
        uow.commit()
    return updated


def _set_password(uow: UnitOfWork, user: User, password: str) -> int:
    """Store a new password hash and end every session of the user (inside the caller's transaction).

    The one way a password changes: whoever knew the old one (a stolen cookie, a shared screen) is logged out.
    Returns the number of sessions ended.
    """
    uow.users.update(replace(user, password_hash=_hash_password(password), failed_logins=0, locked_until=None))
    return uow.auth_sessions.delete_for_user(user.id)


def reset_password(uow: UnitOfWork, actor: Actor, username: str, *, clock: Clock = utc_now) -> str:
    """Give a login a new generated password (returned once), clear its lockout and end its sessions (USER_ADMIN)."""
    actor.require(Permission.USER_ADMIN)
    password = secrets.token_urlsafe(12)
    with uow:
        user = uow.users.get_by_username(username)
        if user is None:
            raise NotFoundError(f"user {username!r}")
        ended = _set_password(uow, user, password)
        _audit(
            uow, actor, clock(), "update", "user", entity_id=username, detail=f"password reset; {ended} sessions ended"
        )
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
    _check_password(new_password)
    now = clock()
    with uow:
        user = uow.users.get(actor.user_id)
        if user is None or not user.active:
            raise AuthenticationError()
        if not _verify(user.password_hash, current_password if isinstance(current_password, str) else ""):
            failures = uow.users.increment_failed_logins(user.id)
            detail = f"password change: wrong current password ({failures} in a row)"
            if failures >= MAX_FAILED_LOGINS:
                uow.users.update(replace(user, failed_logins=failures, locked_until=now + LOCKOUT))
                uow.auth_sessions.delete_for_user(user.id)
                detail += f"; locked until {(now + LOCKOUT).isoformat()}, sessions ended"
            _audit(uow, actor, now, "password-change-failed", "user", entity_id=user.username, detail=detail)
            uow.commit()
            raise InvalidAnswerError("current_password", "is not your current password", "your current password")
        if _verify(user.password_hash, new_password):
            raise InvalidAnswerError("new_password", "is the current password", "a different password")
        ended = _set_password(uow, user, new_password)
        _audit(uow, actor, now, "update", "user", entity_id=user.username,
               detail=f"own password changed; {ended} sessions ended")  # fmt: skip
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
            _audit(uow, SYSTEM, now, "update", "user", entity_id="admin", detail="reactivated as admin, new password")
        uow.commit()
    return password


def _login_audit(uow: UnitOfWork, at: datetime, username: str, role: str, source: str, ok: bool, detail: str) -> None:
    name = username[:64] or "(empty)"
    uow.audit.append(
        AuditEntry(at=at, username=name, role=role, source=source[:100], action="login" if ok else "login-failed",
                   entity="user", entity_id=name, detail=detail)
    )  # fmt: skip


def authenticate(uow: UnitOfWork, username: str, password: str, source: str, *, clock: Clock = utc_now) -> Actor:
    """Check a username and password; returns the logged-in :class:`Actor` (``source`` is the IP or ``cli``).

    Raises :class:`AuthenticationError` (one message) for an unknown name, a wrong password or an inactive account,
    and :class:`AccountLockedError` when the password is right but the account is locked. After
    :data:`MAX_FAILED_LOGINS` failures in a row the account locks for :data:`LOCKOUT`; failed attempts are counted
    and audited even though the login fails. A success resets the counter and upgrades an outdated hash.
    """
    now = clock()
    name = username.strip().lower() if isinstance(username, str) else ""
    secret = password if isinstance(password, str) else ""
    with uow:
        user = uow.users.get_by_username(name) if USERNAME.fullmatch(name) else None
        if user is None:
            _verify(_dummy_hash(), secret)  # as slow as a real check: timing does not reveal unknown names
            # an unknown name may be a password typed in the wrong field: log only a short digest of it
            _login_audit(uow, now, f"unknown:{hash_token(name)[:8]}", "unknown", source, False, "unknown user")
            uow.commit()
            raise AuthenticationError()
        password_ok = _verify(user.password_hash, secret)
        role = user.role.value
        if user.locked_until is not None and now < user.locked_until:
            _login_audit(uow, now, name, role, source, False, "account locked")
            uow.commit()
            raise AccountLockedError(user.locked_until) if password_ok else AuthenticationError()
        if user.locked_until is not None:  # the lock has run out: start counting afresh
            user = replace(user, failed_logins=0, locked_until=None)
            uow.users.update(user)
        if not password_ok:
            failures = uow.users.increment_failed_logins(user.id)
            detail = f"wrong password ({failures} in a row)"
            if failures >= MAX_FAILED_LOGINS:
                uow.users.update(replace(user, failed_logins=failures, locked_until=now + LOCKOUT))
                detail += f"; locked until {(now + LOCKOUT).isoformat()}"
            _login_audit(uow, now, name, role, source, False, detail)
            uow.commit()
            raise AuthenticationError()
        if not user.active:
            _login_audit(uow, now, name, role, source, False, "inactive account")
            uow.commit()
            raise AuthenticationError()
        updated = replace(user, failed_logins=0)
        if _HASHER.check_needs_rehash(user.password_hash):
            updated = replace(updated, password_hash=_hash_password(secret))
        if updated != user:
            uow.users.update(updated)
        _login_audit(uow, now, name, role, source, True, "")
        uow.commit()
    return Actor(user.username, user.role, source, user.id, user.patient_id)


class LoginRateLimiter:
    """At most ``max_attempts`` login attempts per source (IP) within ``window``, whatever the usernames.

    Call :meth:`check` before :func:`authenticate` and :meth:`record` for each attempt. In memory, per process,
    thread-safe.
    """

    def __init__(self, max_attempts: int = 20, window: timedelta = timedelta(minutes=15)) -> None:
        if max_attempts < 1:
            raise InvalidAnswerError("max_attempts", f"{max_attempts} is below 1", ">= 1")
        if window <= timedelta(0):
            raise InvalidAnswerError("window", f"{window} is not positive", "a positive duration")
        self.max_attempts = max_attempts
        self.window = window
        self._attempts: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _prune(self, source: str, now: datetime) -> deque[datetime]:
        attempts = self._attempts.get(source, deque())
        while attempts and attempts[0] <= now - self.window:
            attempts.popleft()
        return attempts

    def check(self, source: str, now: datetime) -> None:
        """Raise :class:`RateLimitedError` if ``source`` used up its attempts within the window before ``now``."""
        with self._lock:
            attempts = self._prune(source, now)
            if not attempts:
                self._attempts.pop(source, None)
            elif len(attempts) >= self.max_attempts:
                wait = (attempts[-self.max_attempts] + self.window - now).total_seconds()
                raise RateLimitedError(max(1, math.ceil(wait)))

    def record(self, source: str, now: datetime) -> None:
        """Count one attempt from ``source`` at ``now``."""
        with self._lock:
            attempts = self._prune(source, now)
            attempts.append(now)
            while len(attempts) > self.max_attempts:  # older ones no longer matter
                attempts.popleft()
            self._attempts[source] = attempts
            if len(self._attempts) > 10_000:  # bound the memory: forget sources with nothing in the window
                for key in [k for k in self._attempts if not self._prune(k, now)]:
                    del self._attempts[key]


def start_session(
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
        uow.auth_sessions.add(
            AuthSession(token_hash=hash_token(token), user_id=user_id, csrf_token=csrf, created_at=now,
                        last_seen_at=now, expires_at=now + lifetime, idle_seconds=math.ceil(idle.total_seconds()))
        )  # fmt: skip
        uow.commit()
    return token, csrf


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

    Returns ``(token, csrf_token)``; raises :class:`RateLimitedError`, :class:`AccountLockedError` or
    :class:`AuthenticationError` (every attempt counts towards the limit, failed ones are audited).
    """
    now = clock()
    limiter.check(source, now)
    limiter.record(source, now)
    actor = authenticate(new_uow(), username, password, source, clock=clock)
    return start_session(new_uow(), actor, clock=clock, idle=idle)


def resolve_session(
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
        session = uow.auth_sessions.get(key)
        if session is None:
            raise SessionExpiredError()
        limit = idle if idle is not None else timedelta(seconds=session.idle_seconds)
        user = uow.users.get(session.user_id)
        if now - session.last_seen_at > limit or now >= session.expires_at or user is None or not user.active:
            uow.auth_sessions.delete(key)
            uow.commit()
            raise SessionExpiredError()
        uow.auth_sessions.touch(key, now)
        uow.commit()
    return Actor(user.username, user.role, source, user.id, user.patient_id), session.csrf_token


def end_session(uow: UnitOfWork, token: str, source: str = "system", *, clock: Clock = utc_now) -> None:
    """Log out: forget the session (nothing happens for an unknown token)."""
    if not isinstance(token, str) or not token:
        return
    key = hash_token(token)
    with uow:
        session = uow.auth_sessions.get(key)
        if session is None:
            return
        user = uow.users.get(session.user_id)
        uow.auth_sessions.delete(key)
        if user is not None:
            actor = Actor(user.username, user.role, source, user.id, user.patient_id)
            _audit(uow, actor, clock(), "logout", "user", entity_id=user.username)
        uow.commit()


def create_questionnaire_link(
    uow: UnitOfWork,
    actor: Actor,
    patient_id: uuid.UUID,
    scale_id: str,
    *,
    clock: Clock = utc_now,
    ttl: timedelta = LINK_TTL,
) -> str:
    """A single-use link token for the patient to fill ``scale_id`` (PHQ-9 or GAD-7) within ``ttl``.

    Needs :attr:`Permission.QUESTIONNAIRE_LINK`. Only the token's SHA-256 is stored: send the token to the patient.
    """
    actor.require(Permission.QUESTIONNAIRE_LINK)
    if scale_id not in LINK_SCALES:
        raise InvalidAnswerError("scale_id", f"{scale_id!r} cannot be sent as a link", ", ".join(LINK_SCALES))
    if not timedelta(0) < ttl <= MAX_LINK_TTL:
        raise InvalidAnswerError("ttl", f"{ttl} is not allowed", f"more than 0 and at most {MAX_LINK_TTL}")
    token = secrets.token_urlsafe(32)
    now = clock()
    with uow:
        uow.patients.get(patient_id)  # NotFoundError for an unknown patient
        link = QuestionnaireLinkRecord(token_hash=hash_token(token), patient_id=patient_id, scale_id=scale_id,
                                       created_at=now, created_by=actor.username, expires_at=now + ttl)  # fmt: skip
        uow.questionnaire_links.add(link)
        _audit(uow, actor, now, "create", "questionnaire-link", entity_id=str(link.id), patient_id=patient_id,
               detail=f"{scale_id}, expires {link.expires_at.isoformat()}")  # fmt: skip
        uow.commit()
    return token


def questionnaire_link_url(public_url: str, token: str) -> str:
    """The link sent to the patient: the clinic's configured public URL, never the request's ``Host`` header.

    Raises :class:`NotConfiguredError` while ``public_url`` is unset; call it with an empty token to check first.
    """
    if not public_url:
        raise NotConfiguredError("questionnaire links need the clinic's public URL: set KETAMINE_THERAPY_PUBLIC_URL "
                                 "(e.g. https://clinic.example.org)")  # fmt: skip
    return f"{public_url.rstrip('/')}/q/{token}"


def _valid_link(uow: UnitOfWork, token: str, now: datetime) -> QuestionnaireLinkRecord:
    if not isinstance(token, str) or not token:
        raise LinkInvalidError()
    link = uow.questionnaire_links.get(hash_token(token))
    if link is None or link.used_at is not None or now >= link.expires_at:
        raise LinkInvalidError()
    return link


def open_questionnaire(uow: UnitOfWork, token: str, *, clock: Clock = utc_now) -> QuestionnaireLink:
    """What a link opens; :class:`LinkInvalidError` if it is unknown, used or expired. Consumes nothing."""
    with uow:
        link = _valid_link(uow, token, clock())
    return QuestionnaireLink(link.patient_id, link.scale_id, link.expires_at)


def submit_questionnaire(
    uow: UnitOfWork, token: str, answers: Sequence[int], *, clock: Clock = utc_now, source: str = "questionnaire-link"
) -> RecordedScale:
    """Score the patient's answers and record them, consuming the link, in one transaction.

    Bad answers raise :class:`InvalidAnswerError` and change nothing (the link stays usable). Of two concurrent
    submissions only one records: the link is consumed by a conditional update, and the loser gets
    :class:`LinkInvalidError`. Check ``result.flags`` (PHQ-9 item 9: ``suicidality``) to alert the clinic.
    """
    now = clock()
    patient = Actor("patient-link", Role.PATIENT, source)
    with uow:
        link = _valid_link(uow, token, now)
        result = score(link.scale_id, answers)
        if not uow.questionnaire_links.mark_used(link.token_hash, now):
            raise LinkInvalidError()  # someone submitted it in between
        record = RecordedScale(link.patient_id, now.date(), result, now, LINK_SUBMITTER)
        uow.scales.add(record)
        flags = ", ".join(sorted(result.flags))
        _audit(uow, patient, now, "create", "scale", entity_id=str(record.id), patient_id=link.patient_id,
               detail=f"{link.scale_id} via link {link.id}" + (f"; flags: {flags}" if flags else ""))  # fmt: skip
        uow.commit()
    return record
