"""Storage over real SQLite-file and PostgreSQL connections: migrations, integrity, concurrency, crashes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError

from ketamine_therapy.clinic.exceptions import InvalidAnswerError
from ketamine_therapy.clinic.patients import Patient, WeightRecord
from ketamine_therapy.services.authorization import Actor, Role
from ketamine_therapy.services.patients import correct_patient, patient_history, record_scale, register_patient
from ketamine_therapy.services.ports import ConflictError, NotFoundError
from ketamine_therapy.storage.db import make_engine, make_session_factory
from ketamine_therapy.storage.migrate import SCRIPTS, current_revision, downgrade, drift, head_revision, upgrade
from ketamine_therapy.storage.tables.patients import PatientRow, ScaleResultRow, WeightRow
from ketamine_therapy.storage.unit_of_work import SqlUnitOfWork

CLERK = Actor("clerk", Role.ADMIN)
NURSE = Actor("nurse.kim", Role.NURSE)


def uow_factory(engine: Engine):  # type: ignore[no-untyped-def]
    factory = make_session_factory(engine)
    return lambda: SqlUnitOfWork(factory)


def patient(**changes: object) -> Patient:
    values: dict[str, object] = {"given_name": "Ada", "family_name": "Byron", "date_of_birth": date(1980, 5, 17),
                                 "sex": "female"}  # fmt: skip
    values.update(changes)
    return Patient(**values)  # type: ignore[arg-type]


def count(engine: Engine, table: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_migrations_up_down_up_and_no_drift(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    assert current_revision(engine) == head_revision() == "0008"
    assert drift(engine) == []
    downgrade(engine, "base")
    assert current_revision(engine) is None
    upgrade(engine)
    assert count(engine, PatientRow) == 0
    engine.dispose()


def test_one_version_table_migration_keeps_patient_histories_both_ways(database_url: str) -> None:
    """0008 moves patients' versions into ``record_versions`` and back, unchanged, on SQLite and PostgreSQL."""
    engine = make_engine(database_url)
    upgrade(engine)
    new_uow = uow_factory(engine)
    p = patient()
    register_patient(new_uow(), CLERK, p)
    correct_patient(new_uow(), CLERK, p.id, 1, reason="typo in the name", given_name="Augusta")
    before = patient_history(new_uow(), CLERK, p.id)
    assert [(v.version, v.patient.given_name, v.reason) for v in before] == [
        (1, "Ada", "registered"), (2, "Augusta", "typo in the name")]  # fmt: skip
    previous = ScriptDirectory(str(SCRIPTS)).get_revision("0008").down_revision
    assert isinstance(previous, str)
    downgrade(engine, previous)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT version, changed_by, reason FROM patient_versions ORDER BY version")).all()
        moved = conn.execute(text("SELECT count(*) FROM record_versions WHERE entity = 'patient'")).scalar_one()
    assert [tuple(r) for r in rows] == [(v.version, v.changed_by, v.reason) for v in before]
    assert moved == 0
    upgrade(engine)
    assert patient_history(new_uow(), CLERK, p.id) == before
    assert drift(engine) == []
    engine.dispose()


def test_patient_and_scale_round_trip(engine: Engine) -> None:
    new_uow = uow_factory(engine)
    p = patient()
    register_patient(new_uow(), CLERK, p, WeightRecord(date(2026, 11, 1), 72.5))
    record_scale(new_uow(), NURSE, p.id, "PHQ-9", [1, 1, 1, 1, 1, 1, 1, 1, 2], date(2026, 11, 2))
    with new_uow() as uow:
        stored, version = uow.patients.get(p.id)
        scales = uow.scales.for_patient(p.id)
    assert stored == p.with_weight(WeightRecord(date(2026, 11, 1), 72.5))
    assert version == 1
    assert scales[0].result.answers == (1, 1, 1, 1, 1, 1, 1, 1, 2)
    assert scales[0].result.total == 10
    assert "suicidality" in scales[0].result.flags
    assert scales[0].recorded_at.tzinfo is not None


def test_failed_transaction_leaves_no_partial_rows(engine: Engine) -> None:
    new_uow = uow_factory(engine)

    def add_patient_then_violate_a_foreign_key() -> None:
        with new_uow() as uow:
            uow.patients.add(patient(), "nurse.kim", "registered")  # flushed inside the transaction ...
            uow.db.add(WeightRow(patient_id=uuid.uuid4(), measured_on=date(2026, 1, 1), weight_kg=70.0))
            uow.db.flush()  # ... then a foreign-key violation
            uow.commit()

    with pytest.raises(IntegrityError):
        add_patient_then_violate_a_foreign_key()
    assert count(engine, PatientRow) == 0
    assert count(engine, WeightRow) == 0


