"""``GET /api/v1/patients/{id}/forecast`` on a seeded clinic (SQLite file, and PostgreSQL): the shape of the answer,
who may read it, bad queries naming the field, the clinic's alpha setting, and the audited read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest
from sqlalchemy import create_engine, text

from ketamine_therapy.bootstrap import unit_of_work_factory
from ketamine_therapy.config import Settings
from ketamine_therapy.services.demo_clinic import seed_demo_clinic
from ketamine_therapy.storage.db import make_engine
from ketamine_therapy.storage.migrate import upgrade

from .conftest import Api, api_on


def _treated(api: Api) -> str:
    """A patient with sessions given and MADRS scores."""
    for pid in api.patient_ids:
        sessions = api.get("nurse", f"/patients/{pid}/sessions").json()
        if any(s["session"]["state"] == "discharged" for s in sessions):
            return str(pid)
    raise AssertionError("the seeded clinic has no treated patient")


def _check_shape(body: dict[str, object], pid: str) -> None:
    assert body["patient_id"] == pid
    assert body["scale_id"] == "MADRS"
    assert len(str(body["input_hash"])) == 64
    assert "response-model" in str(body["model_version"])
    band = body["band"]
    assert isinstance(band, dict)
    n = len(band["times"])
    assert n > 10
    assert all(len(band[k]) == n for k in ("median", "p05", "p25", "p75", "p95"))
    times = [datetime.fromisoformat(t) for t in band["times"]]
    assert all(t.tzinfo is not None for t in times)
    assert times == sorted(times)
    for i in range(n):
        assert band["p05"][i] <= band["p25"][i] <= band["median"][i] <= band["p75"][i] <= band["p95"][i]
        assert band["p05"][i] >= 0
        assert band["p95"][i] <= 60
    risk = body["relapse"]
    assert isinstance(risk, dict)
    assert risk["probability"] == sorted(risk["probability"])
    assert 0 <= risk["probability"][-1] <= 1
    assert risk["definition"]
    booster = body["booster"]
    assert isinstance(booster, dict)
    assert booster["model"]["alpha"] == 0.2
    assert booster["model"]["alpha_source"].startswith("clinic setting")
    assert booster["model"]["rationale"]
    assert booster["clinic_rules"] is not None
    assert booster["clinic_rules"]["reasons"]
    inputs = body["inputs"]
    assert isinstance(inputs, dict)
    assert inputs["doses"] >= 1
    assert inputs["ratings"] >= 1
    assert inputs["weight_kg"] is not None
    assert datetime.fromisoformat(inputs["forecast_start"]) <= times[0] + (times[1] - times[0])
    assert set(body["shrinkage"]) >= {"baseline", "drug_emax"}  # type: ignore[arg-type]
    assert "not a medical device" in str(body["notice"])
    assert body["what_if"], "the engine's default what-if schedules"


def test_a_prescriber_gets_the_forecast_and_the_read_is_audited(api: Api) -> None:
    pid = _treated(api)
    r = api.get("prescriber", f"/patients/{pid}/forecast")
    assert r.status_code == 200, r.text
    _check_shape(r.json(), pid)
    log = api.get("admin", "/audit", params={"patient_id": pid}).json()["items"]
    reads = [e for e in log if e["entity"] == "forecast" and e["action"] == "read"]
    assert reads
    assert reads[0]["username"] == api.passwords["prescriber"][0]
    assert "scale=MADRS" in reads[0]["detail"]


def test_the_nurse_may_read_it_and_other_roles_are_refused(api: Api) -> None:
    pid = _treated(api)
    assert api.get("nurse", f"/patients/{pid}/forecast").status_code == 200
    for role in ("therapist", "researcher", "patient", "admin"):
        r = api.get(role, f"/patients/{pid}/forecast")
        assert r.status_code == 403, (role, r.text)
        assert r.json()["permission"] == "forecast:read"
    log = api.get("admin", "/audit", params={"patient_id": pid}).json()["items"]
    assert {e["role"] for e in log if e["action"] == "denied"} >= {"therapist", "researcher", "admin"}


@pytest.mark.parametrize(
    ("query", "field", "allowed"),
    [
        ({"horizon_days": "400"}, "horizon_days", "a whole number 7-182 days"),
        ({"horizon_days": "2.5"}, "horizon_days", "a whole number 7-182 days"),
        ({"alpha": "0.9"}, "alpha", "0.01-0.5 (probability)"),
        ({"alpha": "nan"}, "alpha", "0.01-0.5 (probability)"),
        ({"scale_id": "PHQ-9"}, "scale_id", "MADRS, QIDS-SR16"),
        ({"candidate": "two weeks"}, "candidate.0", "<days>d:<dose>mgkg"),
        ({"candidate": "999d:0.5mgkg"}, "candidate.0", "1-182 days"),
        ({"candidate": "14d:56mg"}, "candidate[0]", "e.g. 14d:0.5mgkg"),  # mg for an IV or IM patient
        ({"candidate": "14d:9mgkg"}, "candidate[0]", "mg/kg"),  # above the route's absolute ceiling
    ],
)
def test_a_bad_query_is_a_422_naming_the_field(shared_api: Api, query: dict[str, str], field: str,
                                               allowed: str) -> None:  # fmt: skip
    pid = next(p for p in shared_api.patient_ids if _is_ketamine(shared_api, str(p)))
    r = shared_api.get("prescriber", f"/patients/{pid}/forecast", params=query)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["field"] == field, body
    assert allowed in (body["allowed"] or ""), body


def _is_ketamine(api: Api, pid: str) -> bool:
    sessions = api.get("nurse", f"/patients/{pid}/sessions").json()
    return any(
        s["session"]["state"] == "discharged" and s["session"]["kind"] in ("iv-ketamine", "im-ketamine")
        for s in sessions
    )


def test_candidates_alpha_and_the_clinic_setting(api: Api) -> None:
    pid = next(p for p in api.patient_ids if _is_ketamine(api, str(p)))
    r = api.get("prescriber", f"/patients/{pid}/forecast",
                params={"candidate": ["7d:0.5mgkg", "28d:0.75mgkg"], "alpha": "0.3", "horizon_days": "56"})  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert [w["label"][:21] for w in body["what_if"]] == ["booster in 7 days, 0.", "booster in 28 days, 0"]
    start = datetime.fromisoformat(body["inputs"]["forecast_start"])
    assert (datetime.fromisoformat(body["what_if"][0]["doses"][0]["at"]) - start).days == 7
    assert body["booster"]["model"]["alpha"] == 0.3
    assert body["booster"]["model"]["alpha_source"] == "request"
    assert body["inputs"]["horizon_days"] == 56
    settings = api.get("admin", "/clinic/settings")
    patched = api.send("admin", "PATCH", "/clinic/settings", {"reason": "stricter booster advice",
                                                              "forecast_relapse_alpha": 0.1},
                       version=int(settings.headers["ETag"].strip('"')))  # fmt: skip
    assert patched.status_code == 200, patched.text
    assert patched.json()["forecast_relapse_alpha"] == 0.1
    again = api.get("prescriber", f"/patients/{pid}/forecast").json()
    assert again["booster"]["model"]["alpha"] == 0.1
    bad = api.send("admin", "PATCH", "/clinic/settings", {"reason": "x", "forecast_relapse_alpha": 0.9},
                   version=int(patched.headers["ETag"].strip('"')))  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["field"] == "forecast_relapse_alpha"


def test_an_unknown_patient_is_404(shared_api: Api) -> None:
    r = shared_api.get("prescriber", "/patients/00000000-0000-4000-8000-000000000000/forecast")
    assert r.status_code == 404


@pytest.fixture
def pg_api(postgres_url: str) -> Iterator[Api]:
    engine = create_engine(postgres_url)
    with engine.begin() as conn:  # start from an empty schema
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrated = make_engine(postgres_url)
    upgrade(migrated)
    migrated.dispose()
    new_uow = unit_of_work_factory(Settings(database_url=postgres_url))
    seed_demo_clinic(new_uow, n_patients=2, seed=5, today=date.today())  # noqa: DTZ011 - the clinic's calendar day
    new_uow.dispose()
    yield from api_on(postgres_url)


def test_the_forecast_on_postgresql(pg_api: Api) -> None:
    pid = _treated(pg_api)
    r = pg_api.get("nurse", f"/patients/{pid}/forecast")
    assert r.status_code == 200, r.text
    _check_shape(r.json(), pid)
    log = pg_api.get("admin", "/audit", params={"patient_id": pid}).json()["items"]
    assert any(e["entity"] == "forecast" and e["role"] == "nurse" for e in log)
