"""Accounts, logins, login sessions and questionnaire links against an in-memory unit of work (no database)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self, cast

import pytest
from argon2 import PasswordHasher

from ketamine_therapy.clinic.exceptions import InvalidAnswerError
from ketamine_therapy.clinic.records import RecordedScale
from ketamine_therapy.services.accounts.errors import (
    AccountLockedError,
    AuthenticationError,
    LinkInvalidError,
    RateLimitedError,
    SessionExpiredError,
)
from ketamine_therapy.services.accounts.hashing import hash_token
from ketamine_therapy.services.accounts.login import authenticate
from ketamine_therapy.services.accounts.login_sessions import (
    end_login_session,
    resolve_login_session,
    start_login_session,
)
from ketamine_therapy.services.accounts.questionnaire_links import (
    LINK_SUBMITTER,
    create_questionnaire_link,
    open_questionnaire,
    submit_questionnaire,
)
from ketamine_therapy.services.accounts.rate_limit import LoginRateLimiter
from ketamine_therapy.services.accounts.users import create_user, ensure_admin, list_users, set_user_active
from ketamine_therapy.services.authorization import (
    PERMISSIONS,
    SYSTEM,
    Actor,
    AuditEntry,
    Permission,
    PermissionDeniedError,
    Role,
)
from ketamine_therapy.services.ports import ConflictError, NotFoundError, UnitOfWork
from ketamine_therapy.services.ports.accounts import LoginSession, QuestionnaireLinkRecord, User

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
PATIENT = uuid.uuid4()


@dataclass
class State:
    """What a database holds: replaced wholesale on commit, so an uncommitted change is lost."""

    users: dict[uuid.UUID, User] = field(default_factory=dict)
    sessions: dict[str, LoginSession] = field(default_factory=dict)
    links: dict[str, QuestionnaireLinkRecord] = field(default_factory=dict)
    scales: list[RecordedScale] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    patients: set[uuid.UUID] = field(default_factory=lambda: {PATIENT})

    def copy(self) -> State:
        return State(dict(self.users), dict(self.sessions), dict(self.links), list(self.scales), list(self.audit),
                     set(self.patients))  # fmt: skip


class FakeUsers:
    def __init__(self, state: State) -> None:
        self.state = state

    def add(self, user: User) -> None:
        if self.get_by_username(user.username) is not None:
            raise ConflictError(user.username)
        self.state.users[user.id] = user

    def get(self, user_id: uuid.UUID) -> User | None:
        return self.state.users.get(user_id)

    def get_by_username(self, username: str) -> User | None:
        return next((u for u in self.state.users.values() if u.username == username), None)

    def update(self, user: User) -> None:
        self.state.users[user.id] = user

    def increment_failed_logins(self, user_id: uuid.UUID) -> int:
        user = self.state.users[user_id]
        self.state.users[user_id] = replace(user, failed_logins=user.failed_logins + 1)
        return user.failed_logins + 1

    def list(self) -> Sequence[User]:
        return sorted(self.state.users.values(), key=lambda u: u.username)

    def has_active_admin(self) -> bool:
        return any(u.role is Role.ADMIN and u.active for u in self.state.users.values())


class FakeSessions:
    def __init__(self, state: State) -> None:
        self.state = state

    def add(self, session: LoginSession) -> None:
        self.state.sessions[session.token_hash] = session

    def get(self, token_hash: str) -> LoginSession | None:
        return self.state.sessions.get(token_hash)

    def touch(self, token_hash: str, last_seen_at: datetime) -> None:
        self.state.sessions[token_hash] = replace(self.state.sessions[token_hash], last_seen_at=last_seen_at)

    def delete(self, token_hash: str) -> None:
        self.state.sessions.pop(token_hash, None)

    def delete_for_user(self, user_id: uuid.UUID) -> int:
        ended = [k for k, s in self.state.sessions.items() if s.user_id == user_id]
        for key in ended:
            del self.state.sessions[key]
        return len(ended)


class FakeLinks:
    def __init__(self, state: State) -> None:
        self.state = state

    def add(self, link: QuestionnaireLinkRecord) -> None:
        self.state.links[link.token_hash] = link

    def get(self, token_hash: str) -> QuestionnaireLinkRecord | None:
        return self.state.links.get(token_hash)

    def mark_used(self, token_hash: str, now: datetime) -> bool:
        link = self.state.links.get(token_hash)
        if link is None or link.used_at is not None or now >= link.expires_at:
            return False
        self.state.links[token_hash] = replace(link, used_at=now)
        return True


class FakePatients:
    def __init__(self, state: State) -> None:
        self.state = state

    def get(self, patient_id: uuid.UUID) -> tuple[object, int]:
        if patient_id not in self.state.patients:
            raise NotFoundError(f"patient {patient_id}")
        return object(), 1


class FakeScales:
    def __init__(self, state: State) -> None:
        self.state = state

    def add(self, record: RecordedScale) -> None:
        self.state.scales.append(record)


class FakeAudit:
    def __init__(self, state: State) -> None:
        self.state = state

    def append(self, entry: AuditEntry) -> None:
        self.state.audit.append(entry)


class FakeUow:
    """A unit of work on ``db``: changes are made on a copy that only ``commit()`` publishes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def __enter__(self) -> Self:
        self.work = self.db.state.copy()
        self.users = FakeUsers(self.work)
        self.login_sessions = FakeSessions(self.work)
        self.questionnaire_links = FakeLinks(self.work)
        self.patients = FakePatients(self.work)
        self.scales = FakeScales(self.work)
        self.audit = FakeAudit(self.work)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        del self.work

    def commit(self) -> None:
        self.db.state = self.work.copy()


