"""A nurse runs a whole IV ketamine session in Chromium on a tablet-sized screen, against the app as a subprocess.

The server runs in real time, so a session cannot wait out the demo clinic's 60-minute IV minimum during a test.
clinical.md gives no IV minimum (§1b): it is a clinic setting. The test clinic is therefore the demo clinic with
two IV sessions scheduled for today, both through the services before the server starts:

- session A while the demo's 60-minute minimum applies: its discharge must be refused, naming that criterion;
- session B after an administrator set no IV minimum (``iv_min_monitoring_min=None``, as a clinic may): the nurse
  runs it from check-in to discharge.

A session keeps the minimum that applied when it was scheduled, so both rules are exercised on one server.
"""

from __future__ import annotations

import os
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ketamine_therapy.bootstrap import unit_of_work_factory
from ketamine_therapy.clinic.patients import Patient, WeightRecord
from ketamine_therapy.clinic.screening import AntidepressantTrial, ScreeningInput
from ketamine_therapy.clinic.sessions import SessionKind
from ketamine_therapy.config import Settings
from ketamine_therapy.services.authorization import SYSTEM
from ketamine_therapy.services.clinic_settings import get_settings, put_settings
from ketamine_therapy.services.demo_clinic import PRESCRIBER, seed_demo_clinic
from ketamine_therapy.services.patients import register_patient
from ketamine_therapy.services.ports import UnitOfWork
from ketamine_therapy.services.screenings import screen_patient
from ketamine_therapy.services.treatment import schedule_session
from ketamine_therapy.storage.db import make_engine
from ketamine_therapy.storage.migrate import upgrade

from .conftest import LiveServer, free_port, serve

Shot = Callable[[Page, str], Path]


@dataclass
class IvClinic:
    """The running app and today's two IV sessions: ``with_minimum`` (60 min) and ``without_minimum``."""

    server: LiveServer
    with_minimum: uuid.UUID
    without_minimum: uuid.UUID


def _iv_session_today(new_uow: Callable[[], UnitOfWork], family_name: str) -> uuid.UUID:
    """A new synthetic IV patient (80 kg, screened) with one IV session scheduled now (today in the clinic)."""
    today = datetime.now(UTC).date()
    patient = Patient("Kim", family_name, date(1979, 3, 9), "female")
    register_patient(new_uow(), PRESCRIBER, patient, WeightRecord(today - timedelta(days=2), 80.0))
    trials = (AntidepressantTrial("sertraline", "ssri", True, 8, True, "none", True),
              AntidepressantTrial("venlafaxine", "snri", True, 10, True, "partial", True))  # fmt: skip
    screening = ScreeningInput(episode_months=20, severity="moderate", trials=trials, augmentation_used=False,
                               ect_used=False, route="iv")  # fmt: skip
    screen_patient(new_uow(), PRESCRIBER, patient.id, screening, today - timedelta(days=2))
    return schedule_session(new_uow(), PRESCRIBER, patient.id, SessionKind.IV_KETAMINE, datetime.now(UTC)).id


