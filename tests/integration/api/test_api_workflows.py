"""The API as a client uses it: logins, versioned corrections, problem+json errors, a whole IV session, REMS
forms, a patient's questionnaire link, simulations and trial jobs, and de-identified research data."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, func, select

from ketamine_therapy.pharmacology.trials.example_specs import example_specs
from ketamine_therapy.storage.tables.patients import PatientRow

from .conftest import Api

PROBLEM = "application/problem+json"
EXAMPLES = example_specs()


def test_login_failures_are_generic_counted_and_locked(api: Api) -> None:
    user, password = api.passwords["therapist"]
    wrong = api.client.post("/api/v1/auth/token", json={"username": user, "password": "not-the-password"})
    unknown = api.client.post("/api/v1/auth/token", json={"username": "nobody.here", "password": "x" * 12})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.headers["content-type"] == unknown.headers["content-type"] == PROBLEM
    assert wrong.json()["detail"] == unknown.json()["detail"] == "invalid username or password"
    for _ in range(4):  # five failures in a row lock the account for 15 minutes
        api.client.post("/api/v1/auth/token", json={"username": user, "password": "still-wrong"})
    locked = api.client.post("/api/v1/auth/token", json={"username": user, "password": password})
    assert locked.status_code == 423


def test_login_attempts_are_rate_limited_per_address(api: Api) -> None:
    codes = [api.client.post("/api/v1/auth/token", json={"username": f"user{i}", "password": "x" * 12}).status_code
             for i in range(21)]  # fmt: skip
    first = codes.index(429)  # the fixture logged in once per role from the same address
    assert first + len(api.passwords) == 20
    assert set(codes[:first]) == {401}
    limited = api.client.post("/api/v1/auth/token", json=dict(zip(("username", "password"), api.passwords["nurse"],
                                                                  strict=True)))  # fmt: skip
    assert limited.status_code == 429  # even the right password waits
    assert int(limited.headers["Retry-After"]) > 0


def test_corrections_need_the_version_they_build_on(api: Api) -> None:
    new = {"given_name": "Ada", "family_name": "Lovelace", "date_of_birth": "1985-12-10", "sex": "female",
           "weight_kg": 61.5}  # fmt: skip
    created = api.send("prescriber", "POST", "/patients", new)
    assert created.status_code == 201
    assert created.headers["ETag"] == '"1"'
    pid = created.json()["id"]
    body = {"reason": "new phone number", "phone": "555-0101"}
    assert api.send("prescriber", "PATCH", f"/patients/{pid}", body).status_code == 428  # no If-Match
    assert api.send("prescriber", "PATCH", f"/patients/{pid}", body, version=1).headers["ETag"] == '"2"'
    stale = api.send("prescriber", "PATCH", f"/patients/{pid}", {"reason": "typo", "phone": "555-0199"}, version=1)
    assert stale.status_code == 412  # someone changed it since version 1: not silently overwritten
    assert stale.headers["content-type"] == PROBLEM
    signed = {"document": "IV ketamine informed consent v3", "signed_on": "2026-11-20"}
    consent = api.send("prescriber", "POST", f"/patients/{pid}/consents", signed, version=2)
    assert consent.status_code == 201
    assert consent.json()["consents"] == [{"document": "IV ketamine informed consent v3", "signed_on": "2026-11-20",
                                           "recorded_by": "demo.prescriber"}]  # fmt: skip
    history = api.get("prescriber", f"/patients/{pid}/history").json()
    assert [(h["version"], h["reason"], h["record"]["phone"]) for h in history] == [
        (1, "registered", None), (2, "new phone number", "555-0101"),
        (3, "consent filed: IV ketamine informed consent v3 signed 2026-11-20", "555-0101")]  # fmt: skip


def test_bad_input_names_the_field_and_changes_nothing(api: Api) -> None:
    engine = create_engine(api.database_url)
    with engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(PatientRow)).scalar_one()
    bad = {"given_name": "Bo", "family_name": "Heavy", "date_of_birth": "1970-01-01", "sex": "male", "weight_kg": 900}
    r = api.send("prescriber", "POST", "/patients", bad)
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    assert (r.json()["field"], r.json()["allowed"]) == ("weight_kg", "20-400 kg")
    schema_error = api.send("prescriber", "POST", "/patients", {**bad, "sex": "x", "weight_kg": 80})
    assert schema_error.status_code == 422
    assert schema_error.json()["field"] == "sex"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PatientRow)).scalar_one() == before
    engine.dispose()


def test_pagination(api: Api) -> None:
    first = api.get("nurse", "/patients", params={"limit": 2}).json()
    assert len(first["items"]) == 2
    assert first["next_offset"] == 2
    last = api.get("nurse", "/patients", params={"limit": 2, "offset": 4}).json()
    assert last["next_offset"] is None


def test_a_whole_iv_session_through_the_api(api: Api) -> None:
    pid = api.patient_ids[0]
    settings = api.get("admin", "/clinic/settings")
    cleared = api.send("admin", "PATCH", "/clinic/settings",
                       {"reason": "this clinic sets no IV minimum", "clear_iv_min_monitoring": True},
                       version=int(settings.headers["ETag"].strip('"')))  # fmt: skip
    assert cleared.status_code == 200
    now = datetime.now(UTC)
    s = api.send(
        "prescriber", "POST", f"/patients/{pid}/sessions", {"kind": "iv-ketamine", "scheduled_at": now.isoformat()}
    )
    assert s.status_code == 201
    sid, v = s.json()["id"], 1

    def step(path: str, body: dict[str, object], role: str = "nurse"):  # type: ignore[no-untyped-def]
        nonlocal v
        r = api.send(role, "POST", f"/sessions/{sid}/{path}", body, version=v)
        if r.status_code == 200:
            v = int(r.headers["ETag"].strip('"'))
        return r

    r = step("check-in", {"consent": True, "ride_home": True, "pregnancy_test": "not_applicable",
                          "bp": {"systolic": 152, "diastolic": 94}})  # fmt: skip
    assert r.status_code == 200, r.text
    blocked = step("dose", {"mg_per_kg": 0.5, "duration_min": 40, "weight_kg": 72.0})
    assert blocked.status_code == 409, blocked.text  # the BP gate: a documented decision, never a silent block
    assert any("documented decision" in u for u in blocked.json()["unmet"])
    assert step("bp-decision", {"proceed": True, "reason": "repeat 138/86 after rest"}).status_code == 200
    over = step("dose", {"mg_per_kg": 1.0, "duration_min": 40, "weight_kg": 72.0, "override_reason": "nurse cannot"})
    assert over.status_code == 403
    dosed = step("dose", {"mg_per_kg": 0.5, "duration_min": 40, "weight_kg": 72.0})
    assert dosed.status_code == 200, dosed.text
    assert dosed.json()["session"]["dose"]["mg_per_kg"] == 0.5
    for minutes in (1, 2, 3):
        at = (datetime.now(UTC) + timedelta(seconds=minutes)).isoformat()
        assert step("vitals", {"at": at, "systolic": 130 + minutes, "diastolic": 82, "heart_rate": 76,
                               "spo2": 98, "respiratory_rate": 14}).status_code == 200  # fmt: skip
    implausible = step("vitals", {"spo2": 140})
    assert implausible.status_code == 422  # the schema's range (0-100) names the field
    assert implausible.json()["field"] == "spo2"
    assert step("cadss6", {"value": 5}).status_code == 200
    assert step("monitoring", {"at": (datetime.now(UTC) + timedelta(seconds=5)).isoformat()}).status_code == 200
    done = step("discharge", {"at": (datetime.now(UTC) + timedelta(seconds=6)).isoformat(), "clinically_stable": True,
                              "sedation_resolved": True, "dissociation_resolved": True,
                              "respiratory_depression_resolved": True, "bp_decreasing_or_safe": True})  # fmt: skip
    assert done.status_code == 200, done.text
    assert done.json()["session"]["state"] == "discharged"
    again = step("stop", {"reason": "too late"})
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/invalid-transition"
    history = api.get("nurse", f"/sessions/{sid}/history").json()
    assert [h["changed_by"] for h in history][:3] == ["demo.prescriber", "demo.nurse", "demo.nurse"]


def test_rems_forms_status_export_and_submission(api: Api) -> None:
    forms = api.get("nurse", "/rems/forms").json()
    assert forms, "the demo's Spravato sessions filed Patient Monitoring Forms"
    open_forms = [f for f in forms if f["status"] != "submitted"]
    form = open_forms[0] if open_forms else forms[0]
    assert form["form"]["total_time_minutes"] >= 120
    csv = api.get("nurse", f"/rems/forms/{form['id']}/export")
    assert csv.headers["content-type"].startswith("text/csv")
    assert "dose_administered" in csv.text
    if open_forms:
        r = api.send("nurse", "POST", f"/rems/forms/{form['id']}/submitted",
                     {"submitted_on": form["form"]["treatment_date"]}, version=form["version"])  # fmt: skip
        assert r.status_code == 200
        assert r.json()["status"] == "submitted"
    assert api.get("therapist", "/rems/forms").status_code == 403


def test_patient_questionnaire_link_flags_item_9_and_is_single_use(api: Api) -> None:
    pid = api.patient_ids[1]
    link = api.send("nurse", "POST", f"/patients/{pid}/questionnaire-links", {"scale_id": "PHQ-9"})
    assert link.status_code == 201
    token = link.json()["token"]
    assert link.json()["url"].endswith(f"/q/{token}")
    opened = api.client.get(f"/api/v1/questionnaires/{token}")  # no login: the token is the permission
    assert opened.status_code == 200
    assert len(opened.json()["scale"]["items"]) == 9
    assert "not monitored in real time" in opened.json()["notice"]
    bad = api.client.post(f"/api/v1/questionnaires/{token}", json={"answers": [0] * 8 + [7]})
    assert bad.status_code == 422  # bad answers change nothing and leave the link usable
    sent = api.client.post(f"/api/v1/questionnaires/{token}", json={"answers": [2, 2, 1, 1, 1, 1, 1, 0, 1]})
    assert sent.status_code == 200
    assert sent.json()["crisis"] is True
    assert "988" in sent.json()["message"]
    assert api.client.post(f"/api/v1/questionnaires/{token}", json={"answers": [0] * 9}).status_code == 404
    flagged = [s for s in api.get("prescriber", f"/patients/{pid}/scales").json() if s["scale_id"] == "PHQ-9"]
    assert flagged[-1]["flags"] == ["suicidality"]
    log = api.get("admin", "/audit", params={"patient_id": str(pid)}).json()["items"]
    assert any(e["username"] == "patient-link" and e["entity"] == "scale" for e in log)


def test_simulation_and_trial_job_with_progress(api: Api) -> None:
    sim = api.send("researcher", "POST", "/simulations", {"route": "iv", "dose_mg_per_kg": 0.5, "n_subjects": 50,
                                                          "hours": 6, "seed": 1})  # fmt: skip
    assert sim.status_code == 200, sim.text
    plot = api.send("researcher", "POST", "/simulations/plot", {"dose_mg_per_kg": 0.5, "n_subjects": 20, "hours": 4})
    assert plot.headers["content-type"] == "image/png"
    assert plot.content[:8] == b"\x89PNG\r\n\x1a\n"
    spec = EXAMPLES["fava_2020_dose_ranging"].read_text("utf-8").replace("n: 2000", "n: 200")
    started = api.send("researcher", "POST", "/trials", {"spec": spec, "format": "yaml"})
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    for _ in range(600):
        status = api.get("researcher", f"/jobs/{job_id}").json()
        if status["state"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert status["state"] == "done", status
    assert status["done"] == status["total"] > 0
    assert set(status["result"]["arms"]) >= {"ketamine-0.5", "midazolam"}
    assert api.get("researcher", f"/jobs/{job_id}/plot").content[:4] == b"\x89PNG"
    assert api.get("prescriber", f"/jobs/{job_id}").status_code == 404  # another user's job is not visible
    bad = api.send("researcher", "POST", "/trials", {"spec": "arms: []", "format": "yaml"})
    assert bad.status_code == 422
    assert bad.json()["field"]


def test_researchers_see_deidentified_data_only(api: Api) -> None:
    rows = api.get("researcher", "/research/outcomes").json()
    assert rows
    text = str(rows)
    with create_engine(api.database_url).connect() as conn:
        names = conn.execute(select(PatientRow.family_name, PatientRow.date_of_birth)).all()
    assert not any(family in text or str(born) in text for family, born in names)
    assert api.get("researcher", "/patients").status_code == 403
    assert api.get("researcher", f"/patients/{api.patient_ids[0]}/scales").status_code == 403


def test_cookie_sessions_need_the_csrf_token_for_changes(api: Api) -> None:
    token = api.tokens["nurse"]
    csrf = api.client.post("/api/v1/auth/token", json=dict(zip(("username", "password"), api.passwords["nurse"],
                                                               strict=True))).json()  # fmt: skip
    api.client.cookies.set("kt_session", csrf["access_token"])
    pid = api.patient_ids[0]
    body = {"scale_id": "GAD-7"}
    refused = api.client.post(f"/api/v1/patients/{pid}/questionnaire-links", json=body)
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/csrf"
    ok = api.client.post(f"/api/v1/patients/{pid}/questionnaire-links", json=body,
                         headers={"X-CSRF-Token": csrf["csrf_token"]})  # fmt: skip
    assert ok.status_code == 201
    api.client.cookies.clear()
    assert api.client.delete("/api/v1/auth/token", headers={"Authorization": f"Bearer {token}"}).status_code == 204
    assert api.get("nurse", "/patients").status_code == 401  # logged out


def test_security_headers(api: Api) -> None:
    r = api.get("nurse", "/patients")
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'self'" in r.headers["content-security-policy"]