@dataclass
class Database:
    state: State = field(default_factory=State)

    def uow(self) -> UnitOfWork:
        return cast("UnitOfWork", FakeUow(self))  # implements the parts the account use cases touch

    def user(self, username: str) -> User:
        return next(u for u in self.state.users.values() if u.username == username)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def db() -> Database:
    return Database()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def add_user(db: Database, username: str = "nurse.kim", role: Role = Role.NURSE, **kwargs: object) -> User:
    user, _ = create_user(db.uow(), SYSTEM, username, role, password=PASSWORD, **kwargs)  # type: ignore[arg-type]
    return user


def roles(permission: Permission, *, allowed: bool) -> list[Role]:
    return [role for role in Role if (permission in PERMISSIONS[role]) == allowed]


# --- users -----------------------------------------------------------------------------------------------------------


def test_password_is_stored_as_argon2id_only(db: Database) -> None:
    user, plain = create_user(db.uow(), SYSTEM, "dr.lee", Role.PRESCRIBER, password=PASSWORD)
    assert plain == PASSWORD
    stored = db.user("dr.lee")
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in repr(stored)
    assert PasswordHasher().verify(stored.password_hash, PASSWORD)
    assert stored == user
    assert [(e.action, e.entity, e.entity_id) for e in db.state.audit] == [("create", "user", "dr.lee")]


def test_generated_password_is_returned_once_and_works(db: Database) -> None:
    user, plain = create_user(db.uow(), SYSTEM, "dr.lee", "prescriber")
    assert len(plain) >= 12
    assert plain not in user.password_hash
    assert authenticate(db.uow(), "dr.lee", plain, "10.0.0.1").username == "dr.lee"


@pytest.mark.parametrize(
    ("username", "role", "password", "patient_id", "bad_field"),
    [
        ("dr.lee", Role.PRESCRIBER, "short", None, "password"),
        ("Dr Lee", Role.PRESCRIBER, PASSWORD, None, "username"),
        ("dl", Role.PRESCRIBER, PASSWORD, None, "username"),
        ("x" * 65, Role.PRESCRIBER, PASSWORD, None, "username"),
        ("dr.lee", "surgeon", PASSWORD, None, "role"),
        ("ada", Role.PATIENT, PASSWORD, None, "patient_id"),
        ("dr.lee", Role.PRESCRIBER, PASSWORD, PATIENT, "patient_id"),
    ],
)
def test_bad_user_input_names_the_field(
    db: Database, username: str, role: Role, password: str, patient_id: uuid.UUID | None, bad_field: str
) -> None:
    with pytest.raises(InvalidAnswerError) as exc:
        create_user(db.uow(), SYSTEM, username, role, password=password, patient_id=patient_id)
    assert exc.value.field == bad_field
    assert exc.value.allowed
    assert db.state.users == {}


def test_patient_login_names_an_existing_patient(db: Database) -> None:
    user = add_user(db, "ada", Role.PATIENT, patient_id=PATIENT)
    assert user.patient_id == PATIENT
    with pytest.raises(NotFoundError):
        add_user(db, "bob", Role.PATIENT, patient_id=uuid.uuid4())
    actor = authenticate(db.uow(), "ada", PASSWORD, "10.0.0.1")
    assert (actor.role, actor.patient_id) == (Role.PATIENT, PATIENT)


