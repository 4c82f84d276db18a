"""Use case: one patient's forecast of the depression course, relapse risk and booster timing (issue 12).

The engine (:mod:`ketamine_therapy.pharmacology.forecast`) is fed from the stored record:

- doses: every session whose dosing started, at the time dosing started (IV: racemic ketamine with its infusion
  time; IM: racemic ketamine; Spravato: esketamine intranasal, all devices as one dose); the ordered dose is used
  for a session stopped during dosing;
- ratings: the MADRS, QIDS-SR16 (and PHQ-9 where the model links it) totals, the latest entry of a day. A score has
  a date, not a time: it counts at the clinic's session time that day, or just before a dose given earlier that day
  (a score on a treatment day is taken before the dose);
- covariates: the latest weight measured on or before today, age from the birth date, sex (``other``/``unknown``:
  left to the population distribution).

Hours count from the earliest dose or score (the engine takes the first dose as its own origin). The booster risk
``alpha`` defaults to the clinic's setting ``forecast_relapse_alpha``. The clinic's rule-based booster advice is
returned beside the model's. The engine keeps recent forecasts by their input hash, so a repeated chart view costs a
database read, not a forecast; every call is audited as a read of the patient's data.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ..clinic.exceptions import InvalidAnswerError
from ..clinic.patients import Patient
from ..clinic.protocols.boosters import BoosterRecommendation
from ..clinic.quantities import BOOSTER_DAYS, ESKETAMINE_MG, FORECAST_HORIZON_DAYS, IM_MG_PER_KG, IV_MG_PER_KG
from ..clinic.records import RecordedScale
from ..clinic.sessions import IvDose, SessionKind, SessionState
from ..clinic.settings import ClinicSettings
from ..pharmacology.forecast import (
    Covariates,
    Dose,
    Forecast,
    ForecastRequest,
    Rating,
    ScheduleCandidate,
    forecast,
)
from ..pharmacology.response.observation import SCALES as MODEL_SCALES
from .audit import audit
from .authorization import Actor, Permission
from .clock import Clock, utc_now
from .outcomes import rule_booster_advice
from .pk_report import DISCLAIMER
from .ports import UnitOfWork
from .ports.treatment import SessionRecord

NOTICE = (
    f"{DISCLAIMER} The forecast is a model's estimate from this patient's doses and scores and a population model "
    "calibrated to published trials; it does not replace clinical judgement: a clinician decides."
)
ENGINE_SCALES = {"MADRS": "madrs", "QIDS-SR16": "qids-sr16", "PHQ-9": "phq-9"}
"""The clinic's scale ids and the engine's names for them."""
FORECAST_SCALES = tuple(s for s, name in ENGINE_SCALES.items() if name in MODEL_SCALES)
"""The scales the forecast can use and draw (those the response model's rating model links to MADRS)."""
DRUG_ROUTE = {
    SessionKind.IV_KETAMINE: ("racemic-ketamine", "iv"),
    SessionKind.IM_KETAMINE: ("racemic-ketamine", "im"),
    SessionKind.ESKETAMINE: ("esketamine", "intranasal"),
}
"""A session kind's drug and route as the PK core names them."""
MAX_CANDIDATES = 8
JUST_BEFORE = timedelta(minutes=1)
_CANDIDATE = re.compile(r"^(\d{1,4})d:(\d{1,3}(?:\.\d{1,3})?)(mgkg|mg)$")
CANDIDATE_FORMAT = "<days>d:<dose>mgkg (IV, IM) or <days>d:<dose>mg (esketamine), e.g. 14d:0.5mgkg or 7d:56mg"


@dataclass(frozen=True)
class Candidate:
    """A what-if booster: one session ``days`` after the forecast starts (the later of the last score and the last
    session), at ``mg_per_kg`` (IV, IM; needs a recorded weight) or ``mg`` (esketamine), by the last session's
    route."""

    days: int
    mg_per_kg: float | None = None
    mg: float | None = None

    def __post_init__(self) -> None:
        BOOSTER_DAYS.check(self.days, "candidate.days")
        if (self.mg_per_kg is None) == (self.mg is None):
            raise InvalidAnswerError("candidate", "give the dose in mg/kg or in mg", CANDIDATE_FORMAT)

    @property
    def text(self) -> str:
        """The candidate as written in a query: ``14d:0.5mgkg``."""
        return f"{self.days}d:{self.mg_per_kg:g}mgkg" if self.mg_per_kg is not None else f"{self.days}d:{self.mg:g}mg"


def parse_candidate(text: str, field: str = "candidate") -> Candidate:
    """A :class:`Candidate` from ``14d:0.5mgkg`` or ``7d:56mg``; raises naming ``field`` and the format."""
    match = _CANDIDATE.match(text.strip().lower()) if isinstance(text, str) else None
    if match is None:
        raise InvalidAnswerError(field, f"cannot read {text!r}", CANDIDATE_FORMAT)
    days, amount, unit = int(match[1]), float(match[2]), match[3]
    if not BOOSTER_DAYS.low <= days <= BOOSTER_DAYS.high:
        raise InvalidAnswerError(field, f"{days} days is out of range", BOOSTER_DAYS.allowed)
    return Candidate(days, mg_per_kg=amount) if unit == "mgkg" else Candidate(days, mg=amount)


@dataclass(frozen=True)
class ForecastOptions:
    """What to forecast: ``scale_id`` of the band, ``horizon_days`` past the forecast start, the booster risk
    ``alpha`` (``None``: the clinic's ``forecast_relapse_alpha``) and what-if ``candidates`` (none: the engine's
    default set)."""

    scale_id: str = "MADRS"
    horizon_days: int = 84
    alpha: float | None = None
    candidates: tuple[Candidate, ...] = ()

    def __post_init__(self) -> None:
        if self.scale_id not in FORECAST_SCALES:
            raise InvalidAnswerError("scale_id", f"no forecast on {self.scale_id!r}", ", ".join(FORECAST_SCALES))
        FORECAST_HORIZON_DAYS.check(self.horizon_days)
        if len(self.candidates) > MAX_CANDIDATES:
            raise InvalidAnswerError("candidate", f"{len(self.candidates)} candidates", f"at most {MAX_CANDIDATES}")


@dataclass(frozen=True)
class PatientForecast:
    """A patient's forecast with what it was built from. Request hours count from ``origin`` (UTC);
    ``rule_advice`` is the clinic's rule-based booster advice on the same scale (``None``: ``rule_note`` says
    why); ``alpha_source`` says where ``alpha`` came from."""

    patient_id: uuid.UUID
    scale_id: str
    origin: datetime
    request: ForecastRequest
    result: Forecast
    rule_advice: BoosterRecommendation | None
    rule_note: str
    alpha_source: str
    last_session: datetime | None
    notes: tuple[str, ...]
    notice: str = NOTICE

    def at(self, time_h: float) -> datetime:
        """The UTC time of an engine time in hours."""
        return self.origin + timedelta(hours=float(time_h))

    @property
    def start(self) -> datetime:
        """Where the forecast starts: the later of the last score and the last dose."""
        times = [r.time_h for r in self.request.ratings] + [d.time_h for d in self.request.doses]
        return self.at(max(times, default=0.0))


@dataclass(frozen=True)
class _Given:
    at: datetime
    dose: Dose


def _given(sessions: Sequence[SessionRecord]) -> list[_Given]:
    """The doses given (dosing started), oldest first, with the engine's drug and route (time_h not yet set)."""
    out = []
    for record in sessions:
        s = record.session
        at = s.entered_at(SessionState.DOSING)
        if at is None or s.dose is None:
            continue
        drug, route = DRUG_ROUTE[s.kind]
        dose = s.dose
        minutes = dose.duration / timedelta(minutes=1) if isinstance(dose, IvDose) else 0.0
        out.append(_Given(at, Dose(0.0, drug, route, float(dose.total_mg), minutes)))
    return sorted(out, key=lambda g: g.at)


def _totals(scales: Sequence[RecordedScale], scale_ids: Sequence[str]) -> list[tuple[date, str, int]]:
    """(day, scale id, total) of the forecast's scales, the latest entry of a day per scale (as the course)."""
    by_day: dict[tuple[date, str], int] = {}
    for record in scales:
        if record.result.scale_id in scale_ids and record.result.total is not None:
            by_day[(record.taken_on, record.result.scale_id)] = record.result.total
    return sorted((day, scale_id, total) for (day, scale_id), total in by_day.items())


def _rating_time(day: date, settings: ClinicSettings, given: Sequence[_Given]) -> datetime:
    """A dated score's time: the clinic's session time that day, or just before a dose given earlier that day."""
    at = settings.appointment(day)
    same_day = [g.at for g in given if settings.local_date(g.at) == day]
    return min([at, *(t - JUST_BEFORE for t in same_day)])


def _hours(at: datetime, origin: datetime) -> float:
    """Hours from ``origin`` to ``at`` (to the 0.36 s, so that equal records give equal requests and hashes)."""
    return round((at - origin) / timedelta(hours=1), 4)


def build_request(
    patient: Patient, scales: Sequence[RecordedScale], sessions: Sequence[SessionRecord], settings: ClinicSettings,
    today: date, options: ForecastOptions,
) -> tuple[ForecastRequest, datetime, tuple[str, ...]]:  # fmt: skip
    """The engine's request from one patient's record, its origin (UTC; time 0: the earliest dose or score) and notes
    on what was left out or assumed."""
    notes: list[str] = []
    given = _given(sessions)
    used = [s for s in ENGINE_SCALES if s in FORECAST_SCALES]
    left_out = sorted({r.result.scale_id for r in scales if r.result.scale_id in ENGINE_SCALES} - set(used))
    if left_out:
        notes.append(f"{', '.join(left_out)} scores are not used: the model has no link from them to MADRS yet")
    totals = [(d, s, t) for d, s, t in _totals(scales, used) if d <= today]
    rated = [(_rating_time(d, settings, given), s, t) for d, s, t in totals]
    if not given:
        notes.append("no session has been given yet: the forecast is of the untreated course")
    origin = min([g.at for g in given] + [at for at, _, _ in rated], default=settings.midnight(today))
    doses = tuple(Dose(_hours(g.at, origin), g.dose.drug, g.dose.route, g.dose.amount_mg, g.dose.duration_min)
                  for g in given)  # fmt: skip
    ratings = tuple(sorted((Rating(_hours(at, origin), ENGINE_SCALES[s], t) for at, s, t in rated),
                           key=lambda r: r.time_h))  # fmt: skip
    weight = patient.dosing_weight(today, 10**6)
    sex = patient.sex if patient.sex in ("female", "male") else None
    if sex is None:
        notes.append(f"sex recorded as {patient.sex!r}: the model averages over both")
    if weight is None:
        notes.append("no weight recorded: the model averages over the population's weights")
    covariates = Covariates(weight.weight_kg if weight else None, float(patient.age_on(today)), sex)  # type: ignore[arg-type]
    alpha = settings.forecast_relapse_alpha if options.alpha is None else options.alpha
    last = doses[-1] if doses else None
    candidates = tuple(candidate_schedule(c, last, weight.weight_kg if weight else None, i)
                       for i, c in enumerate(options.candidates))  # fmt: skip
    request = ForecastRequest(covariates, doses, ratings, scale=ENGINE_SCALES[options.scale_id],
                              horizon_days=float(options.horizon_days), alpha=float(alpha),
                              candidates=candidates)  # fmt: skip
    return request, origin, tuple(notes)


def candidate_schedule(
    candidate: Candidate, last: Dose | None, weight_kg: float | None, index: int, name: str = "candidate"
) -> ScheduleCandidate:
    """The engine's schedule for a what-if booster by the drug and route of the ``last`` dose: IV and IM ketamine in
    mg/kg (within the route's absolute ceiling; needs ``weight_kg``), esketamine and other routes in mg. Errors name
    ``name[index]``."""
    field = f"{name}[{index}]"
    if last is None:
        raise InvalidAnswerError(field, "no dose has been given, so a booster has no drug or route", "after a dose")
    route = last.route.upper()
    if last.route in ("iv", "im") and last.drug == "racemic-ketamine":
        if candidate.mg_per_kg is None:
            raise InvalidAnswerError(field, f"{route} ketamine is dosed in mg/kg", "e.g. 14d:0.5mgkg")
        per_kg = (IV_MG_PER_KG if last.route == "iv" else IM_MG_PER_KG).check(candidate.mg_per_kg, field)
        if weight_kg is None:
            raise InvalidAnswerError(field, "a dose in mg/kg needs the patient's weight", "record a weight first")
        mg = per_kg * weight_kg
        label = f"booster in {candidate.days} days, {per_kg:g} mg/kg ({mg:.0f} mg) {route}"
    else:
        if candidate.mg is None:
            raise InvalidAnswerError(field, f"{last.drug} {route} is dosed in mg", "e.g. 14d:56mg")
        mg = ESKETAMINE_MG.check(candidate.mg, field) if last.drug == "esketamine" else candidate.mg
        label = f"booster in {candidate.days} days, {mg:g} mg {last.drug} {route}"
    dose = Dose(candidate.days * 24.0, last.drug, last.route, mg, last.duration_min)
    return ScheduleCandidate(label, (dose,))


def patient_forecast(
    uow: UnitOfWork, actor: Actor, patient_id: uuid.UUID, options: ForecastOptions | None = None, *,
    clock: Clock = utc_now,
) -> PatientForecast:  # fmt: skip
    """The forecast of one patient (prescribers and nurses), with the clinic's rule-based booster advice beside it.

    The record is read and the read audited in one transaction; the forecast is computed (or taken from the cache)
    after it. Bad input or data the model cannot take raise an error naming the field.
    """
    actor.require(Permission.FORECAST_READ)
    options = options or ForecastOptions()
    with uow:
        settings, _ = uow.settings.get()
        today = settings.local_date(clock())
        patient, _ = uow.patients.get(patient_id)
        scales = uow.scales.for_patient(patient_id)
        sessions = uow.sessions.for_patient(patient_id)
        request, origin, notes = build_request(patient, scales, sessions, settings, today, options)
        try:
            rule_advice, rule_note = rule_booster_advice(uow, settings, patient_id, options.scale_id, today), ""
        except InvalidAnswerError as exc:
            rule_advice, rule_note = None, exc.message
        detail = (
            f"scale={options.scale_id} horizon_days={options.horizon_days} alpha={request.alpha:g} "
            f"doses={len(request.doses)} ratings={len(request.ratings)} candidates={len(request.candidates)}"
        )
        audit(uow, actor, "read", "forecast", patient_id, patient_id, detail)
        uow.commit()
    given = _given(sessions)
    return PatientForecast(
        patient_id=patient_id, scale_id=options.scale_id, origin=origin, request=request,
        result=forecast(request), rule_advice=rule_advice, rule_note=rule_note,
        alpha_source="clinic setting forecast_relapse_alpha" if options.alpha is None else "request",
        last_session=given[-1].at if given else None, notes=notes,
    )  # fmt: skip


def forecast_document(result: Forecast) -> dict[str, Any]:
    """A JSON-ready mapping of an engine forecast, times in hours from the request's origin (the CLI's ``--json``)."""
    band, relapse, booster = result.band, result.relapse, result.booster
    return {
        "model_version": result.model_version,
        "input_hash": result.input_hash,
        "band": {"scale": band.scale, "times_h": band.times_h.tolist(), "median": band.median.tolist(),
                 "p05": band.p05.tolist(), "p25": band.p25.tolist(), "p75": band.p75.tolist(),
                 "p95": band.p95.tolist()},
        "relapse": {"times_h": relapse.times_h.tolist(), "probability": relapse.probability.tolist(),
                    "median_h": relapse.median_h, "interval_h": relapse.interval_h,
                    "definition": relapse.definition},
        "booster": {"next_session_h": booster.next_session_h, "interval_days": booster.interval_days,
                    "dose": None if booster.dose is None else asdict(booster.dose), "alpha": booster.alpha,
                    "rationale": booster.rationale},
        "what_if": [{"label": w.candidate.label, "doses": [asdict(d) for d in w.candidate.doses],
                     "relapse_by_horizon": w.relapse_by_horizon,
                     "expected_score_at_horizon": w.expected_score_at_horizon} for w in result.what_if],
        "shrinkage": dict(result.shrinkage),
        "n_ratings": result.n_ratings,
        "prior_only": result.prior_only,
        "warnings": list(result.warnings),
        "notice": NOTICE,
    }  # fmt: skip
