"""Accounts, logins, sessions and questionnaire links on real SQLite-file and PostgreSQL databases."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import ColumnElement, Engine, func, inspect, select
from typer.testing import CliRunner

from ketamine_therapy.clinic.exceptions import InvalidAnswerError
from ketamine_therapy.clinic.patients import Patient
from ketamine_therapy.services.accounts.errors import (
    AccountLockedError,
    AuthenticationError,
    LinkInvalidError,
    SessionExpiredError,
)
from ketamine_therapy.services.accounts.hashing import hash_token
from ketamine_therapy.services.accounts.login import authenticate
from ketamine_therapy.services.accounts.login_sessions import resolve_login_session, start_login_session
from ketamine_therapy.services.accounts.questionnaire_links import create_questionnaire_link, submit_questionnaire
from ketamine_therapy.services.accounts.users import create_user, ensure_admin
from ketamine_therapy.services.authorization import SYSTEM, Actor, Role
from ketamine_therapy.services.ports import ConflictError
from ketamine_therapy.services.ports.accounts import QuestionnaireLinkRecord, User
from ketamine_therapy.storage.db import make_engine, make_session_factory
from ketamine_therapy.storage.migrate import current_revision, downgrade, drift, upgrade
from ketamine_therapy.storage.tables.accounts import LoginSessionRow, QuestionnaireLinkRow, UserRow
from ketamine_therapy.storage.tables.administration import AuditRow
from ketamine_therapy.storage.tables.patients import ScaleResultRow
from ketamine_therapy.storage.unit_of_work import SqlUnitOfWork

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
NURSE = Actor("nurse.kim", Role.NURSE, "10.0.0.1")
NewUow = Callable[[], SqlUnitOfWork]


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def new_uow(engine: Engine) -> NewUow:
    factory = make_session_factory(engine)
    return lambda: SqlUnitOfWork(factory)


@pytest.fixture
def patient_id(new_uow: NewUow) -> uuid.UUID:
    patient = Patient("Ada", "Byron", date(1980, 5, 17), "female")
    with new_uow() as uow:
        uow.patients.add(patient, "test", "registered")
        uow.commit()
    return patient.id


def count(engine: Engine, table: type, *where: ColumnElement[bool]) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def test_migration_0004_up_down_up_without_drift(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    assert {"users", "auth_sessions", "questionnaire_links"} <= set(inspect(engine).get_table_names())
    assert drift(engine) == []  # the migrated tables match storage.tables exactly
    downgrade(engine, "0003")
    assert current_revision(engine) == "0003"
    assert not {"users", "auth_sessions", "questionnaire_links"} & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert count(engine, UserRow) == 0
    engine.dispose()


def test_only_an_argon2id_hash_is_stored(engine: Engine, new_uow: NewUow) -> None:
    user, _ = create_user(new_uow(), SYSTEM, "dr.lee", Role.PRESCRIBER, password=PASSWORD)
    with engine.connect() as conn:
        row = conn.execute(select(UserRow)).one()
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in " ".join(str(value) for value in row)
    with new_uow() as uow:
        assert uow.users.get(user.id) == user
        assert uow.users.get_by_username("dr.lee") == user
        assert [u.username for u in uow.users.list()] == ["dr.lee"]


def test_database_refuses_a_duplicate_username(new_uow: NewUow) -> None:
    user, _ = create_user(new_uow(), SYSTEM, "dr.lee", Role.PRESCRIBER, password=PASSWORD)
    with pytest.raises(ConflictError):
        create_user(new_uow(), SYSTEM, "dr.lee", Role.NURSE, password=PASSWORD)
    with new_uow() as uow, pytest.raises(ConflictError):  # past the service's check: the unique constraint
        uow.users.add(User("dr.lee", Role.NURSE, user.password_hash, T0))


def test_lockout_is_committed_and_runs_out(engine: Engine, new_uow: NewUow) -> None:
    create_user(new_uow(), SYSTEM, "nurse.kim", Role.NURSE, password=PASSWORD)
    clock = Clock()
    for _ in range(5):
        with pytest.raises(AuthenticationError) as exc:
            authenticate(new_uow(), "nurse.kim", "wrong password", "10.0.0.1", clock=clock)
        assert type(exc.value) is AuthenticationError
    with engine.connect() as conn:
        row = conn.execute(select(UserRow.failed_logins, UserRow.locked_until)).one()
    assert tuple(row) == (5, T0 + timedelta(minutes=15))
    with pytest.raises(AccountLockedError) as locked:
        authenticate(new_uow(), "nurse.kim", PASSWORD, "10.0.0.1", clock=clock)
    assert locked.value.locked_until == T0 + timedelta(minutes=15)
    with pytest.raises(AuthenticationError) as unknown:
        authenticate(new_uow(), "no.such.user", PASSWORD, "10.0.0.1", clock=clock)
    assert str(unknown.value) == "invalid username or password"
    clock.now = T0 + timedelta(minutes=15)
    assert authenticate(new_uow(), "nurse.kim", PASSWORD, "10.0.0.1", clock=clock).role is Role.NURSE
    with engine.connect() as conn:
        assert tuple(conn.execute(select(UserRow.failed_logins, UserRow.locked_until)).one()) == (0, None)
    assert count(engine, AuditRow, AuditRow.action == "login-failed") == 7
    assert count(engine, AuditRow, AuditRow.action == "login") == 1


def test_session_token_is_stored_hashed_and_expires_when_idle(engine: Engine, new_uow: NewUow) -> None:
    create_user(new_uow(), SYSTEM, "nurse.kim", Role.NURSE, password=PASSWORD)
    clock = Clock()
    actor = authenticate(new_uow(), "nurse.kim", PASSWORD, "10.0.0.1", clock=clock)
    token, csrf = start_login_session(new_uow(), actor, clock=clock)
    with engine.connect() as conn:
        row = conn.execute(select(LoginSessionRow)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert (row.csrf_token, row.expires_at, row.user_id) == (csrf, T0 + timedelta(hours=12), actor.user_id)
    clock.now += timedelta(minutes=14)
    resolved, csrf_again = resolve_login_session(new_uow(), token, "10.0.0.2", clock=clock)
    assert (resolved.username, resolved.role, resolved.source, resolved.user_id) == (
        "nurse.kim", Role.NURSE, "10.0.0.2", actor.user_id
    )  # fmt: skip
    assert csrf_again == csrf
    with engine.connect() as conn:
        assert conn.execute(select(LoginSessionRow.last_seen_at)).scalar_one() == T0 + timedelta(minutes=14)
    clock.now += timedelta(minutes=16)
    with pytest.raises(SessionExpiredError):
        resolve_login_session(new_uow(), token, "10.0.0.2", clock=clock)
    assert count(engine, LoginSessionRow) == 0


def test_session_lifetime(new_uow: NewUow) -> None:
    user, _ = create_user(new_uow(), SYSTEM, "nurse.kim", Role.NURSE, password=PASSWORD)
    clock = Clock()
    token, _ = start_login_session(new_uow(), user, clock=clock, lifetime=timedelta(minutes=30))
    for _ in range(2):
        clock.now += timedelta(minutes=14)
        resolve_login_session(new_uow(), token, "10.0.0.1", clock=clock)
    clock.now += timedelta(minutes=2)
    with pytest.raises(SessionExpiredError):
        resolve_login_session(new_uow(), token, "10.0.0.1", clock=clock)


def test_link_is_single_use_and_short_lived(engine: Engine, new_uow: NewUow, patient_id: uuid.UUID) -> None:
    clock = Clock()
    token = create_questionnaire_link(new_uow(), NURSE, patient_id, "PHQ-9", clock=clock)
    with engine.connect() as conn:
        assert conn.execute(select(QuestionnaireLinkRow.token_hash)).scalar_one() == hash_token(token)
    record = submit_questionnaire(new_uow(), token, [1, 1, 1, 1, 1, 1, 1, 1, 2], clock=clock)
    assert "suicidality" in record.result.flags
    with pytest.raises(LinkInvalidError):
        submit_questionnaire(new_uow(), token, [0] * 9, clock=clock)
    with new_uow() as uow:
        stored = uow.scales.for_patient(record.patient_id)
    assert [(s.result.total, s.recorded_by) for s in stored] == [(10, "patient (questionnaire link)")]
    expiring = create_questionnaire_link(new_uow(), NURSE, patient_id, "GAD-7", clock=clock, ttl=timedelta(hours=1))
    clock.now += timedelta(hours=1)
    with pytest.raises(LinkInvalidError):
        submit_questionnaire(new_uow(), expiring, [0] * 7, clock=clock)
    assert count(engine, ScaleResultRow) == 1


def test_bad_answers_leave_the_link_and_the_database_unchanged(
    engine: Engine, new_uow: NewUow, patient_id: uuid.UUID
) -> None:
    token = create_questionnaire_link(new_uow(), NURSE, patient_id, "PHQ-9")
    audits = count(engine, AuditRow)
    with pytest.raises(InvalidAnswerError):
        submit_questionnaire(new_uow(), token, [3] * 8 + [7])
    assert count(engine, ScaleResultRow) == 0
    assert count(engine, AuditRow) == audits
    assert count(engine, QuestionnaireLinkRow, QuestionnaireLinkRow.used_at.is_(None)) == 1
    submit_questionnaire(new_uow(), token, [0] * 9)
    assert count(engine, ScaleResultRow) == 1


def test_conditional_update_consumes_a_link_once(new_uow: NewUow, patient_id: uuid.UUID) -> None:
    """Two transactions both saw the link unused; only the first to update it consumes it."""
    token = create_questionnaire_link(new_uow(), NURSE, patient_id, "PHQ-9")
    key = hash_token(token)
    first, second = new_uow().__enter__(), new_uow().__enter__()
    try:
        for uow in (first, second):
            link = uow.questionnaire_links.get(key)
            assert link is not None
            assert link.used_at is None
        assert first.questionnaire_links.mark_used(key, datetime.now(UTC))
        first.commit()
        assert not second.questionnaire_links.mark_used(key, datetime.now(UTC))
    finally:
        first.__exit__(None, None, None)
        second.__exit__(None, None, None)


def test_concurrent_double_submit_records_once(engine: Engine, patient_id: uuid.UUID) -> None:
    """Two submissions race (both have read the link as unused): one records, the other is refused."""
    factory = make_session_factory(engine)
    token = create_questionnaire_link(SqlUnitOfWork(factory), NURSE, patient_id, "PHQ-9")
    both_read = threading.Barrier(2, timeout=30)

    class RacingUow(SqlUnitOfWork):
        def __enter__(self) -> RacingUow:
            super().__enter__()
            links, read = self.questionnaire_links, self.questionnaire_links.get

            def get_then_wait(token_hash: str) -> QuestionnaireLinkRecord | None:
                link = read(token_hash)
                both_read.wait()
                return link

            links.get = get_then_wait  # type: ignore[method-assign]
            return self

    outcomes: list[object] = []

    def submit(answers: list[int]) -> None:
        try:
            outcomes.append(submit_questionnaire(RacingUow(factory), token, answers))
        except Exception as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=submit, args=([n] * 9,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(type(o).__name__ for o in outcomes) == ["LinkInvalidError", "RecordedScale"], outcomes
    assert count(engine, ScaleResultRow) == 1
    assert count(engine, AuditRow, AuditRow.entity == "scale") == 1


def test_ensure_admin_is_idempotent(engine: Engine, new_uow: NewUow) -> None:
    password = ensure_admin(new_uow())
    assert password is not None
    assert ensure_admin(new_uow()) is None
    assert count(engine, UserRow) == 1
    assert authenticate(new_uow(), "admin", password, "cli").role is Role.ADMIN


def test_cli_users_create_and_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ketamine_therapy.cli.main import app

    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    monkeypatch.setenv("KETAMINE_THERAPY_DATABASE_URL", url)
    runner = CliRunner()
    up = runner.invoke(app, ["db", "upgrade"])
    assert up.exit_code == 0, up.output
    created = runner.invoke(app, ["users", "create", "dr.lee", "--role", "prescriber"])
    assert created.exit_code == 0, created.output
    password = created.output.split("password (shown once): ")[1].strip()
    assert len(password) >= 12
    engine = make_engine(url)
    factory = make_session_factory(engine)
    actor = authenticate(SqlUnitOfWork(factory), "dr.lee", password, "10.0.0.1")
    assert actor.role is Role.PRESCRIBER
    with SqlUnitOfWork(factory) as uow:
        entry = uow.audit.entries(10, 0, None)
    assert {(e.action, e.source) for e in entry} >= {("create", "cli"), ("login", "10.0.0.1")}
    engine.dispose()
    listed = runner.invoke(app, ["users", "list"])
    assert listed.exit_code == 0, listed.output
    assert "dr.lee" in listed.output
    assert password not in listed.output
    duplicate = runner.invoke(app, ["users", "create", "dr.lee", "--role", "nurse"])
    assert duplicate.exit_code == 1
    bad_role = runner.invoke(app, ["users", "create", "x.y", "--role", "surgeon"])
    assert bad_role.exit_code == 2
    assert "role" in bad_role.output
    patient_without_id = runner.invoke(app, ["users", "create", "ada", "--role", "patient"])
    assert patient_without_id.exit_code == 2
    assert "patient_id" in patient_without_id.output
    deactivated = runner.invoke(app, ["users", "deactivate", "dr.lee"])
    assert deactivated.exit_code == 0, deactivated.output
    with pytest.raises(AuthenticationError):
        authenticate(SqlUnitOfWork(make_session_factory(engine)), "dr.lee", password, "10.0.0.1")
    engine.dispose()
    assert runner.invoke(app, ["users", "deactivate", "nobody"]).exit_code == 1
    admin = runner.invoke(app, ["users", "ensure-admin"])
    assert admin.exit_code == 0, admin.output
    assert "password (shown once)" in admin.output
    assert "nothing changed" in runner.invoke(app, ["users", "ensure-admin"]).output
