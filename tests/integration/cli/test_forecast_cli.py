"""``ketamine-therapy forecast`` run as a user runs it (a subprocess): an event table, a patient of the database
(audited under the login it names), and bad input with exit code 2 and the field named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from ketamine_therapy.bootstrap import unit_of_work_factory
from ketamine_therapy.config import Settings
from ketamine_therapy.services.audit import audit_entries
from ketamine_therapy.services.authorization import SYSTEM
from ketamine_therapy.services.demo_clinic import demo_logins, seed_demo_clinic
from ketamine_therapy.services.patients import list_patients
from ketamine_therapy.storage.db import make_engine
from ketamine_therapy.storage.migrate import upgrade

EVENTS = """ID,TIME,EVID,AMT,RATE,CMT,DRUG,DV,SCALE,WT,AGE,SEX
A,0,0,,,,,32,madrs,72,45,F
A,0.1,1,36,54,iv,,,,72,45,F
A,48,1,36,54,iv,,,,72,45,F
A,72,0,,,,,18,madrs,72,45,F
A,96,1,36,54,iv,,,,72,45,F
A,120,0,,,,,12,madrs,72,45,F
A,336,0,,,,,14,madrs,72,45,F
B,0,0,,,,,30,madrs,,,
B,1,1,56,,intranasal,esketamine,,,,,
"""


def run(*args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"KETAMINE_THERAPY_DATABASE_URL": url} if url else {})}
    return subprocess.run([sys.executable, "-m", "ketamine_therapy.cli", "forecast", *args], capture_output=True,
                          text=True, timeout=300, check=False, env=env)  # fmt: skip


@pytest.fixture
def events(tmp_path: Path) -> Path:
    path = tmp_path / "events.csv"
    path.write_text(EVENTS)
    return path


def test_an_event_table_gives_one_forecast_per_id(events: Path, tmp_path: Path) -> None:
    plot = tmp_path / "a.png"
    result = run(str(events), "--json", "--candidate", "14d:0.5mgkg", "--id", "A", "--horizon-days", "56",
                 "--plot", str(plot))  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["A"]
    a = data["A"]
    assert len(a["input_hash"]) == 64
    assert a["band"]["times_h"][0] == 336.0  # the forecast starts at the last observation
    assert a["band"]["times_h"][-1] == pytest.approx(336.0 + 56 * 24)
    assert [w["label"] for w in a["what_if"]] == ["booster in 14 days, 0.5 mg/kg (36 mg) IV"]
    assert a["what_if"][0]["doses"][0]["amount_mg"] == 36.0
    assert not a["prior_only"]
    assert plot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    text = run(str(events))
    assert text.returncode == 0, text.stderr
    assert "A: 3 dose(s), 4 score(s)" in text.stdout
    assert "B: 1 dose(s), 1 score(s)" in text.stdout
    assert "not a medical device" in text.stdout


@pytest.mark.parametrize(
    ("table", "args", "field"),
    [
        ("ID,TIME,EVID,DV,SCALE\n1,0,0,32,hamd\n", (), "ratings[0].scale"),
        ("ID,TIME,EVID,DV\n1,0,0,75\n", (), "ratings[0].value"),
        ("ID,TIME,EVID,DV\n1,48,0,20\n1,24,0,30\n", (), "ratings[1].time_h"),
        ("ID,TIME,EVID,AMT,CMT\n1,0,1,36,inhaled\n", (), "route"),
        ("ID,TIME\n1,0\n", (), "EVID"),
        (EVENTS, ("--horizon-days", "400"), "--horizon-days"),
        (EVENTS, ("--alpha", "0.9"), "--alpha"),
        (EVENTS, ("--scale", "PHQ-9"), "--scale"),
        (EVENTS, ("--id", "A", "--candidate", "14d:56mg"), "--candidate[0]"),
        (EVENTS, ("--id", "C"), "--id"),
        (EVENTS, ("--plot", "both.png"), "--plot"),  # two IDs, one picture
    ],
)
def test_bad_input_exits_2_naming_the_field(tmp_path: Path, table: str, args: tuple[str, ...], field: str) -> None:
    path = tmp_path / "events.csv"
    path.write_text(table)
    result = run(str(path), *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert f"error: {field}" in result.stderr.replace("\n", "") or field in result.stderr


def test_a_patient_of_the_database_read_as_a_login(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    new_uow = unit_of_work_factory(Settings(database_url=url))
    seed_demo_clinic(new_uow, n_patients=2, seed=3, today=date.today())  # noqa: DTZ011 - the clinic's calendar day
    logins = {role: username for role, username, _ in demo_logins(new_uow)}
    patient = list_patients(new_uow(), SYSTEM, limit=5)[0]
    result = run("--patient", str(patient.id), "--user", logins["nurse"], "--json", url=url)
    assert result.returncode == 0, result.stderr
    assert list(json.loads(result.stdout)) == [str(patient.id)]
    reads = [e for e in audit_entries(new_uow(), SYSTEM, patient_id=patient.id) if e.entity == "forecast"]
    assert [(e.username, e.source) for e in reads] == [(logins["nurse"], "cli")]
    refused = run("--patient", str(patient.id), "--user", logins["therapist"], url=url)
    assert refused.returncode == 1
    assert "forecast:read" in refused.stderr
    no_user = run("--patient", str(patient.id), url=url)
    assert no_user.returncode == 2
    assert "--user" in no_user.stderr
