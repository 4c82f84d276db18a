"""Session safety in the browser (issue 10): the runner's forms show the warnings and the override fields."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from ketamine_therapy.app import create_app
from ketamine_therapy.config import Settings
from ketamine_therapy.services import treatment
from ketamine_therapy.services.demo_clinic import demo_settings
from tests.integration.web.login import post_login

from .clinic_harness import CHECKS, NURSE, PASSWORD, Clinic, sqlite_clinic_fixture  # noqa: F401


def _browser(clinic: Clinic, role: str) -> TestClient:
    client = TestClient(
        create_app(Settings(database_url=clinic.url, cookie_secure=True)), base_url="https://testserver"
    )
    r = post_login(client, {"username": f"adv.{role}", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, name
    return match.group(1)


def _post(client: TestClient, session_id: object, step: str, data: dict[str, str]) -> str:
    html = client.get(f"/sessions/{session_id}").text
    form = {"csrf_token": _hidden(html, "csrf_token"), "expected_version": _hidden(html, "expected_version"),
            "state": _hidden(html, "state"), **data}  # fmt: skip
    r = client.post(f"/sessions/{session_id}/{step}", data=form, follow_redirects=True)
    return re.sub(r"\s+", " ", r.text)


def test_check_in_far_from_the_schedule_shows_the_warning_and_the_override(sqlite_clinic: Clinic) -> None:
    record = sqlite_clinic.session(sqlite_clinic.patient(), datetime.now(UTC) + timedelta(days=3))
    with _browser(sqlite_clinic, "prescriber") as browser:
        page = _post(browser, record.id, "check-in", {"consent": "on", "ride_home": "on",
                     "pregnancy_test": "not_applicable", "systolic": "124", "diastolic": "80"})  # fmt: skip
        assert "A prescriber must document the reason to go on despite:" in page
        assert "run before its scheduled time" in page
        assert 'name="override_reason"' in page
        page = _post(browser, record.id, "check-in", {"consent": "on", "ride_home": "on", "systolic": "124",
                     "pregnancy_test": "not_applicable", "diastolic": "80", "override_reason": "travel"})  # fmt: skip
        assert "Overridden on this session:" in page
        assert "adv.prescriber" in page


def test_an_old_weight_and_a_contradicted_discharge_show_in_the_runner(sqlite_clinic: Clinic) -> None:
    days = demo_settings().weight_max_age_days + 5
    now = datetime.now(UTC)
    record = sqlite_clinic.session(sqlite_clinic.patient(weighed_days_ago=days), now)
    record = treatment.check_in_session(sqlite_clinic.new_uow(), NURSE, record.id, record.version, CHECKS, now)
    with _browser(sqlite_clinic, "nurse") as browser:
        page = re.sub(r"\s+", " ", browser.get(f"/sessions/{record.id}").text)
        assert f"({days} days ago; clinic limit {demo_settings().weight_max_age_days} days)" in page
        assert 'name="acknowledge_weight"' in page
        page = _post(browser, record.id, "dose", {"mg_per_kg": "0.5", "duration_min": "40"})
        assert "acknowledge weight" in page
        page = _post(browser, record.id, "dose", {"mg_per_kg": "0.5", "duration_min": "40",
                                                  "acknowledge_weight": "on"})  # fmt: skip
        assert "35.5 mg IV over 40 min" in page
    start = now - timedelta(hours=2)
    other = sqlite_clinic.session(sqlite_clinic.patient(), start)
    other = treatment.check_in_session(sqlite_clinic.new_uow(), NURSE, other.id, other.version, CHECKS, start)
    order = treatment.DoseOrder(mg_per_kg=0.5, duration_min=40, weight_kg=70)
    other = treatment.start_dosing_session(sqlite_clinic.new_uow(), NURSE, other.id, other.version, order, start)
    treatment.begin_monitoring(sqlite_clinic.new_uow(), NURSE, other.id, other.version, start + timedelta(minutes=40))
    with _browser(sqlite_clinic, "nurse") as browser:
        page = re.sub(r"\s+", " ", browser.get(f"/sessions/{other.id}").text)
        assert 'name="override_reason"' in page  # the discharge form's override
        page = _post(browser, other.id, "discharge", {"kind": "iv-ketamine", "clinically_stable": "on",
                     "sedation_resolved": "on", "dissociation_resolved": "on",
                     "respiratory_depression_resolved": "on", "bp_decreasing_or_safe": "on"})  # fmt: skip
        assert "Document the reason to go on despite:" in page
        assert "no SpO2 recorded in the 15 min before discharge" in page
