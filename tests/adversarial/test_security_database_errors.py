"""A database error never writes patient data into a log or a response: SQL parameters are hidden on every
engine, and an unexpected error is logged by its type only. On SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from sqlalchemy import text

from ketamine_therapy.bootstrap import unit_of_work_factory
from ketamine_therapy.clinic.patients import Patient
from ketamine_therapy.config import Settings
from ketamine_therapy.services.authorization import Actor, Role
from ketamine_therapy.services.patients import register_patient

from ..integration.api.conftest import Api

PATIENT = {"given_name": "Quirinalia", "family_name": "Zwetschkenröster", "date_of_birth": "1961-07-23",
           "sex": "female", "email": "q.zwetschken@example.org", "phone": "+1 555 0199 733"}  # fmt: skip
SECRETS = ("Quirinalia", "Zwetschkenr", "1961-07-23", "zwetschken", "0199 733")
REFUSE_INSERTS = {
    "sqlite": ["CREATE TRIGGER refuse BEFORE INSERT ON patients BEGIN SELECT RAISE(ABORT, 'refused'); END"],
    "postgresql": ["CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION 'refused'; END $$",
                   "CREATE TRIGGER refuse BEFORE INSERT ON patients FOR EACH ROW EXECUTE FUNCTION refuse()"],
}  # fmt: skip


def test_a_failing_insert_logs_no_patient_field(db_api: Api, caplog: pytest.LogCaptureFixture) -> None:
    new_uow = unit_of_work_factory(Settings(database_url=db_api.database_url))
    with new_uow.engine.begin() as conn:
        for statement in REFUSE_INSERTS[new_uow.engine.dialect.name]:
            conn.execute(text(statement))
    with caplog.at_level(logging.DEBUG):
        r = db_api.send("prescriber", "POST", "/patients", PATIENT)
        assert r.status_code == 500
        assert r.headers["content-type"] == "application/problem+json"
        patient = Patient(PATIENT["given_name"], PATIENT["family_name"], date(1961, 7, 23), "female",
                          PATIENT["email"], PATIENT["phone"])  # fmt: skip
        with pytest.raises(Exception) as raised:  # noqa: PT011 - whatever the driver raises
            register_patient(new_uow(), Actor("p", Role.PRESCRIBER, "test"), patient)
    new_uow.dispose()
    seen = caplog.text + r.text + str(raised.value) + repr(raised.value)
    assert "parameters hidden" in str(raised.value)
    assert [s for s in SECRETS if s.lower() in seen.lower()] == []
    assert "unexpected " in caplog.text  # the error was logged: by its type and route