@pytest.fixture(scope="module")
def iv_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IvClinic]:
    tmp = tmp_path_factory.mktemp("iv-session")
    url = f"sqlite:///{tmp / 'iv.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    new_uow = unit_of_work_factory(Settings(database_url=url))
    seed_demo_clinic(new_uow, n_patients=5)
    with_minimum = _iv_session_today(new_uow, "Minimum")
    settings, version = get_settings(new_uow())
    assert settings.iv_min_monitoring_min == 60
    put_settings(new_uow(), SYSTEM, replace(settings, iv_min_monitoring_min=None), version,
                 "e2e: a clinic that sets no IV minimum monitoring time (clinical.md gives none)")  # fmt: skip
    without_minimum = _iv_session_today(new_uow, "Nominimum")
    port = free_port()
    env = {**os.environ, "KETAMINE_THERAPY_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "ketamine_therapy", "serve", "--host", "127.0.0.1", "--port", str(port), "--demo"]
    with serve(command, port, tmp / "server.log", env, tmp) as server:
        yield IvClinic(server, with_minimum, without_minimum)


def log_in(page: Page, server: LiveServer, role: str) -> None:
    username, password = server.login(role)
    page.goto(server.url("/login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def vitals(page: Page, values: dict[str, str]) -> None:
    """Enter one set of vitals in the observations column and wait for HTMX to swap in the new row."""
    column = page.locator("#observations")
    rows = column.locator("[data-testid=vitals] tbody tr").count()
    for name, value in values.items():
        column.locator(f"input[name={name}]").fill(value)
    column.locator(".vitals-form button[type=submit]").click()
    expect(column.locator("[data-testid=vitals] tbody tr")).to_have_count(rows + 1)
    expect(column.locator("input[name=systolic]")).to_have_value("")


def versions(page: Page) -> set[str]:
    return set(page.locator("input[name=expected_version]").evaluate_all("els => els.map(e => e.value)"))


def test_a_nurse_runs_a_whole_iv_session_on_a_tablet(page: Page, iv_clinic: IvClinic, shot: Shot) -> None:
    server, session_id = iv_clinic.server, iv_clinic.without_minimum
    log_in(page, server, "nurse")
    # today's list on the dashboard leads to the runner
    row = page.locator("tr", has=page.locator(f'a[href="/sessions/{session_id}"]'))
    expect(row).to_contain_text("Nominimum, Kim")
    shot(page, "iv-01-dashboard")
    row.locator(f'a[href="/sessions/{session_id}"]').click()
    expect(page.get_by_test_id("state")).to_have_text("Scheduled")
    expect(page.locator("h1")).to_have_text("Nominimum, Kim")
    shot(page, "iv-02-check-in")

    # check-in with a pre-dose BP above the gate
    page.get_by_label("Consent for today's session documented").check()
    page.get_by_text("Ride home arranged").click()
    page.get_by_text("Not applicable", exact=True).click()
    page.get_by_label("systolic mmHg").fill("152")
    page.get_by_label("diastolic mmHg").fill("94")
    page.get_by_role("button", name="Check in").click()
    expect(page.get_by_test_id("state")).to_have_text("Checked in")
    expect(page.get_by_role("heading", name="Pre-dose BP above the gate: document a decision")).to_be_visible()
    expect(page.get_by_role("button", name="Start infusion now")).to_have_count(0)
    vitals(page, {"systolic": "136", "diastolic": "86", "heart_rate": "76"})  # a re-check before deciding
    shot(page, "iv-03-bp-decision")
    page.get_by_text("Proceed with dosing").click()
    page.locator("form[action$='/bp-decision'] textarea[name=reason]").fill("repeat BP 136/86 after 10 min rest")
    page.get_by_role("button", name="Record decision").click()

    # the dose: weight from the record, total and rate computed live
    expect(page.get_by_role("heading", name="Dose", exact=True)).to_be_visible()
    expect(page.locator("input[name=weight_kg]")).to_have_value("80.0")
    page.locator("input[name=mg_per_kg]").fill("0.5")
    page.locator("input[name=duration_min]").fill("40")
    expect(page.locator("[data-total]")).to_have_text("40.0")
    expect(page.locator("[data-rate]")).to_have_text("60.0")
    page.locator("input[name=mg_per_kg]").fill("0.9")
    expect(page.locator("[data-limit-warning]")).to_be_visible()
    page.locator("input[name=mg_per_kg]").fill("0.5")
    expect(page.locator("[data-limit-warning]")).to_be_hidden()
    expect(page.locator("textarea[name=override_reason]")).to_have_count(0)  # a nurse gives no override
    shot(page, "iv-04-dose")
    page.get_by_role("button", name="Start infusion now").click()

    # the infusion timer runs from the server's start time
    expect(page.get_by_test_id("state")).to_have_text("Dosing")
    expect(page.locator(".dose-text")).to_contain_text("40.0 mg IV over 40 min at 60.0 mg/h")
    elapsed = page.locator("[data-elapsed]")
    first = elapsed.inner_text()
    expect(elapsed).not_to_have_text(first, timeout=3000)
    expect(page.locator("[data-remaining]")).to_contain_text("39:")

    # three sets of vitals, each in a few taps, without reloading the page
    vitals(page, {"systolic": "138", "diastolic": "88", "heart_rate": "80", "spo2": "98", "respiratory_rate": "14"})
    vitals(page, {"systolic": "146", "diastolic": "92", "heart_rate": "84", "spo2": "97", "respiratory_rate": "15"})
    vitals(page, {"systolic": "134", "diastolic": "84", "heart_rate": "78", "spo2": "99", "respiratory_rate": "14"})
    page.locator("#observations input[name=cadss6]").fill("6")
    page.locator("#observations .cadss-form button").click()
    expect(page.locator("#observations")).to_contain_text("CADSS-6")
    page.locator("#observations .moaas-buttons button[value='5']").click()
    expect(page.locator("#observations")).to_contain_text("MOAA/S")
    assert len(versions(page)) == 1  # every form on the page now sends the column's new version
    shot(page, "iv-05-dosing-vitals")

    page.get_by_role("button", name="Infusion finished: start monitoring").click()
    expect(page.get_by_test_id("state")).to_have_text("Monitoring")
    expect(page.locator(".timer")).to_contain_text("The clinic sets no minimum monitoring time")
    shot(page, "iv-06-monitoring")

    for label in ("Clinically stable and ready to leave", "Sedation resolved", "Dissociation resolved",
                  "Respiratory depression resolved (or none)", "BP decreasing or at a safe level"):  # fmt: skip
        page.get_by_label(label).check()
    page.get_by_role("button", name="Discharge", exact=True).click()
    expect(page.get_by_test_id("state")).to_have_text("Discharged")
    page.get_by_text("Session log").click()
    for step in ("Checked in", "BP decision: proceed", "Dosing", "Monitoring", "Discharged"):
        expect(page.locator("details.log")).to_contain_text(step)
    expect(page.locator("[data-testid=vitals] tbody tr")).to_have_count(5)  # 4 sets + the check-in BP
    shot(page, "iv-07-discharged")


def test_discharge_before_the_clinic_minimum_is_refused_with_the_reason(
    page: Page, iv_clinic: IvClinic, shot: Shot
) -> None:
    server, session_id = iv_clinic.server, iv_clinic.with_minimum
    log_in(page, server, "nurse")
    page.goto(server.url(f"/sessions/{session_id}"))
    page.get_by_label("Consent for today's session documented").check()
    page.get_by_text("Ride home arranged").click()
    page.get_by_text("Not applicable", exact=True).click()
    page.get_by_label("systolic mmHg").fill("124")
    page.get_by_label("diastolic mmHg").fill("80")
    page.get_by_role("button", name="Check in").click()
    expect(page.get_by_role("heading", name="Dose", exact=True)).to_be_visible()  # BP below the gate: no decision
    page.locator("input[name=mg_per_kg]").fill("0.5")
    page.get_by_role("button", name="Start infusion now").click()
    page.get_by_role("button", name="Infusion finished: start monitoring").click()
    expect(page.locator(".timer")).to_contain_text("to the minimum of 60 min (clinic setting)")
    expect(page.locator(".timer")).not_to_have_class(re.compile(r"\bdone\b"))
    for label in ("Clinically stable and ready to leave", "Sedation resolved", "Dissociation resolved",
                  "Respiratory depression resolved (or none)", "BP decreasing or at a safe level"):  # fmt: skip
        page.get_by_label(label).check()
    page.get_by_role("button", name="Discharge", exact=True).click()
    error = page.locator("#error-discharge")
    expect(error).to_contain_text("Cannot move to discharged yet")
    expect(error).to_contain_text("need >= 60 min (clinic setting)")
    expect(page.get_by_label("Clinically stable and ready to leave")).to_be_checked()  # nothing typed is lost
    expect(page.get_by_test_id("state")).to_have_text("Monitoring")
    shot(page, "iv-08-discharge-refused")