def test_duplicate_username_conflicts(db: Database) -> None:
    add_user(db)
    with pytest.raises(ConflictError):
        add_user(db)
    assert len(db.state.users) == 1


@pytest.mark.parametrize("role", roles(Permission.USER_ADMIN, allowed=False))
def test_only_user_admins_manage_users(db: Database, role: Role) -> None:
    actor = Actor("someone", role, "10.0.0.1")
    with pytest.raises(PermissionDeniedError):
        create_user(db.uow(), actor, "new.user", Role.NURSE, password=PASSWORD)
    with pytest.raises(PermissionDeniedError):
        list_users(db.uow(), actor)
    with pytest.raises(PermissionDeniedError):
        set_user_active(db.uow(), actor, "new.user", False)
    assert db.state.users == {}


@pytest.mark.parametrize("role", roles(Permission.USER_ADMIN, allowed=True))
def test_user_admins_create_users(db: Database, role: Role) -> None:
    create_user(db.uow(), Actor("boss", role, "10.0.0.1"), "new.user", Role.NURSE, password=PASSWORD)
    assert [u.username for u in list_users(db.uow(), SYSTEM)] == ["new.user"]
    assert db.state.audit[-1].username == "boss"


def test_ensure_admin_is_idempotent(db: Database) -> None:
    password = ensure_admin(db.uow())
    assert password is not None
    assert ensure_admin(db.uow()) is None
    assert [u.username for u in db.state.users.values()] == ["admin"]
    assert authenticate(db.uow(), "admin", password, "cli").role is Role.ADMIN


def test_ensure_admin_reactivates_an_inactive_admin(db: Database) -> None:
    first = ensure_admin(db.uow())
    assert first is not None
    set_user_active(db.uow(), SYSTEM, "admin", False)
    second = ensure_admin(db.uow())
    assert second is not None
    assert second != first
    assert authenticate(db.uow(), "admin", second, "cli").role is Role.ADMIN


# --- logins ----------------------------------------------------------------------------------------------------------


def test_login_returns_the_actor_and_is_audited(db: Database, clock: Clock) -> None:
    user = add_user(db)
    actor = authenticate(db.uow(), "nurse.kim", PASSWORD, "10.0.0.7", clock=clock)
    assert actor == Actor("nurse.kim", Role.NURSE, "10.0.0.7", user.id, None)
    entry = db.state.audit[-1]
    assert (entry.action, entry.entity, entry.entity_id, entry.source, entry.at) == (
        "login", "user", "nurse.kim", "10.0.0.7", T0
    )  # fmt: skip


def test_unknown_user_wrong_password_and_inactive_get_the_same_error(db: Database) -> None:
    add_user(db)
    add_user(db, "gone.user")
    set_user_active(db.uow(), SYSTEM, "gone.user", False)
    messages = set()
    for username, password in (("nobody", PASSWORD), ("nurse.kim", "wrong password!"), ("gone.user", PASSWORD),
                               ("", ""), ("NOBODY WITH SPACES", "x")):  # fmt: skip
        with pytest.raises(AuthenticationError) as exc:
            authenticate(db.uow(), username, password, "10.0.0.1")
        assert type(exc.value) is AuthenticationError
        messages.add(str(exc.value))
    assert messages == {"invalid username or password"}
    assert [e.action for e in db.state.audit[-5:]] == ["login-failed"] * 5
    assert [e.detail for e in db.state.audit[-5:]][:3] == ["unknown user", "wrong password (1 in a row)",
                                                           "inactive account"]  # fmt: skip


def test_username_is_matched_case_insensitively(db: Database) -> None:
    add_user(db)
    assert authenticate(db.uow(), " Nurse.Kim ", PASSWORD, "10.0.0.1").username == "nurse.kim"


