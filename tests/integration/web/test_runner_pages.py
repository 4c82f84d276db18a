"""The session runner and the research pages over HTTP, on a real SQLite clinic seeded with 5 demo patients.

Each runner test plans its own course for a new synthetic patient (so no test depends on which demo sessions
happen to fall on today) and moves the server's clock through the ``request_time`` dependency, the runner's
clock seam: the server records each step at that time, so the 60-minute IV minimum of the demo clinic can be
tested both ways without waiting.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ketamine_therapy.app import create_app
from ketamine_therapy.bootstrap import unit_of_work_factory
from ketamine_therapy.clinic.patients import Patient, WeightRecord
from ketamine_therapy.clinic.screening import AntidepressantTrial, ScreeningInput
from ketamine_therapy.clinic.sessions import SessionState
from ketamine_therapy.config import Settings
from ketamine_therapy.services import treatment
from ketamine_therapy.services.authorization import SYSTEM
from ketamine_therapy.services.clinic_settings import get_settings, put_settings
from ketamine_therapy.services.demo_clinic import PRESCRIBER, demo_logins, seed_demo_clinic
from ketamine_therapy.services.jobs import JobRunner
from ketamine_therapy.services.patients import list_patients, register_patient
from ketamine_therapy.services.plans import create_plan
from ketamine_therapy.services.ports import UnitOfWork
from ketamine_therapy.services.rems_forms import enroll_patient
from ketamine_therapy.services.screenings import screen_patient
from ketamine_therapy.storage.db import make_engine
from ketamine_therapy.storage.migrate import upgrade
from ketamine_therapy.web.runner_pages import request_time

from .login import post_login

PNG = b"\x89PNG\r\n\x1a\n"
HTMX = {"HX-Request": "true"}
SMALL_TRIAL = """
name: web-test-trial
seed: 5
population: {n: 40, baseline_madrs: {mean: 33, sd: 5}, weight_kg: {mean: 80, sd: 15}, age: {mean: 45, sd: 12}}
arms:
  - {name: ketamine, drug: racemic-ketamine, route: iv, dose_mg_per_kg: 0.5, duration_min: 40, days: [1, 3, 5]}
  - {name: placebo, drug: placebo, days: [1, 3, 5]}
endpoints:
  - {id: response_d7, kind: response, scale: madrs, day: 7}
  - {id: cost_per_responder_d7, kind: cost_per_responder, day: 7}
"""


@dataclass
class Clinic:
    """The app on a seeded clinic, one logged-in browser-like client per role."""

    app: FastAPI
    new_uow: Callable[[], UnitOfWork]
    logins: dict[str, tuple[str, str]]
    clients: dict[str, TestClient] = field(default_factory=dict)

    def client(self, role: str) -> TestClient:
        """A client logged in through the login page as the demo user of ``role`` (cookie session)."""
        if role not in self.clients:
            client = TestClient(self.app, base_url="https://testserver")
            username, password = self.logins[role]
            r = post_login(client, {"username": username, "password": password}, follow_redirects=False)
            assert r.status_code == 303, r.text
            assert "kt_session" in client.cookies
            self.clients[role] = client
        return self.clients[role]


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    path: Path = tmp_path_factory.mktemp("web") / "clinic.db"
    settings = Settings(database_url=f"sqlite:///{path}", cookie_secure=True)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    new_uow = unit_of_work_factory(settings)
    seed_demo_clinic(new_uow, n_patients=5, today=date.today())  # noqa: DTZ011 - the clinic's calendar day
    # the tests run a course's first session now, whatever weekday it is scheduled on (up to 3 days ahead)
    stored, version = get_settings(new_uow())
    put_settings(new_uow(), SYSTEM, replace(stored, schedule_tolerance_days=7), version, "tests run sessions early")
    logins = {role: (username, password) for role, username, password in demo_logins(new_uow)}
    jobs = JobRunner()
    app = create_app(settings, jobs=jobs)
    clinic = Clinic(app, new_uow, logins)
    yield clinic
    for client in clinic.clients.values():
        client.close()
    jobs.shutdown(wait=True)


class Clock:
    """The server's clock for the runner's steps; tests move it forward."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now


@pytest.fixture
def clock(clinic: Clinic) -> Iterator[Clock]:
    clock = Clock()
    clinic.app.dependency_overrides[request_time] = clock
    yield clock
    clinic.app.dependency_overrides.pop(request_time, None)


