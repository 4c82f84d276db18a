"""The app on PostgreSQL (what a clinic runs): a seeded clinic served over a real connection, a session run
through the API with a concurrent-edit conflict, REMS forms and the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from ketamine_therapy.app import create_app
from ketamine_therapy.bootstrap import unit_of_work_factory
from ketamine_therapy.config import Settings
from ketamine_therapy.services.demo_clinic import demo_logins, seed_demo_clinic
from ketamine_therapy.storage.db import make_engine
from ketamine_therapy.storage.migrate import upgrade


@pytest.fixture
def pg_client(postgres_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    engine = create_engine(postgres_url)
    with engine.begin() as conn:  # start from an empty schema
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrated = make_engine(postgres_url)
    upgrade(migrated)
    migrated.dispose()
    settings = Settings(database_url=postgres_url)
    new_uow = unit_of_work_factory(settings)
    seed_demo_clinic(new_uow, n_patients=3, seed=5, today=date.today())  # noqa: DTZ011 - the clinic's calendar day
    logins = demo_logins(new_uow)
    new_uow.dispose()
    tokens = {}
    with TestClient(create_app(settings), base_url="https://testserver") as client:  # its engine closes at exit
        for role, username, password in logins:
            r = client.post("/api/v1/auth/token", json={"username": username, "password": password})
            tokens[role] = r.json()["access_token"]
        yield client, tokens


def test_the_api_on_postgresql(pg_client: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = pg_client

    def h(role: str, version: int | None = None) -> dict[str, str]:
        extra = {} if version is None else {"If-Match": f'"{version}"'}
        return {"Authorization": f"Bearer {tokens[role]}", **extra}

    patients = client.get("/api/v1/patients", headers=h("nurse")).json()["items"]
    assert len(patients) == 3
    pid = patients[0]["id"]
    s = client.post(f"/api/v1/patients/{pid}/sessions", headers=h("prescriber"),
                    json={"kind": "iv-ketamine", "scheduled_at": datetime.now(UTC).isoformat()})  # fmt: skip
    assert s.status_code == 201
    sid = s.json()["id"]
    checks = {"consent": True, "ride_home": True, "pregnancy_test": "not_applicable",
              "bp": {"systolic": 124, "diastolic": 80}}  # fmt: skip
    first = client.post(f"/api/v1/sessions/{sid}/check-in", headers=h("nurse", 1), json=checks)
    assert first.status_code == 200
    assert first.headers["ETag"] == '"2"'
    second = client.post(f"/api/v1/sessions/{sid}/vitals", headers=h("prescriber", 1), json={"heart_rate": 70})
    assert second.status_code == 412  # the prescriber's screen was at version 1: no silent overwrite
    assert client.get("/api/v1/rems/forms", headers=h("nurse")).status_code == 200
    log = client.get("/api/v1/audit", headers=h("admin"), params={"patient_id": pid}).json()["items"]
    assert any(e["entity"] == "session" and e["action"] == "update" for e in log)
