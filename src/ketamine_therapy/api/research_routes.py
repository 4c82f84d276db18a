"""Research: PK simulations, in-silico trials as background jobs with progress, and de-identified outcomes."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from ..http.auth import ActorDep, ContextDep
from ..plots.pk import pk_report_png
from ..plots.trials import trial_png
from ..services import research
from ..services.authorization import Permission
from ..services.jobs import JobStatus
from ..services.research_data import DeidentifiedCourse, deidentified_courses
from ..validation.trial_spec import MAX_SPEC_CHARS, read_trial_spec

router = APIRouter(tags=["research"])
PNG = {200: {"content": {"image/png": {}}, "description": "a PNG chart"}}


class SimulationIn(BaseModel):
    """One dose simulated in a virtual population (give ``dose_mg_per_kg`` or ``dose_mg``)."""

    route: Literal["iv", "im", "intranasal", "oral", "sublingual"] = "iv"
    drug: str = Field(default="racemic-ketamine", max_length=40)
    model: str | None = Field(default=None, max_length=40)
    dose_mg_per_kg: float | None = None
    dose_mg: float | None = None
    duration_min: float | None = None
    n_subjects: int = Field(default=500, ge=1, le=5000)
    hours: float = Field(default=24.0, ge=1, le=72)
    seed: int | None = Field(default=None, ge=0)
    weight_kg: float = 70.0
    age_y: float = 40.0
    female: bool = False

    def request(self) -> research.SimulationRequest:
        return research.SimulationRequest(**self.model_dump()).validate()


class TrialIn(BaseModel):
    """A trial specification (the same YAML/JSON as ``ketamine-therapy trial run``)."""

    spec: str = Field(min_length=1, max_length=MAX_SPEC_CHARS)
    format: Literal["yaml", "json"] = "yaml"


class JobOut(BaseModel):
    """A background job: state, progress and (when done) the result."""

    id: str
    kind: str
    state: str
    done: int
    total: int
    fraction: float
    error: str | None
    result: dict[str, Any] | None = None


@router.post("/simulations")
def simulate(body: SimulationIn, actor: ActorDep) -> dict[str, Any]:
    """Concentration summaries (typical subject and population percentiles)."""
    return research.run_simulation(actor, body.request()).to_dict()


@router.post("/simulations/plot", response_class=Response, responses=PNG)  # type: ignore[arg-type]
def simulate_plot(body: SimulationIn, actor: ActorDep) -> Response:
    """The simulation's concentration-time plot."""
    return Response(pk_report_png(research.run_simulation(actor, body.request())), media_type="image/png")


@router.post("/trials", status_code=status.HTTP_202_ACCEPTED)
def start_trial(body: TrialIn, actor: ActorDep, ctx: ContextDep) -> JobOut:
    """Validate the spec now (errors name the field) and run the trial as a background job."""
    actor.require(Permission.RESEARCH_RUN)  # before reading the spec: a refusal says nothing about it
    job_id = research.start_trial(actor, ctx.jobs, read_trial_spec(body.spec, body.format))
    return _job(research.trial_status(actor, ctx.jobs, job_id))


def _job(status: JobStatus) -> JobOut:
    result = research.trial_result_json(status) if status.state == "done" else None
    return JobOut(id=status.id, kind=status.kind, state=status.state, done=status.done, total=status.total,
                  fraction=status.fraction, error=status.error, result=result)  # fmt: skip


@router.get("/jobs/{job_id}")
def job(job_id: str, actor: ActorDep, ctx: ContextDep) -> JobOut:
    """A job's progress, and its result once done (jobs live in the server process)."""
    return _job(research.trial_status(actor, ctx.jobs, job_id))


@router.get("/jobs/{job_id}/plot", response_class=Response, responses=PNG)  # type: ignore[arg-type]
def job_plot(job_id: str, actor: ActorDep, ctx: ContextDep) -> Response:
    """The finished trial's plot."""
    return Response(trial_png(research.trial_result(research.trial_status(actor, ctx.jobs, job_id))),
                    media_type="image/png")  # fmt: skip


@router.get("/research/outcomes")
def outcomes(actor: ActorDep, ctx: ContextDep) -> list[DeidentifiedCourse]:
    """De-identified MADRS courses (pseudonyms, age bands, days from baseline; no names or dates)."""
    return deidentified_courses(ctx.new_uow(), actor, ctx.pseudonym_key)