def new_course(clinic: Clinic, protocol_id: str, weight_kg: float = 80.0) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A new synthetic patient on ``protocol_id`` from today: (patient id, session ids in plan order)."""
    today = date.today()  # noqa: DTZ011 - the clinic's calendar day
    patient = Patient("Robin", f"Testcase{uuid.uuid4().hex[:6]}", date(1980, 5, 17), "female")
    register_patient(clinic.new_uow(), PRESCRIBER, patient, WeightRecord(today - timedelta(days=3), weight_kg))
    route = "intranasal-esketamine" if protocol_id.startswith("spravato") else "iv"
    trials = (AntidepressantTrial("sertraline", "ssri", True, 8, True, "none", True),
              AntidepressantTrial("venlafaxine", "snri", True, 10, True, "partial", True))  # fmt: skip
    screening = ScreeningInput(episode_months=14, severity="moderate", trials=trials, augmentation_used=False,
                               ect_used=False, route=route)  # fmt: skip
    screen_patient(clinic.new_uow(), PRESCRIBER, patient.id, screening, today - timedelta(days=3))
    if protocol_id.startswith("spravato"):
        enroll_patient(clinic.new_uow(), PRESCRIBER, patient.id, today - timedelta(days=3), patient_signed=True,
                       prescriber_signed=True)  # fmt: skip
    _, sessions = create_plan(clinic.new_uow(), PRESCRIBER, patient.id, protocol_id, today)
    return patient.id, [s.id for s in sessions]


def flat(html: str) -> str:
    """``html`` with every run of whitespace as one space (templates wrap long lines)."""
    return re.sub(r"\s+", " ", html)


def hidden(html: str, name: str) -> str:
    """The value of the first hidden input ``name`` on the page."""
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name} in the page"
    return match.group(1)


class Runner:
    """One session's runner page as a browser would use it: every post sends the page's CSRF token and version."""

    def __init__(self, client: TestClient, session_id: uuid.UUID) -> None:
        self.client = client
        self.path = f"/sessions/{session_id}"
        self.html = ""

    def open(self) -> str:
        r = self.client.get(self.path)
        assert r.status_code == 200, r.text
        self.html = r.text
        return self.html

    @property
    def version(self) -> int:
        return int(hidden(self.html, "expected_version"))

    def post(
        self, step: str, data: dict[str, str], *, htmx: bool = False, version: int | None = None
    ) -> httpx2.Response:
        """Post form ``step``; the runner page (or the HTMX column) it answers with becomes the current page."""
        if not self.html:
            self.open()
        form = {"csrf_token": hidden(self.html, "csrf_token"), "state": hidden(self.html, "state"),
                "expected_version": str(self.version if version is None else version), **data}  # fmt: skip
        r = self.client.post(f"{self.path}/{step}", data=form, headers=HTMX if htmx else {}, follow_redirects=False)
        if r.status_code == 303:
            assert r.headers["location"] == self.path
            self.open()
        elif htmx and r.status_code in (200, 409, 422) and "HX-Redirect" not in r.headers:
            # the column is swapped in and, as runner.js does, every form takes the column's version
            new = re.search(r'data-version="(\d+)"', r.text)
            assert new
            html = self.html.split('<aside id="observations"')[0] + r.text
            self.html = re.sub(
                r'name="expected_version" value="\d+"', f'name="expected_version" value="{new.group(1)}"', html
            )
        elif r.status_code in (409, 422):
            self.html = r.text
        return r


CHECK_IN = {"consent": "on", "ride_home": "on", "pregnancy_test": "not_applicable"}
DISCHARGE_OK = {"clinically_stable": "on", "sedation_resolved": "on", "dissociation_resolved": "on",
                "respiratory_depression_resolved": "on", "bp_decreasing_or_safe": "on"}  # fmt: skip


def get_record(clinic: Clinic, session_id: uuid.UUID) -> treatment.SessionRecord:
    return treatment.get_session(clinic.new_uow(), SYSTEM, session_id)


# -- the session runner -----------------------------------------------------------------------------------------


def test_a_whole_iv_session_through_the_pages(clinic: Clinic, clock: Clock) -> None:
    patient_id, sessions = new_course(clinic, "iv-acute-series", weight_kg=80)
    page = Runner(clinic.client("nurse"), sessions[0])
    html = page.open()
    assert "IV ketamine" in flat(html)
    assert "session 1 of 6" in flat(html)
    assert "0.5 mg/kg over 40 min" in flat(html)  # planned dose from the plan
    assert f'href="/patients/{patient_id}"' in flat(html)
    assert 'data-testid="state">Scheduled<' in flat(html)

    # check-in with a BP above the gate: a decision is required, never a silent block
    r = page.post("check-in", {**CHECK_IN, "systolic": "152", "diastolic": "94"})
    assert r.status_code == 303
    assert "Pre-dose BP above the gate" in flat(page.html)
    assert 'name="decision"' in flat(page.html)
    assert "Start infusion now" not in flat(page.html)
    r = page.post("dose", {"mg_per_kg": "0.5", "duration_min": "40", "weight_kg": "80"})
    assert r.status_code == 409
    assert "needs a documented decision" in flat(r.text)
    r = page.post("bp-decision", {"decision": "proceed", "reason": ""})
    assert r.status_code == 422
    assert "reason" in flat(r.text)
    assert 'aria-invalid="true"' in flat(r.text)
    clock.advance(10)
    r = page.post("bp-decision", {"decision": "proceed", "reason": "repeat BP 136/86 after 10 min rest"})
    assert r.status_code == 303
    assert "BP decision by demo.nurse" in flat(page.html)

    # the dose form is prefilled from the plan and the record; the nurse sees the limits but no override field
    assert 'name="mg_per_kg" inputmode="decimal" required data-mg-per-kg value="0.5"' in flat(page.html)
    assert 'data-duration value="40"' in flat(page.html)
    assert 'data-weight value="80.0"' in flat(page.html)
    assert "0.1-0.75 mg/kg" in flat(page.html)
    assert 'name="override_reason"' not in flat(page.html)
    clock.advance(5)
    dosing_start = clock.now
    r = page.post("dose", {"mg_per_kg": "0.5", "duration_min": "40", "weight_kg": "80"})
    assert r.status_code == 303
    assert "40.0 mg IV over 40 min at 60.0 mg/h" in flat(page.html)
    assert f'data-start="{dosing_start.isoformat()}"' in flat(page.html)
    assert f'data-end="{(dosing_start + timedelta(minutes=40)).isoformat()}"' in flat(page.html)

    # three sets of vitals through the HTMX column: each answer is the column with the new version
    for minutes, values in ((10, ("138", "88", "80", "98", "14")), (20, ("146", "92", "84", "97", "15")),
                            (30, ("134", "84", "78", "99", "14"))):  # fmt: skip
        clock.now = dosing_start + timedelta(minutes=minutes)
        before = page.version
        r = page.post("vitals", dict(zip(("systolic", "diastolic", "heart_rate", "spo2", "respiratory_rate"), values,
                                         strict=True)), htmx=True)  # fmt: skip
        assert r.status_code == 200, r.text
        assert r.text.lstrip().startswith('<aside id="observations"')
        assert "<html" not in flat(r.text)
        assert f'data-version="{before + 1}"' in flat(r.text)
        assert f"<td>{minutes}</td><td" in flat(r.text)
        assert f"{values[0]}/{values[1]}" in flat(r.text)
    # an implausible value is refused next to its control, and what was typed stays
    r = page.post("vitals", {"spo2": "150", "heart_rate": "77"}, htmx=True)
    assert r.status_code == 422
    assert "spo2" in flat(r.text)
    assert 'value="150"' in flat(r.text)
    assert 'value="77"' in flat(r.text)
    r = page.post("moaas", {"moaas": "4"}, htmx=True)
    assert r.status_code == 200
    assert "MOAA/S" in flat(r.text)
    r = page.post("cadss6", {"cadss6": "7"}, htmx=True)
    assert r.status_code == 200
    assert "CADSS-6" in flat(r.text)

    clock.now = dosing_start + timedelta(minutes=41)
    r = page.post("monitoring", {})
    assert r.status_code == 303
    assert "to the minimum of 60 min" in flat(page.html)
    assert f'data-end="{(dosing_start + timedelta(minutes=60)).isoformat()}"' in flat(page.html)

    # before the clinic's 60-minute minimum the discharge is refused, naming the criterion; the ticks stay
    clock.now = dosing_start + timedelta(minutes=45)
    r = page.post("discharge", {**DISCHARGE_OK, "kind": "iv-ketamine"})
    assert r.status_code == 409
    assert "Cannot move to discharged yet" in flat(r.text)
    assert "monitored 45 min since first dose, need &gt;= 60 min (clinic setting)" in flat(r.text)
    assert r.text.count('type="checkbox" name="clinically_stable" checked') == 1
    # an assessment that is not stable is refused even after the minimum
    clock.now = dosing_start + timedelta(minutes=65)
    r = page.post("discharge", {"kind": "iv-ketamine"})
    assert r.status_code == 409
    assert "not assessed as clinically stable" in flat(r.text)
    # the attestation is checked against the recorded vitals: none in the last 15 min needs an override
    r = page.post("discharge", {**DISCHARGE_OK, "kind": "iv-ketamine"})
    assert r.status_code == 422
    assert "no BP recorded in the 15 min before discharge" in flat(r.text)
    assert 'name="override_reason"' in flat(r.text)
    clock.now = dosing_start + timedelta(minutes=62)
    page.post("vitals", {"systolic": "128", "diastolic": "82", "spo2": "98", "respiratory_rate": "14"}, htmx=True)
    clock.now = dosing_start + timedelta(minutes=65)
    r = page.post("discharge", {**DISCHARGE_OK, "kind": "iv-ketamine"})
    assert r.status_code == 303
    assert 'data-testid="state">Discharged<' in flat(page.html)
    assert "Total time from the first dose: <strong>65 min</strong>" in flat(page.html)

    record = get_record(clinic, sessions[0])
    s = record.session
    assert s.state is SessionState.DISCHARGED
    assert [v.bp.systolic for v in s.vitals if v.bp] == [138, 146, 134, 128]
    assert s.bp_decision is not None
    assert s.bp_decision.proceed
    assert s.bp_decision.by == "demo.nurse"
    assert s.entered_at(SessionState.DOSING) == dosing_start
    assert [e.total for e in s.moaas] == [4]
    assert [e.total for e in s.cadss6] == [7]


def test_vitals_show_local_times_and_minutes_since_dosing(clinic: Clinic, clock: Clock) -> None:
    _, sessions = new_course(clinic, "iv-acute-series")
    page = Runner(clinic.client("nurse"), sessions[0])
    page.post("check-in", {**CHECK_IN, "systolic": "124", "diastolic": "80"})
    page.post("vitals", {"systolic": "126", "diastolic": "82"}, htmx=True)
    clock.advance(2)
    start = clock.now
    page.post("dose", {"mg_per_kg": "0.5", "duration_min": "40", "weight_kg": "80"})
    clock.advance(15)
    r = page.post("vitals", {"heart_rate": "81", "spo2": "97"}, htmx=True)
    tz = ZoneInfo(get_settings(clinic.new_uow())[0].timezone)
    assert f"<tr><td>{clock.now.astimezone(tz):%H:%M}</td><td>15</td>" in flat(r.text)
    assert f"<tr><td>{(start - timedelta(minutes=2)).astimezone(tz):%H:%M}</td><td>pre</td>" in flat(r.text)
    assert "<td>check-in</td>" in flat(r.text)


def test_esketamine_dose_buttons_devices_and_rems_questions(clinic: Clinic, clock: Clock) -> None:
    _, sessions = new_course(clinic, "spravato-trd")
    page = Runner(clinic.client("nurse"), sessions[0])
    html = page.open()
    assert 'name="last_food_at"' in flat(html)
    assert 'name="last_liquid_at"' in flat(html)
    r = page.post("check-in", {**CHECK_IN, "systolic": "122", "diastolic": "78"})
    assert r.status_code == 409
    assert "last_food_at not recorded" in flat(r.text)
    assert "last_liquid_at not recorded" in flat(r.text)
    tz = ZoneInfo(get_settings(clinic.new_uow())[0].timezone)
    food, liquid = (clock.now - timedelta(hours=3)).astimezone(tz), (clock.now - timedelta(hours=1)).astimezone(tz)
    r = page.post("check-in", {**CHECK_IN, "systolic": "122", "diastolic": "78", "last_food_at": f"{food:%H:%M}",
                               "last_liquid_at": f"{liquid:%H:%M}"})  # fmt: skip
    assert r.status_code == 303
    assert 'name="total_mg" value="56"' in flat(page.html)
    assert 'name="total_mg" value="84"' in flat(page.html)
    assert "2 devices · planned" in flat(page.html)
    assert "3 devices" in flat(page.html)
    assert 'name="mg_per_kg"' not in flat(page.html)
    clock.advance(20)
    start = clock.now
    r = page.post("dose", {"total_mg": "56"})
    assert r.status_code == 303
    assert "56 mg nasal (2 devices of 28 mg, 5 min apart)" in flat(page.html)
    assert page.html.count("data-device ") == 2
    assert "+5 min" in flat(page.html)
    clock.advance(6)
    r = page.post("monitoring", {})
    assert r.status_code == 409
    assert f"last device wait ends at {(start + timedelta(minutes=10)).astimezone(tz):%H:%M}" in flat(r.text)
    clock.advance(5)
    assert page.post("monitoring", {}).status_code == 303
    assert "to the minimum of 120 min (label: at least 2 hours)" in flat(page.html)
    assert 'name="rems_sedation"' in flat(page.html)
    assert 'name="lot_number"' in flat(page.html)
    clock.advance(30)
    page.post("vitals", {"systolic": "130", "diastolic": "84", "spo2": "98"}, htmx=True)
    r = page.post("discharge", {**DISCHARGE_OK, "kind": "esketamine", "rems_sedation": "no", "rems_dissociation": "yes",
                                "rems_respiratory_depression": "no"})  # fmt: skip
    assert r.status_code == 409
    assert "need &gt;= 120 min" in flat(r.text)
    clock.now = start + timedelta(minutes=116)
    page.post("vitals", {"systolic": "126", "diastolic": "82", "spo2": "98", "respiratory_rate": "14"}, htmx=True)
    clock.now = start + timedelta(minutes=121)
    r = page.post("discharge", {**DISCHARGE_OK, "kind": "esketamine", "rems_sedation": "no",
                                "rems_dissociation": "yes", "rems_respiratory_depression": "no",
                                "lot_number": "LOT-42"})  # fmt: skip
    assert r.status_code == 303
    assert "REMS Patient Monitoring Form was filed" in flat(page.html)


def test_a_stale_version_shows_who_changed_the_session(clinic: Clinic, clock: Clock) -> None:
    _, sessions = new_course(clinic, "iv-acute-series")
    mine = Runner(clinic.client("nurse"), sessions[0])
    theirs = Runner(clinic.client("prescriber"), sessions[0])
    mine.open()
    theirs.open()
    assert theirs.post("check-in", {**CHECK_IN, "systolic": "120", "diastolic": "80"}).status_code == 303
    r = mine.post("check-in", {**CHECK_IN, "systolic": "118", "diastolic": "78"})  # still the scheduled page
    assert r.status_code == 409
    assert "Someone else changed this session" in flat(r.text)
    assert "Last change: demo.prescriber at" in flat(r.text)
    assert "checked in" in flat(r.text)
    assert 'data-testid="state">Checked in<' in flat(r.text)  # the latest record is shown

    # in the observations column: the typed values stay and the column has the new version
    mine.open()
    stale = mine.version
    assert theirs.post("vitals", {"heart_rate": "70"}, htmx=True).status_code == 200
    r = mine.post("vitals", {"systolic": "131", "diastolic": "85"}, htmx=True, version=stale)
    assert r.status_code == 409
    assert "Someone else changed this session" in flat(r.text)
    assert 'value="131"' in flat(r.text)
    assert f'data-version="{stale + 1}"' in flat(r.text)
    assert mine.post("vitals", {"systolic": "131", "diastolic": "85"}, htmx=True).status_code == 200

    # when the state changed too, the whole page is stale: HTMX is sent to the reloaded runner with a notice
    stale = mine.version
    theirs.open()
    assert theirs.post("stop", {"reason": "patient unwell before dosing"}).status_code == 303
    r = mine.post("vitals", {"heart_rate": "90"}, htmx=True, version=stale)
    assert r.status_code == 409
    assert r.headers["HX-Redirect"] == f"/sessions/{sessions[0]}?notice=changed"
    page = clinic.client("nurse").get(r.headers["HX-Redirect"])
    assert "changed by someone else while you had it open" in flat(page.text)
    assert "Stopped at" in flat(page.text)
    assert "patient unwell before dosing" in flat(page.text)


def test_only_a_prescriber_may_override_the_dose_limits(clinic: Clinic, clock: Clock) -> None:
    _, sessions = new_course(clinic, "iv-acute-series")
    nurse = Runner(clinic.client("nurse"), sessions[0])
    nurse.post("check-in", {**CHECK_IN, "systolic": "120", "diastolic": "80"})
    assert 'name="override_reason"' not in flat(nurse.html)
    r = nurse.post("dose", {"mg_per_kg": "0.9", "duration_min": "40", "weight_kg": "80"})
    assert r.status_code == 422
    assert "outside the hard limits 0.1-0.75 mg/kg" in flat(r.text)
    assert "A prescriber must document" in flat(r.text)
    # a forged override from a nurse is refused by the service
    r = nurse.post("dose", {"mg_per_kg": "0.9", "duration_min": "40", "weight_kg": "80", "override_reason": "forged"})
    assert r.status_code == 403
    assert get_record(clinic, sessions[0]).session.state is SessionState.CHECKED_IN

    prescriber = Runner(clinic.client("prescriber"), sessions[0])
    assert 'name="override_reason"' in prescriber.open()
    reason = "documented tolerance of 0.9 mg/kg in the previous series"
    r = prescriber.post(
        "dose", {"mg_per_kg": "0.9", "duration_min": "40", "weight_kg": "80", "override_reason": reason}
    )
    assert r.status_code == 303
    assert "override: documented tolerance" in flat(prescriber.html)
    override = get_record(clinic, sessions[0]).session.override
    assert override is not None
    assert override.by == "demo.prescriber"


def test_forms_need_the_csrf_token_and_a_role_that_runs_sessions(clinic: Clinic, clock: Clock) -> None:
    _, sessions = new_course(clinic, "iv-acute-series")
    nurse = clinic.client("nurse")
    no_token = {**CHECK_IN, "systolic": "120", "diastolic": "80", "expected_version": "1"}
    r = nurse.post(f"/sessions/{sessions[0]}/check-in", data=no_token, follow_redirects=False)
    assert r.status_code == 403
    therapist = clinic.client("therapist")
    html = therapist.get(f"/sessions/{sessions[0]}").text  # may read the session, but runs no step
    assert "Check in</button>" not in flat(html)
    assert 'name="systolic"' not in flat(html)
    form = {**CHECK_IN, "systolic": "120", "diastolic": "80", "expected_version": "1",
            "csrf_token": hidden(html, "csrf_token")}  # fmt: skip
    assert therapist.post(f"/sessions/{sessions[0]}/check-in", data=form).status_code == 403
    assert clinic.client("researcher").get(f"/sessions/{sessions[0]}").status_code == 403
    assert nurse.get(f"/sessions/{uuid.uuid4()}").status_code == 404


def test_a_logged_out_browser_is_sent_to_the_login_page(clinic: Clinic) -> None:
    _, sessions = new_course(clinic, "iv-acute-series")
    anonymous = TestClient(clinic.app, base_url="https://testserver")  # no `with`: the app's lifespan stays up
    r = anonymous.get(f"/sessions/{sessions[0]}", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/login?next=/sessions/{sessions[0]}"


# -- research -----------------------------------------------------------------------------------------------------


def test_research_page_runs_a_small_simulation_and_shows_the_plot(clinic: Clinic) -> None:
    researcher = clinic.client("researcher")
    page = researcher.get("/research")
    assert page.status_code == 200
    assert 'action="/research/simulation#simulation-result"' in flat(page.text)
    assert 'action="/research/trials"' in flat(page.text)
    query = ("drug=racemic-ketamine&model=&route=iv&dose=0.5&dose_unit=mg_per_kg&duration_min=40&n_subjects=60"
             "&hours=6&seed=3&weight_kg=70&age_y=40&female=false")  # fmt: skip
    r = researcher.get(f"/research/simulation?{query}")
    assert r.status_code == 200, r.text
    assert "60 subjects, seed 3" in flat(r.text)
    for text in ("<h3>ketamine</h3>", "<h3>norketamine</h3>", "Cmax", "AUC", ">p95<"):
        assert text in flat(r.text)
    embedded = re.search(r'src="data:image/png;base64,([^"]+)"', r.text)
    assert embedded
    assert base64.b64decode(embedded.group(1)).startswith(PNG)
    link = re.search(r'href="(/research/simulation\.png\?[^"]+)"', r.text)
    assert link
    assert "seed=3" in link.group(1)
    assert "dose_mg_per_kg=0.5" in link.group(1)
    png = researcher.get(link.group(1).replace("&amp;", "&"))
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(PNG)

    bad = researcher.get("/research/simulation?drug=racemic-ketamine&route=iv&dose=0.5&n_subjects=0")
    assert bad.status_code == 422
    assert "n_subjects" in flat(bad.text)
    assert 'aria-invalid="true"' in flat(bad.text)


def _wait_for_job(client: TestClient, job_path: str, timeout_s: float = 120.0) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        r = client.get(f"{job_path}/progress")
        assert r.status_code == 200
        state = re.search(r'data-state="(\w+)"', r.text)
        assert state
        if state.group(1) in ("done", "failed"):
            return r.text
        assert 'hx-trigger="every 1s"' in flat(r.text)  # polls while it runs
        assert time.monotonic() < deadline, "the trial job did not finish"
        time.sleep(0.2)


def test_a_trial_job_runs_to_the_end_with_results_and_a_plot(clinic: Clinic) -> None:
    prescriber = clinic.client("prescriber")  # prescribers run research too
    page = prescriber.get("/research")
    r = prescriber.post("/research/trials", data={"csrf_token": hidden(page.text, "csrf_token"), "spec": SMALL_TRIAL,
                                                  "format": "yaml"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    job_path = r.headers["location"]
    assert job_path.startswith("/research/jobs/")
    assert prescriber.get(job_path).status_code == 200
    done = _wait_for_job(prescriber, job_path)
    assert 'data-state="done"' in flat(done)
    assert "hx-trigger" not in flat(done)
    assert "response_d7" in flat(done)
    assert "cost per responder" in flat(done)
    assert "n = 40" in flat(done)
    assert f'src="{job_path}.png"' in flat(done)
    png = prescriber.get(f"{job_path}.png")
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(PNG)
    results = prescriber.get(f"{job_path}.json").json()
    assert set(results["arms"]) == {"ketamine", "placebo"}
    assert clinic.client("researcher").get(job_path).status_code == 404  # another user's job is not shown
    assert job_path.rsplit("/", 1)[1] in prescriber.get("/research").text


def test_an_example_trial_with_fewer_patients(clinic: Clinic) -> None:
    researcher = clinic.client("researcher")
    page = researcher.get("/research").text
    assert '<option value="murrough_2013_six_infusions"' in page
    r = researcher.post("/research/trials", data={"csrf_token": hidden(page, "csrf_token"),
                                                  "example": "murrough_2013_six_infusions", "spec": "", "n": "30"},
                        follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    done = _wait_for_job(researcher, r.headers["location"])
    assert "n = 30" in flat(done)

    bad = researcher.post("/research/trials", data={"csrf_token": hidden(page, "csrf_token"), "spec": "arms: [",
                                                    "format": "yaml"})  # fmt: skip
    assert bad.status_code == 422
    assert "is not valid YAML" in flat(bad.text)
    assert "arms: [" in flat(bad.text)


def test_researchers_see_outcomes_without_names(clinic: Clinic) -> None:
    r = clinic.client("researcher").get("/research/outcomes")
    assert r.status_code == 200
    assert "De-identified by removal" in flat(r.text)
    assert "re-identifiable" in flat(r.text)
    rows = re.findall(r"<tr><td><code>([0-9a-f]{12})</code></td>", r.text)
    assert len(rows) >= 4  # the seeded demo patients with a MADRS course
    for patient in list_patients(clinic.new_uow(), SYSTEM, limit=100):
        assert patient.family_name not in flat(r.text)
        assert f"{patient.given_name} {patient.family_name}" not in flat(r.text)
        assert patient.date_of_birth.isoformat() not in flat(r.text)
        assert str(patient.id) not in flat(r.text)
    assert clinic.client("prescriber").get("/research/outcomes").status_code == 403


@pytest.mark.parametrize("path", ["/research", "/research/simulation?route=iv", "/research/outcomes"])
def test_nurses_get_403_on_research(clinic: Clinic, path: str) -> None:
    r = clinic.client("nurse").get(path)
    assert r.status_code == 403
    assert "Forbidden" in flat(r.text)