def test_five_failures_lock_the_account_for_15_minutes(db: Database, clock: Clock) -> None:
    add_user(db)
    for n in range(1, 6):
        with pytest.raises(AuthenticationError) as exc:
            authenticate(db.uow(), "nurse.kim", f"wrong guess {n}", "10.0.0.1", clock=clock)
        assert type(exc.value) is AuthenticationError  # the 5th failure still says nothing about a lock
        assert db.user("nurse.kim").failed_logins == n  # committed although the login failed
        clock.advance(timedelta(seconds=10))
    locked_until = T0 + timedelta(seconds=40) + timedelta(minutes=15)
    assert db.user("nurse.kim").locked_until == locked_until
    with pytest.raises(AccountLockedError) as locked:  # the right password learns about the lock ...
        authenticate(db.uow(), "nurse.kim", PASSWORD, "10.0.0.1", clock=clock)
    assert locked.value.locked_until == locked_until
    with pytest.raises(AuthenticationError) as exc:  # ... a wrong one does not
        authenticate(db.uow(), "nurse.kim", "still guessing", "10.0.0.1", clock=clock)
    assert type(exc.value) is AuthenticationError
    assert db.user("nurse.kim").locked_until == locked_until  # attempts during the lock do not extend it
    clock.now = locked_until
    actor = authenticate(db.uow(), "nurse.kim", PASSWORD, "10.0.0.1", clock=clock)
    assert actor.username == "nurse.kim"
    assert (db.user("nurse.kim").failed_logins, db.user("nurse.kim").locked_until) == (0, None)


def test_after_a_lock_runs_out_counting_starts_afresh(db: Database, clock: Clock) -> None:
    add_user(db)
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            authenticate(db.uow(), "nurse.kim", "wrong guess", "10.0.0.1", clock=clock)
    clock.advance(timedelta(minutes=15))
    with pytest.raises(AuthenticationError):
        authenticate(db.uow(), "nurse.kim", "wrong again", "10.0.0.1", clock=clock)
    assert (db.user("nurse.kim").failed_logins, db.user("nurse.kim").locked_until) == (1, None)


def test_a_success_resets_the_failure_count(db: Database) -> None:
    add_user(db)
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            authenticate(db.uow(), "nurse.kim", "wrong guess", "10.0.0.1")
    authenticate(db.uow(), "nurse.kim", PASSWORD, "10.0.0.1")
    assert db.user("nurse.kim").failed_logins == 0
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            authenticate(db.uow(), "nurse.kim", "wrong guess", "10.0.0.1")
    assert authenticate(db.uow(), "nurse.kim", PASSWORD, "10.0.0.1").username == "nurse.kim"


def test_outdated_hash_is_upgraded_at_login(db: Database) -> None:
    user = add_user(db)
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    db.state.users[user.id] = replace(user, password_hash=weak)
    authenticate(db.uow(), "nurse.kim", PASSWORD, "10.0.0.1")
    upgraded = db.user("nurse.kim").password_hash
    assert upgraded != weak
    assert not PasswordHasher().check_needs_rehash(upgraded)
    assert PasswordHasher().verify(upgraded, PASSWORD)


# --- rate limiter ----------------------------------------------------------------------------------------------------


def test_rate_limiter_blocks_a_source_after_its_attempts() -> None:
    limiter = LoginRateLimiter(max_attempts=20, window=timedelta(minutes=15))
    for i in range(20):
        limiter.check("10.0.0.1", T0 + timedelta(seconds=i))
        limiter.record("10.0.0.1", T0 + timedelta(seconds=i))
    with pytest.raises(RateLimitedError) as exc:
        limiter.check("10.0.0.1", T0 + timedelta(seconds=30))
    assert exc.value.retry_after_seconds == 15 * 60 - 30  # until the first attempt leaves the window
    limiter.check("10.0.0.2", T0 + timedelta(seconds=30))  # other sources are not affected
    limiter.check("10.0.0.1", T0 + timedelta(minutes=15))  # the first attempt has left the window


def test_rate_limiter_defaults_and_bad_settings() -> None:
    limiter = LoginRateLimiter()
    assert (limiter.max_attempts, limiter.window) == (20, timedelta(minutes=15))
    with pytest.raises(InvalidAnswerError):
        LoginRateLimiter(max_attempts=0)
    with pytest.raises(InvalidAnswerError):
        LoginRateLimiter(window=timedelta(0))


