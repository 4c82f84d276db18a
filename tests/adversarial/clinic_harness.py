"""A small clinic for the adversarial tests of the validation/session-safety helpers (issue 10): the demo clinic's
settings, staff users, and new patients, on SQLite or PostgreSQL, reached through the services or the HTTP API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import httpx2
import pytest
from fastapi.testclient import TestClient

from ketamine_therapy.app import create_app
from ketamine_therapy.bootstrap import UnitOfWorkFactory, unit_of_work_factory
from ketamine_therapy.clinic.patients import Patient, WeightRecord
from ketamine_therapy.clinic.sessions import BloodPressure, PreChecks, PregnancyTest, SessionKind
from ketamine_therapy.config import Settings
from ketamine_therapy.services import treatment
from ketamine_therapy.services.accounts.users import create_user
from ketamine_therapy.services.authorization import SYSTEM, Actor, Role
from ketamine_therapy.services.clinic_settings import put_settings
from ketamine_therapy.services.demo_clinic import demo_settings
from ketamine_therapy.services.patients import register_patient
from ketamine_therapy.services.ports import NotFoundError
from ketamine_therapy.services.ports.treatment import SessionRecord
from ketamine_therapy.storage.db import make_engine
from ketamine_therapy.storage.migrate import upgrade

NURSE = Actor("adv.nurse", Role.NURSE)
PRESCRIBER = Actor("adv.prescriber", Role.PRESCRIBER)
ADMIN = Actor("adv.admin", Role.ADMIN)
PASSWORD = "correct horse battery staple 42"
CHECKS = PreChecks(True, True, PregnancyTest.NOT_APPLICABLE, BloodPressure(124, 80))


@dataclass
class Clinic:
    """The clinic's database, its unit-of-work factory and (opened lazily) its API."""

    url: str
    new_uow: UnitOfWorkFactory
    _client: TestClient | None = None
    _tokens: dict[str, str] = field(default_factory=dict)

    def patient(self, weight_kg: float = 71.0, weighed_days_ago: int = 3) -> uuid.UUID:
        """A new patient weighed ``weighed_days_ago`` days ago."""
        p = Patient("Ada", f"Adversarial{uuid.uuid4().hex[:8]}", date(1980, 5, 17), "female")
        weighed = datetime.now(UTC).date() - timedelta(days=weighed_days_ago)
        register_patient(self.new_uow(), PRESCRIBER, p, WeightRecord(weighed, weight_kg))
        return p.id

    def session(self, patient_id: uuid.UUID, scheduled_at: datetime | None = None,
                kind: SessionKind = SessionKind.IV_KETAMINE) -> SessionRecord:  # fmt: skip
        """A session scheduled at ``scheduled_at`` (default: now)."""
        when = scheduled_at or datetime.now(UTC)
        return treatment.schedule_session(self.new_uow(), PRESCRIBER, patient_id, kind, when)

    def client(self) -> TestClient:
        if self._client is None:
            self._client = TestClient(create_app(Settings(database_url=self.url)), base_url="https://testserver")
            self._client.__enter__()
        return self._client

    def token(self, role: str) -> str:
        if role not in self._tokens:
            r = self.client().post("/api/v1/auth/token", json={"username": f"adv.{role}", "password": PASSWORD})
            assert r.status_code == 201, r.text
            self._tokens[role] = r.json()["access_token"]
        return self._tokens[role]

    def api(self, role: str, method: str, path: str, body: object = None, version: int | None = None,
            **kw: object) -> httpx2.Response:  # fmt: skip
        headers = {"Authorization": f"Bearer {self.token(role)}"}
        if version is not None:
            headers["If-Match"] = f'"{version}"'
        return self.client().request(method, f"/api/v1{path}", headers=headers, json=body, **kw)  # type: ignore[arg-type]

    def close(self) -> None:
        if self._client is not None:
            self._client.__exit__(None, None, None)
        self.new_uow.dispose()


def open_clinic(url: str) -> Clinic:
    """Migrate ``url``, store the demo settings and the staff users once, and return the clinic."""
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    new_uow = unit_of_work_factory(Settings(database_url=url))
    try:
        with new_uow() as uow:
            uow.settings.get()
    except NotFoundError:
        put_settings(new_uow(), SYSTEM, demo_settings(), None, "adversarial tests")
        for actor in (NURSE, PRESCRIBER, ADMIN):
            create_user(new_uow(), SYSTEM, actor.username, actor.role, password=PASSWORD)
    return Clinic(url, new_uow)


@pytest.fixture(name="clinic", scope="module", params=["sqlite", "postgresql"])
def clinic_fixture(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    """``clinic``: on SQLite and on PostgreSQL (a module importing this also imports ``postgres_url``)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('adversarial') / 'clinic.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    opened = open_clinic(url)
    yield opened
    opened.close()


@pytest.fixture(name="sqlite_clinic", scope="module")
def sqlite_clinic_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    """``sqlite_clinic``: on SQLite only (for edge checks that involve no database behaviour)."""
    opened = open_clinic(f"sqlite:///{tmp_path_factory.mktemp('adversarial') / 'clinic.db'}")
    yield opened
    opened.close()
