"""The app over a real SQLite file seeded with a small demo clinic; one login per role."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ketamine_therapy.app import create_app
from ketamine_therapy.bootstrap import unit_of_work_factory
from ketamine_therapy.config import Settings
from ketamine_therapy.services.accounts.users import create_user
from ketamine_therapy.services.authorization import SYSTEM
from ketamine_therapy.services.demo_clinic import demo_logins, seed_demo_clinic
from ketamine_therapy.services.patients import list_patients
from ketamine_therapy.storage.db import make_engine
from ketamine_therapy.storage.migrate import upgrade


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with 5 demo patients (seeded once, copied per test module)."""
    path = tmp_path_factory.mktemp("api-template") / "clinic.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    seed_demo_clinic(unit_of_work_factory(Settings(database_url=f"sqlite:///{path}")), n_patients=5, seed=11,
                     today=date.today())  # noqa: DTZ011 - the clinic's calendar day  # fmt: skip
    return path


@dataclass
class Api:
    """A test client on a fresh copy of the seeded clinic, with a bearer token per role."""

    client: TestClient
    tokens: dict[str, str]
    passwords: dict[str, tuple[str, str]]
    patient_ids: list[uuid.UUID]
    database_url: str

    def headers(self, role: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}", **extra}

    def get(self, role: str, path: str, **kw: object):  # type: ignore[no-untyped-def]
        return self.client.get(f"/api/v1{path}", headers=self.headers(role), **kw)  # type: ignore[arg-type]

    def send(self, role: str, method: str, path: str, json: object = None, version: int | None = None):  # type: ignore[no-untyped-def]
        extra = {} if version is None else {"If-Match": f'"{version}"'}
        return self.client.request(method, f"/api/v1{path}", headers=self.headers(role, **extra), json=json)


def make_api(template: Path, tmp_path: Path) -> Iterator[Api]:
    path = tmp_path / "clinic.db"
    shutil.copy(template, path)
    yield from api_on(f"sqlite:///{path}")


def api_on(url: str, **settings_fields: object) -> Iterator[Api]:
    """An :class:`Api` on the seeded clinic at ``url`` (SQLite or PostgreSQL), with a patient login."""
    settings = Settings.model_validate({"database_url": url, "public_url": "https://clinic.example.org",
                                        **settings_fields})  # fmt: skip
    new_uow = unit_of_work_factory(settings)
    passwords = {role: (user, pw) for role, user, pw in demo_logins(new_uow)}
    patients = [p.id for p in list_patients(new_uow(), SYSTEM, limit=50)]
    _, pw = create_user(new_uow(), SYSTEM, "patient.one", "patient", patient_id=patients[0])
    new_uow.dispose()
    passwords["patient"] = ("patient.one", pw)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        tokens = {}
        for role, (user, password) in passwords.items():
            r = client.post("/api/v1/auth/token", json={"username": user, "password": password})
            assert r.status_code == 201, r.text
            tokens[role] = r.json()["access_token"]
        yield Api(client, tokens, passwords, patients, url)


@pytest.fixture
def api(seeded_template: Path, tmp_path: Path) -> Iterator[Api]:
    yield from make_api(seeded_template, tmp_path)


@pytest.fixture(scope="module")
def shared_api(seeded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One app for a whole module (read-mostly tests)."""
    yield from make_api(seeded_template, tmp_path_factory.mktemp("api"))
