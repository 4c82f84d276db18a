"""Researcher use cases: PK simulation requests, trials run as background jobs, permissions."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import yaml

from ketamine_therapy.clinic.exceptions import InvalidAnswerError
from ketamine_therapy.pharmacology.exceptions import InvalidInputError
from ketamine_therapy.pharmacology.trials import parse_spec, run_trial
from ketamine_therapy.pharmacology.trials.example_specs import example_specs
from ketamine_therapy.services.authorization import PERMISSIONS, Actor, Permission, PermissionDeniedError, Role
from ketamine_therapy.services.jobs import JobRunner, JobStatus, UnknownJobError
from ketamine_therapy.services.research import (
    MAX_TRIAL_PATIENTS,
    SimulationRequest,
    list_trials,
    routes_by_model,
    run_simulation,
    trial_result,
    trial_result_json,
    trial_status,
)
from ketamine_therapy.services.research import start_trial as start_validated_trial
from ketamine_therapy.validation.trial_spec import read_trial_spec

EXAMPLES = example_specs()
RESEARCHER = Actor("rita", Role.RESEARCHER, "127.0.0.1")
DENIED = [role for role in Role if Permission.RESEARCH_RUN not in PERMISSIONS[role]]
ALLOWED = [role for role in Role if Permission.RESEARCH_RUN in PERMISSIONS[role]]


def start_trial(actor: Actor, runner: JobRunner, text: str, fmt: str) -> str:
    """What the API and the web do: read the spec at the edge, then start it."""
    return start_validated_trial(actor, runner, read_trial_spec(text, fmt))


@pytest.fixture
def runner() -> Iterator[JobRunner]:
    jobs = JobRunner()
    yield jobs
    jobs.shutdown()


def wait_finished(runner: JobRunner, job_id: str, timeout_s: float = 5.0) -> JobStatus:
    deadline = time.monotonic() + timeout_s
    while not (status := runner.get(job_id)).finished:
        assert time.monotonic() < deadline, f"job did not finish: {status}"
        time.sleep(0.005)
    return status


def example_spec(name: str, n: int) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLES[name].read_text("utf-8"))
    data["population"]["n"] = n
    return data


# -- simulation requests -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "allowed"),
    [
        ({"route": "rectal"}, "route", "iv, im, intranasal, oral, sublingual"),
        ({"drug": "lsd"}, "drug", "racemic-ketamine"),
        ({"drug": "esketamine", "model": "clements-1981"}, "model", "perez-ruixo-2021"),
        ({"dose_mg": 35.0, "dose_mg_per_kg": 0.5}, "dose_mg", "one of dose_mg, dose_mg_per_kg"),
        ({"dose_mg": -1.0}, "dose_mg", "> 0 and <= 1000"),
        ({"dose_mg_per_kg": 0.0}, "dose_mg_per_kg", "> 0 and <= 10"),
        ({"dose_mg_per_kg": float("nan")}, "dose_mg_per_kg", "> 0 and <= 10"),
        ({"route": "im", "dose_mg_per_kg": 0.5, "duration_min": 40.0}, "duration_min", "0 or omit"),
        ({"duration_min": 600.0}, "duration_min", "0-240"),
        ({"n_subjects": 0}, "n_subjects", "1-5,000"),
        ({"n_subjects": 5001}, "n_subjects", "1-5,000"),
        ({"n_subjects": True}, "n_subjects", "1-5,000"),
        ({"hours": 0.5}, "hours", "1-72"),
        ({"hours": 73.0}, "hours", "1-72"),
        ({"seed": -1}, "seed", "0-4,294,967,295"),
        ({"weight_kg": 900.0}, "weight_kg", "3-250"),
        ({"age_y": -3.0}, "age_y", "0-110"),
    ],
)
def test_invalid_requests_name_the_field_and_what_is_allowed(changes: dict[str, Any], field: str, allowed: str) -> None:
    with pytest.raises(InvalidAnswerError) as info:
        run_simulation(RESEARCHER, SimulationRequest(**changes))
    assert info.value.field == field
    assert info.value.allowed is not None
    assert allowed in info.value.allowed


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"model": "hornik-2018", "route": "im", "dose_mg_per_kg": 0.5}, "route"),  # a paediatric IV-only model
        ({"dose_mg_per_kg": 9.0}, "dose_mg_per_kg"),  # above the model's validated dose range
        ({"route": "oral"}, "dose"),  # no default oral dose
    ],
)
def test_the_models_own_limits_come_back_as_field_errors(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidAnswerError) as info:
        run_simulation(RESEARCHER, SimulationRequest(n_subjects=1, hours=1, **changes))
    assert info.value.field == field
    assert info.value.allowed


def test_a_small_simulation_gives_finite_concentrations_and_records_its_seed() -> None:
    request = SimulationRequest(route="iv", dose_mg_per_kg=0.5, duration_min=40, n_subjects=50, hours=6, seed=7)
    report = run_simulation(RESEARCHER, request)
    assert report.scenario.n == 50
    assert report.scenario.seed == 7
    assert report.failed_subjects == 0
    assert report.typical.times_h[-1] == pytest.approx(6.0)
    for analyte in ("ketamine", "norketamine"):
        conc = report.typical.conc_ng_ml[analyte]
        assert np.all(np.isfinite(conc))
        assert conc.max() > 0
        assert all(np.all(np.isfinite(c)) for c in report.population_curves[analyte].values())
    assert 100 < report.metrics["ketamine"]["cmax_ng_ml"] < 400  # ~0.5 mg/kg over 40 min peaks near 150-250 ng/mL
    again = run_simulation(RESEARCHER, request)
    assert again.percentiles == report.percentiles  # the seed makes it reproducible


def test_without_a_seed_one_is_chosen_and_reported() -> None:
    report = run_simulation(RESEARCHER, SimulationRequest(drug="esketamine", route="intranasal", n_subjects=5, hours=2))
    assert isinstance(report.scenario.seed, int)
    assert report.to_dict()["seed"] == report.scenario.seed
    assert np.isfinite(report.metrics["esketamine"]["cmax_ng_ml"])


def test_a_request_from_form_text() -> None:
    form = {"route": "im", "drug": "racemic-ketamine", "model": "", "dose_mg_per_kg": " 0.5 ", "dose_mg": "",
            "n_subjects": "20", "hours": "4", "seed": "3", "female": "on"}  # fmt: skip
    request = SimulationRequest.from_form(form)
    assert request == SimulationRequest(route="im", dose_mg_per_kg=0.5, n_subjects=20, hours=4.0, seed=3, female=True)
    with pytest.raises(InvalidAnswerError) as info:
        SimulationRequest.from_form({"n_subjects": "many"})
    assert info.value.field == "n_subjects"
    with pytest.raises(InvalidAnswerError) as info:
        SimulationRequest.from_form({"n_subjects": "2.5"})
    assert info.value.field == "n_subjects"
    with pytest.raises(InvalidAnswerError) as info:
        SimulationRequest.from_form({"colour": "red"})
    assert info.value.field == "colour"


def test_routes_by_model_lists_only_web_routes() -> None:
    routes = routes_by_model()
    assert routes["clements-1981"] == ("iv", "im", "sublingual", "oral")
    assert routes["herd-2007"] == ("iv", "im", "intranasal", "sublingual", "oral")
    assert routes["hornik-2018"] == ("iv",)


# -- permissions -----------------------------------------------------------------------------------------


def test_every_role_is_either_allowed_or_denied() -> None:
    assert set(DENIED) | set(ALLOWED) == set(Role)
    assert Role.RESEARCHER in ALLOWED
    assert Role.PATIENT in DENIED


@pytest.mark.parametrize("role", DENIED)
def test_roles_without_research_run_are_refused(role: Role, runner: JobRunner) -> None:
    actor = Actor("someone", role)
    spec = json.dumps(example_spec("han_2016_single_infusion", 10))
    with pytest.raises(PermissionDeniedError, match="research:run"):
        run_simulation(actor, SimulationRequest(n_subjects=1, hours=1))
    with pytest.raises(PermissionDeniedError):
        start_validated_trial(actor, runner, read_trial_spec(spec, "json"))
    with pytest.raises(PermissionDeniedError):
        list_trials(actor, runner)
    assert runner.list() == []


@pytest.mark.parametrize("role", ALLOWED)
def test_roles_with_research_run_may_simulate(role: Role) -> None:
    report = run_simulation(Actor("someone", role), SimulationRequest(n_subjects=2, hours=1, seed=1))
    assert report.scenario.n == 2


# -- trials ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_a_trial_run_as_a_job_gives_the_same_json_as_a_direct_run(fmt: str, runner: JobRunner) -> None:
    data = example_spec("singh_2016_twice_vs_thrice", 150)
    text = yaml.safe_dump(data) if fmt == "yaml" else json.dumps(data)
    job_id = start_trial(RESEARCHER, runner, text, fmt)
    status = wait_finished(runner, job_id)
    assert status.state == "done", status.error
    assert (status.kind, status.owner, status.done, status.total) == ("trial", "rita", 600, 600)
    direct = run_trial(parse_spec(data)).to_dict()
    assert json.dumps(trial_result_json(status), sort_keys=True) == json.dumps(direct, sort_keys=True)
    assert trial_result(status).name == data["name"]
    assert trial_status(RESEARCHER, runner, job_id) == status
    assert [s.id for s in list_trials(RESEARCHER, runner)] == [job_id]
    with pytest.raises(UnknownJobError):
        trial_status(Actor("other", Role.RESEARCHER), runner, job_id)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["arms"][0].update(dose_mg_per_kg=-1), "arms[0].dose_mg_per_kg"),
        (lambda d: d["arms"][0].update(drug="caffeine"), "arms[0].drug"),
        (lambda d: d["endpoints"][1].pop("day"), "endpoints[1].day"),
        (lambda d: d["population"].update(n=0), "population.n"),
        (lambda d: d.update(colour="red"), "colour"),
    ],
)
def test_a_bad_spec_is_refused_before_any_job_starts(edit: Any, field: str, runner: JobRunner) -> None:
    data = example_spec("han_2016_single_infusion", 10)
    edit(data)
    with pytest.raises(InvalidInputError) as info:
        start_trial(RESEARCHER, runner, yaml.safe_dump(data), "yaml")
    assert info.value.field == field
    assert info.value.allowed
    assert runner.list() == []


def test_a_trial_larger_than_the_web_cap_is_refused(runner: JobRunner) -> None:
    data = example_spec("singh_2016_twice_vs_thrice", MAX_TRIAL_PATIENTS // 4 + 1)  # 4 arms
    with pytest.raises(InvalidAnswerError) as info:
        start_trial(RESEARCHER, runner, json.dumps(data), "json")
    assert info.value.field == "population.n"
    assert info.value.allowed is not None
    assert "200,000" in info.value.allowed
    assert "n <= 50,000" in info.value.allowed
    assert runner.list() == []


@pytest.mark.parametrize(
    ("text", "fmt", "field"),
    [
        ("name: [unclosed", "yaml", "spec"),
        ("{not json", "json", "spec"),
        ("   ", "yaml", "spec"),
        ("x" * 100_001, "yaml", "spec"),
        ("- just\n- a list\n", "yaml", "spec"),
        ("name: x", "xml", "format"),
    ],
)
def test_unreadable_specs_name_the_spec(text: str, fmt: str, field: str, runner: JobRunner) -> None:
    with pytest.raises(InvalidInputError) as info:
        start_trial(RESEARCHER, runner, text, fmt)
    assert info.value.field == field


def test_results_of_unfinished_or_other_jobs_are_refused(runner: JobRunner) -> None:
    failed = wait_finished(runner, runner.submit("trial", "rita", lambda progress: 1 / 0))
    assert failed.error == "ZeroDivisionError: division by zero"
    other = wait_finished(runner, runner.submit("export", "rita", lambda progress: {}))
    for status, message in ((failed, "is failed"), (other, "export job")):
        with pytest.raises(InvalidAnswerError, match=message) as info:
            trial_result_json(status)
        assert info.value.field == "job"


# -- charts of the research page ---------------------------------------------------------------------------


def test_the_simulation_and_trial_charts_are_pngs_800_px_wide(runner: JobRunner) -> None:
    from ketamine_therapy.plots.pk import pk_report_png
    from ketamine_therapy.plots.trials import trial_png

    report = run_simulation(RESEARCHER, SimulationRequest(n_subjects=20, hours=4, seed=2))
    job_id = start_trial(RESEARCHER, runner, json.dumps(example_spec("han_2016_single_infusion", 50)), "json")
    for data in (pk_report_png(report), trial_png(trial_result(wait_finished(runner, job_id)))):
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert len(data) > 10_000
        assert int.from_bytes(data[16:20], "big") == 800
