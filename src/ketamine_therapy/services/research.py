"""Use cases of the researcher page and API: a PK/PD simulation, and in-silico trials run as background jobs.

Every use case takes the acting user and requires :attr:`Permission.RESEARCH_RUN`. Inputs are checked
before any work starts; a bad one raises :class:`InvalidAnswerError` naming the field (for a trial spec,
its dotted path such as ``arms[0].dose_mg``) and what is allowed.

Trials run on a :class:`~ketamine_therapy.services.jobs.JobRunner` in the server process: a restart loses
running and finished trials (see that module).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ..clinic.exceptions import InvalidAnswerError
from ..pharmacology import Route
from ..pharmacology.exceptions import InvalidInputError
from ..pharmacology.models import drugs, list_models
from ..pharmacology.trials import TrialResult, TrialSpec, run_trial
from ..pharmacology.trials.spec import check_integer, check_number
from .authorization import Actor, Permission
from .jobs import JobRunner, JobStatus
from .pk_report import PKReport, Scenario, run_pk_report

ROUTES = ("iv", "im", "intranasal", "oral", "sublingual")
"""Routes a researcher may simulate from the web (each model supports a subset; see ``routes_by_model``)."""
MAX_SUBJECTS = 5000
MAX_HOURS = 72.0
MAX_DOSE_MG = 1000.0
MAX_DOSE_MG_PER_KG = 10.0
MAX_DURATION_MIN = 240.0
WEIGHT_LIMITS_KG = (3.0, 250.0)  # sanity only; each model then checks its own population range
AGE_LIMITS_Y = (0.0, 110.0)
MAX_SEED = 2**32 - 1
MAX_TRIAL_PATIENTS = 200_000
"""A trial submitted from the web simulates at most this many patients over all arms (n x arms)."""
TRIAL_JOB = "trial"


@dataclass(frozen=True)
class SimulationRequest:
    """One dose of ``drug`` by ``route`` simulated for ``hours`` in ``n_subjects`` virtual subjects.

    Give ``dose_mg_per_kg`` or ``dose_mg`` (or neither, for the drug's default dose where one exists:
    racemic ketamine IV 0.5 mg/kg over 40 min, esketamine intranasal 56 mg). ``duration_min`` is the
    infusion time of an IV dose (40 min by default). ``model`` is a model id, else the drug's default.
    ``seed`` ``None`` picks a random seed, which the report records.
    """

    route: str = "iv"
    drug: str = "racemic-ketamine"
    model: str | None = None
    dose_mg_per_kg: float | None = None
    dose_mg: float | None = None
    duration_min: float | None = None
    n_subjects: int = 500
    hours: float = 24.0
    seed: int | None = None
    weight_kg: float = 70.0
    age_y: float = 40.0
    female: bool = False

    def validate(self) -> SimulationRequest:
        """``self`` if every field is allowed; raises :class:`InvalidAnswerError` naming the first that is not."""
        _choice(self.drug, "drug", tuple(drugs()))
        _choice(self.route, "route", ROUTES)
        if self.model is not None:
            models = tuple(m.id for m in list_models() if m.drug == self.drug)
            _choice(self.model, "model", models)
        if self.dose_mg is not None and self.dose_mg_per_kg is not None:
            raise InvalidAnswerError(
                "dose_mg", "give a dose in mg or in mg/kg, not both", "one of dose_mg, dose_mg_per_kg"
            )
        if self.dose_mg is not None:
            _number(self.dose_mg, "dose_mg", 0.0, MAX_DOSE_MG, positive=True)
        if self.dose_mg_per_kg is not None:
            _number(self.dose_mg_per_kg, "dose_mg_per_kg", 0.0, MAX_DOSE_MG_PER_KG, positive=True)
        if self.duration_min is not None:
            _number(self.duration_min, "duration_min", 0.0, MAX_DURATION_MIN)
            if self.route != "iv" and self.duration_min > 0:
                raise InvalidAnswerError("duration_min", f"only IV doses are infused, not {self.route}", "0 or omit")
        _integer(self.n_subjects, "n_subjects", 1, MAX_SUBJECTS)
        _number(self.hours, "hours", 1.0, MAX_HOURS)
        if self.seed is not None:
            _integer(self.seed, "seed", 0, MAX_SEED)
        _number(self.weight_kg, "weight_kg", *WEIGHT_LIMITS_KG)
        _number(self.age_y, "age_y", *AGE_LIMITS_Y)
        if not isinstance(self.female, bool):
            raise InvalidAnswerError("female", f"expected true or false, got {self.female!r}", "true, false")
        return self

    def scenario(self, seed: int) -> Scenario:
        """The :class:`Scenario` this request describes (one dose at time 0)."""
        return Scenario(
            drug=self.drug, route=Route(self.route), dose_mg=self.dose_mg, dose_mg_per_kg=self.dose_mg_per_kg,
            duration_min=self.duration_min, days=(1,), weight_kg=float(self.weight_kg), age_y=float(self.age_y),
            female=self.female, hours=float(self.hours), model=self.model, n=self.n_subjects, seed=seed,
        )  # fmt: skip

    @classmethod
    def from_form(cls, data: Mapping[str, Any]) -> SimulationRequest:
        """A validated request from form or JSON values (text is converted; empty text means "not given")."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in data.items():
            if key not in known:
                raise InvalidAnswerError(key, "unknown field", ", ".join(known))
            value = raw.strip() if isinstance(raw, str) else raw
            if value is None or value == "":
                continue
            if key in ("route", "drug", "model"):
                values[key] = str(value)
            elif key == "female":
                values[key] = _boolean(value, key)
            elif key in ("n_subjects", "seed"):
                values[key] = _to_int(value, key)
            else:
                values[key] = _to_float(value, key)
        return cls(**values).validate()