def test_rate_limiter_is_thread_safe() -> None:
    limiter = LoginRateLimiter(max_attempts=200)
    start = threading.Barrier(8)

    def attempts() -> None:
        start.wait()
        for _ in range(25):
            limiter.record("10.0.0.1", T0)

    threads = [threading.Thread(target=attempts) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with pytest.raises(RateLimitedError):
        limiter.check("10.0.0.1", T0)
    limiter2 = LoginRateLimiter(max_attempts=201)
    for _ in range(200):
        limiter2.record("10.0.0.1", T0)
    limiter2.check("10.0.0.1", T0)


# --- sessions --------------------------------------------------------------------------------------------------------


def test_session_resolves_to_the_actor_with_a_csrf_token(db: Database, clock: Clock) -> None:
    user = add_user(db)
    token, csrf = start_login_session(db.uow(), user, clock=clock)
    assert token != csrf
    assert len(token) >= 32
    assert list(db.state.sessions) == [hash_token(token)]  # only the hash is stored
    assert token not in repr(db.state.sessions)
    clock.advance(timedelta(minutes=10))
    actor, csrf_again = resolve_login_session(db.uow(), token, "10.0.0.9", clock=clock)
    assert actor == Actor("nurse.kim", Role.NURSE, "10.0.0.9", user.id, None)
    assert csrf_again == csrf
    assert db.state.sessions[hash_token(token)].last_seen_at == T0 + timedelta(minutes=10)


def test_session_ends_after_15_idle_minutes(db: Database, clock: Clock) -> None:
    actor = authenticate(db.uow(), add_user(db).username, PASSWORD, "10.0.0.1")
    token, _ = start_login_session(db.uow(), actor, clock=clock)
    for _ in range(3):  # activity keeps it alive
        clock.advance(timedelta(minutes=14))
        resolve_login_session(db.uow(), token, "10.0.0.1", clock=clock)
    clock.advance(timedelta(minutes=15, seconds=1))
    with pytest.raises(SessionExpiredError):
        resolve_login_session(db.uow(), token, "10.0.0.1", clock=clock)
    assert db.state.sessions == {}
    clock.advance(timedelta(seconds=-30))  # gone for good, even if the clock went back
    with pytest.raises(SessionExpiredError):
        resolve_login_session(db.uow(), token, "10.0.0.1", clock=clock)


def test_session_idle_limit_can_be_set_per_call(db: Database, clock: Clock) -> None:
    token, _ = start_login_session(db.uow(), add_user(db), clock=clock, idle=timedelta(minutes=30))
    clock.advance(timedelta(minutes=20))
    resolve_login_session(db.uow(), token, "10.0.0.1", clock=clock)
    clock.advance(timedelta(minutes=6))
    with pytest.raises(SessionExpiredError):
        resolve_login_session(db.uow(), token, "10.0.0.1", clock=clock, idle=timedelta(minutes=5))


def test_session_ends_after_its_lifetime_however_active(db: Database, clock: Clock) -> None:
    token, _ = start_login_session(db.uow(), add_user(db), clock=clock, lifetime=timedelta(hours=1))
    for _ in range(5):
        clock.advance(timedelta(minutes=10))
        resolve_login_session(db.uow(), token, "10.0.0.1", clock=clock)
    clock.advance(timedelta(minutes=10))
    with pytest.raises(SessionExpiredError):
        resolve_login_session(db.uow(), token, "10.0.0.1", clock=clock)


def test_session_of_a_deactivated_user_ends(db: Database, clock: Clock) -> None:
    token, _ = start_login_session(db.uow(), add_user(db), clock=clock)
    set_user_active(db.uow(), SYSTEM, "nurse.kim", False)
    with pytest.raises(SessionExpiredError):
        resolve_login_session(db.uow(), token, "10.0.0.1", clock=clock)
    with pytest.raises(AuthenticationError):
        start_login_session(db.uow(), db.user("nurse.kim"), clock=clock)


def test_unknown_tokens_and_logout(db: Database, clock: Clock) -> None:
    token, _ = start_login_session(db.uow(), add_user(db), clock=clock)
    for bad in ("", "not-a-token", token + "x"):
        with pytest.raises(SessionExpiredError):
            resolve_login_session(db.uow(), bad, "10.0.0.1", clock=clock)
    end_login_session(db.uow(), token, "10.0.0.1", clock=clock)
    end_login_session(db.uow(), token)  # twice is fine
    with pytest.raises(SessionExpiredError):
        resolve_login_session(db.uow(), token, "10.0.0.1", clock=clock)
    assert db.state.audit[-1].action == "logout"


def test_session_needs_a_user_id(db: Database) -> None:
    with pytest.raises(InvalidAnswerError) as exc:
        start_login_session(db.uow(), SYSTEM)
    assert exc.value.field == "user"


# --- questionnaire links ---------------------------------------------------------------------------------------------

NURSE = Actor("nurse.kim", Role.NURSE, "10.0.0.1")
PHQ9_ITEM9 = [1, 1, 1, 1, 1, 1, 1, 1, 2]


def test_link_opens_once_and_records_the_scale(db: Database, clock: Clock) -> None:
    token = create_questionnaire_link(db.uow(), NURSE, PATIENT, "PHQ-9", clock=clock)
    assert list(db.state.links) == [hash_token(token)]
    opened = open_questionnaire(db.uow(), token, clock=clock)
    assert opened.patient_id == PATIENT
    assert opened.scale_id == "PHQ-9"
    assert opened.expires_at == T0 + timedelta(hours=72)
    clock.advance(timedelta(hours=1))
    record = submit_questionnaire(db.uow(), token, PHQ9_ITEM9, clock=clock)
    assert record.result.total == 10
    assert "suicidality" in record.result.flags
    assert (record.patient_id, record.recorded_by, record.taken_on) == (PATIENT, LINK_SUBMITTER, clock.now.date())
    assert db.state.scales == [record]
    entry = db.state.audit[-1]
    assert (entry.username, entry.role, entry.action, entry.entity, entry.patient_id) == (
        "patient-link", "patient", "create", "scale", PATIENT
    )  # fmt: skip
    for use in (lambda: open_questionnaire(db.uow(), token, clock=clock),
                lambda: submit_questionnaire(db.uow(), token, [0] * 9, clock=clock)):  # fmt: skip
        with pytest.raises(LinkInvalidError):
            use()
    assert len(db.state.scales) == 1


def test_link_expires(db: Database, clock: Clock) -> None:
    token = create_questionnaire_link(db.uow(), NURSE, PATIENT, "GAD-7", clock=clock, ttl=timedelta(hours=1))
    clock.advance(timedelta(hours=1))
    with pytest.raises(LinkInvalidError) as expired:
        submit_questionnaire(db.uow(), token, [0] * 7, clock=clock)
    with pytest.raises(LinkInvalidError) as unknown:
        open_questionnaire(db.uow(), "no-such-token", clock=clock)
    assert str(expired.value) == str(unknown.value)
    assert db.state.scales == []


def test_bad_answers_consume_nothing_and_write_nothing(db: Database, clock: Clock) -> None:
    token = create_questionnaire_link(db.uow(), NURSE, PATIENT, "PHQ-9", clock=clock)
    audit_before = list(db.state.audit)
    with pytest.raises(InvalidAnswerError) as exc:
        submit_questionnaire(db.uow(), token, [1, 1, 1, 1, 1, 1, 1, 1, 4], clock=clock)
    assert exc.value.field == "answers[8]"
    with pytest.raises(InvalidAnswerError):
        submit_questionnaire(db.uow(), token, [0] * 7, clock=clock)
    assert db.state.scales == []
    assert db.state.audit == audit_before
    assert db.state.links[hash_token(token)].used_at is None
    assert submit_questionnaire(db.uow(), token, [0] * 9, clock=clock).result.total == 0


@pytest.mark.parametrize("scale_id", ["MADRS", "C-SSRS", "phq-9", ""])
def test_links_only_for_self_report_scales(db: Database, scale_id: str) -> None:
    with pytest.raises(InvalidAnswerError) as exc:
        create_questionnaire_link(db.uow(), NURSE, PATIENT, scale_id)
    assert exc.value.field == "scale_id"


def test_link_needs_a_known_patient_and_a_short_ttl(db: Database) -> None:
    with pytest.raises(NotFoundError):
        create_questionnaire_link(db.uow(), NURSE, uuid.uuid4(), "PHQ-9")
    with pytest.raises(InvalidAnswerError) as exc:
        create_questionnaire_link(db.uow(), NURSE, PATIENT, "PHQ-9", ttl=timedelta(days=30))
    assert exc.value.field == "ttl"
    assert db.state.links == {}


@pytest.mark.parametrize("role", roles(Permission.QUESTIONNAIRE_LINK, allowed=False))
def test_roles_without_questionnaire_link_cannot_send_links(db: Database, role: Role) -> None:
    with pytest.raises(PermissionDeniedError):
        create_questionnaire_link(db.uow(), Actor("someone", role, "10.0.0.1"), PATIENT, "PHQ-9")
    assert db.state.links == {}


@pytest.mark.parametrize("role", roles(Permission.QUESTIONNAIRE_LINK, allowed=True))
def test_roles_with_questionnaire_link_send_links(db: Database, role: Role) -> None:
    create_questionnaire_link(db.uow(), Actor("someone", role, "10.0.0.1"), PATIENT, "PHQ-9")
    assert len(db.state.links) == 1