def test_bad_input_changes_nothing(engine: Engine) -> None:
    new_uow = uow_factory(engine)
    p = patient()
    register_patient(new_uow(), CLERK, p)
    with pytest.raises(InvalidAnswerError) as exc:
        record_scale(new_uow(), NURSE, p.id, "PHQ-9", [1, 1, 1, 1, 1, 1, 1, 1, 9], date(2026, 11, 2))
    assert exc.value.field == "answers[8]"
    with pytest.raises(NotFoundError):
        record_scale(new_uow(), NURSE, uuid.uuid4(), "PHQ-9", [0] * 9, date(2026, 11, 2))
    assert count(engine, ScaleResultRow) == 0


def test_concurrent_edits_do_not_overwrite_each_other(engine: Engine) -> None:
    new_uow = uow_factory(engine)
    p = patient()
    register_patient(new_uow(), CLERK, p)
    assert (
        correct_patient(new_uow(), Actor("clerk.a", Role.PRESCRIBER), p.id, 1, reason="new number", phone="555-0100")
        == 2
    )
    with pytest.raises(ConflictError):
        correct_patient(
            new_uow(), Actor("clerk.b", Role.PRESCRIBER), p.id, 1, reason="typo", phone="555-0199"
        )  # read version 1
    with new_uow() as uow:
        stored, version = uow.patients.get(p.id)
    assert (stored.phone, version) == ("555-0100", 2)


def test_interleaved_writers_conflict_at_commit(engine: Engine) -> None:
    """Two sessions load the same row; the second commit must fail (version_id_col), not overwrite."""
    new_uow = uow_factory(engine)
    p = patient()
    register_patient(new_uow(), CLERK, p)
    first, second = new_uow().__enter__(), new_uow().__enter__()
    try:
        a, _ = first.patients.get(p.id)
        b, _ = second.patients.get(p.id)
        first.patients.update(Patient(**{**a.__dict__, "phone": "1"}), 1, "clerk.a", "new number")
        first.commit()

        def second_edit() -> None:
            second.patients.update(Patient(**{**b.__dict__, "phone": "2"}), 1, "clerk.b", "typo")
            second.commit()

        with pytest.raises(ConflictError):
            second_edit()
    finally:
        first.__exit__(None, None, None)
        second.__exit__(None, None, None)
    with new_uow() as uow:
        assert uow.patients.get(p.id)[0].phone == "1"


WRITER = textwrap.dedent(
    """
    import sys, time
    from datetime import date
    from ketamine_therapy.clinic.patients import Patient
    from ketamine_therapy.services.authorization import Actor, Role
    from ketamine_therapy.services.patients import register_patient

    CLERK = Actor("clerk", Role.ADMIN)
    from ketamine_therapy.storage.db import make_engine, make_session_factory
    from ketamine_therapy.storage.unit_of_work import SqlUnitOfWork
    factory = make_session_factory(make_engine(sys.argv[1]))
    for i in range(5):
        register_patient(SqlUnitOfWork(factory), CLERK, Patient(f"P{i}", "Committed", date(1990, 1, 1), "male"))
    uow = SqlUnitOfWork(factory).__enter__()
    uow.patients.add(Patient("Never", "Committed", date(1990, 1, 1), "male"), "writer", "registered")
    print("ready", flush=True)
    time.sleep(60)
    """
)


def test_process_killed_mid_write_loses_nothing_committed(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    with subprocess.Popen([sys.executable, "-c", WRITER, database_url], stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"  # 5 commits done, a 6th write is open
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    time.sleep(0.2)
    with engine.connect() as conn:
        names = sorted(conn.execute(select(PatientRow.family_name)).scalars())
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    assert names == ["Committed"] * 5
    engine.dispose()


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    from ketamine_therapy.storage.tables import UTCDateTime

    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), engine.dialect)  # noqa: DTZ001 - the point of the test
    aware = datetime(2026, 1, 1, tzinfo=UTC)
    assert UTCDateTime().process_bind_param(aware, engine.dialect) == aware


def test_corrections_are_new_versions_with_who_when_and_why(engine: Engine) -> None:
    """Nothing is overwritten without a trace: every version stays, with who changed it and why."""
    new_uow = uow_factory(engine)
    p = patient(email="ada@example.org")
    register_patient(new_uow(), Actor("front.desk", Role.ADMIN), p)
    correct_patient(
        new_uow(),
        Actor("dr.lee", Role.PRESCRIBER),
        p.id,
        1,
        reason="patient gave a new e-mail",
        email="ada@new.example.org",
    )
    with pytest.raises(InvalidAnswerError) as exc:
        correct_patient(new_uow(), Actor("dr.lee", Role.PRESCRIBER), p.id, 2, reason=" ", email="x@y.org")
    assert exc.value.field == "reason"
    with new_uow() as uow:
        history = uow.patients.history(p.id)
        current, version = uow.patients.get(p.id)
    assert [(h.version, h.changed_by, h.reason) for h in history] == [
        (1, "front.desk", "registered"),
        (2, "dr.lee", "patient gave a new e-mail"),
    ]
    assert history[0].patient.email == "ada@example.org"  # the old value is kept
    assert history[1].patient == current
    assert version == 2
    assert history[1].changed_at.tzinfo is not None