def routes_by_model() -> dict[str, tuple[str, ...]]:
    """For each model id, the routes of :data:`ROUTES` it models (for a form's choices)."""
    return {m.id: tuple(r.value for r in m.routes if r.value in ROUTES) for m in list_models()}


def run_simulation(actor: Actor, request: SimulationRequest) -> PKReport:
    """Simulate ``request`` (typical subject and a population); needs :attr:`Permission.RESEARCH_RUN`."""
    actor.require(Permission.RESEARCH_RUN)
    request.validate()
    seed = request.seed if request.seed is not None else secrets.randbelow(MAX_SEED + 1)
    try:
        return run_pk_report(request.scenario(seed))
    except InvalidInputError as exc:  # the model's own limits (dose, weight, age, route)
        raise _answer_error(exc) from None


def start_trial(actor: Actor, runner: JobRunner, spec: TrialSpec) -> str:
    """Run a validated trial spec (``validation.trial_spec.read_trial_spec``) as a job; returns the job id.

    A trial larger than the web's cap (:data:`MAX_TRIAL_PATIENTS` patients over all arms) is refused by name.
    """
    actor.require(Permission.RESEARCH_RUN)
    arms = len(spec.arms)
    if spec.population.n * arms > MAX_TRIAL_PATIENTS:
        raise InvalidAnswerError(
            "population.n",
            f"{spec.population.n:,} patients x {arms} arms is more than the web runs",
            f"n x arms <= {MAX_TRIAL_PATIENTS:,} (here n <= {MAX_TRIAL_PATIENTS // arms:,}); "
            "run larger trials with the CLI: ketamine-therapy trial run",
        )
    return runner.submit(TRIAL_JOB, actor.username, lambda progress: run_trial(spec, progress=progress))


def trial_status(actor: Actor, runner: JobRunner, job_id: str) -> JobStatus:
    """The actor's own trial job; another user's job is reported as unknown (:class:`UnknownJobError`)."""
    actor.require(Permission.RESEARCH_RUN)
    return runner.get(job_id, owner=actor.username)


def list_trials(actor: Actor, runner: JobRunner) -> list[JobStatus]:
    """The actor's trial jobs, the most recently submitted first."""
    actor.require(Permission.RESEARCH_RUN)
    return [s for s in runner.list(owner=actor.username) if s.kind == TRIAL_JOB]


def trial_result(status: JobStatus) -> TrialResult:
    """The :class:`TrialResult` of a finished trial job; :class:`InvalidAnswerError` otherwise."""
    if status.kind != TRIAL_JOB:
        raise InvalidAnswerError("job", f"is a {status.kind} job", "a trial job")
    if status.state != "done" or not isinstance(status.result, TrialResult):
        raise InvalidAnswerError("job", f"is {status.state}", "a finished trial job")
    return status.result


def trial_result_json(status: JobStatus) -> dict[str, Any]:
    """The trial's results as ``ketamine-therapy trial run --json`` prints them."""
    return trial_result(status).to_dict()


# -- checks ------------------------------------------------------------------------------------------


def _answer_error(exc: InvalidInputError) -> InvalidAnswerError:
    return InvalidAnswerError(exc.field, exc.message, exc.allowed)


def _choice(value: object, field: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise InvalidAnswerError(field, f"unknown value {value!r}", ", ".join(choices))
    return value


def _number(value: object, field: str, low: float, high: float, *, positive: bool = False) -> float:
    try:
        return check_number(value, field, low, high, positive=positive)
    except InvalidInputError as exc:
        raise _answer_error(exc) from None


def _integer(value: object, field: str, low: int, high: int) -> int:
    try:
        return check_integer(value, field, low, high)
    except InvalidInputError as exc:
        raise _answer_error(exc) from None


def _to_float(value: object, field: str) -> float:
    if isinstance(value, bool):
        raise InvalidAnswerError(field, f"expected a number, got {value!r}", "a number")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidAnswerError(field, f"expected a number, got {value!r}", "a number") from None


def _to_int(value: object, field: str) -> int:
    number = _to_float(value, field)
    if not math.isfinite(number) or number != int(number):
        raise InvalidAnswerError(field, f"expected a whole number, got {value!r}", "a whole number")
    return int(number)


def _boolean(value: object, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "on", "yes", "1"):
        return True
    if text in ("false", "off", "no", "0"):
        return False
    raise InvalidAnswerError(field, f"expected true or false, got {value!r}", "true, false")
