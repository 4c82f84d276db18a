"""The session runner's forms: each step's form parsed by the validation layer (one pydantic model per form, built
from the clinic's quantities) into its service call (:data:`STEPS`), and the expected refusals turned into the
message shown next to the form."""

from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from pydantic import BaseModel, Field

from ..clinic.exceptions import ClinicError, InvalidAnswerError
from ..clinic.rems import EnrollmentRequiredError
from ..clinic.sessions import (
    BloodPressure,
    ConcurrentSessionError,
    DischargeAssessment,
    InvalidTransitionError,
    OverrideRequiredError,
    PreChecks,
    PregnancyTest,
    SessionKind,
    Severity,
    UnmetCriteriaError,
)
from ..clinic.settings import ClinicSettings
from ..http.context import AppContext
from ..services import treatment
from ..services.authorization import Actor
from ..services.clinic_settings import get_settings
from ..services.ports import ConflictError
from ..validation.forms import parse_form
from ..validation.quantities import (
    Cadss6Total,
    Diastolic,
    EsketamineMg,
    HeartRate,
    InfusionMinutes,
    MgPerKg,
    MoaasScore,
    Reason,
    RespiratoryRate,
    SpO2,
    Systolic,
    WeightKg,
)
from .forms import field_text
from .runner_view import PREGNANCY_LABELS, STATE_LABELS

EXPECTED_ERRORS = (ClinicError, ConflictError)
"""Refusals the runner shows next to the form (InvalidAnswerError, UnmetCriteriaError, OverrideRequiredError,
EnrollmentRequiredError, InvalidTransitionError are ClinicErrors); anything else goes to the problem page."""


@dataclass(frozen=True)
class FormError:
    """A refusal shown at the top of form ``form`` (and on its control ``field``), with unmet criteria if any."""

    form: str
    message: str
    field: str | None = None
    unmet: tuple[str, ...] = ()
    conflict: bool = False


# -- parsing form values --------------------------------------------------------------------------------------


class _VersionForm(BaseModel):
    expected_version: int = Field(strict=True, ge=1, description="the session version the form was shown with")


class _CheckInForm(BaseModel):
    systolic: Systolic
    diastolic: Diastolic
    override_reason: Reason | None = None


class _DoseForm(BaseModel):
    mg_per_kg: MgPerKg | None = None
    total_mg: EsketamineMg | None = None
    duration_min: InfusionMinutes | None = None
    weight_kg: WeightKg | None = None
    override_reason: Reason | None = None


class _VitalsForm(BaseModel):
    systolic: Systolic | None = None
    diastolic: Diastolic | None = None
    heart_rate: HeartRate | None = None
    spo2: SpO2 | None = None
    respiratory_rate: RespiratoryRate | None = None


class _Cadss6Form(BaseModel):
    cadss6: Cadss6Total


class _MoaasForm(BaseModel):
    moaas: MoaasScore


class _OverrideForm(BaseModel):
    override_reason: Reason | None = None


def _checked(form: Mapping[str, str], name: str) -> bool:
    return form.get(name) in ("on", "true", "yes", "1")


def _yes_no(form: Mapping[str, str], name: str, what: str) -> bool:
    value = form.get(name)
    if value not in ("yes", "no"):
        raise InvalidAnswerError(name, f"answer whether the patient had {what}", "yes, no")
    return value == "yes"


def _clock_time(form: Mapping[str, str], name: str, settings: ClinicSettings, now: datetime) -> datetime | None:
    """A local ``HH:MM`` at or before ``now`` (today, or yesterday if that time has not come yet today)."""
    raw = field_text(form, name)
    if not raw:
        return None
    try:
        clock = time.fromisoformat(raw)
    except ValueError:
        raise InvalidAnswerError(name, f"{raw!r} is not a clock time", "HH:MM") from None
    tz = zoneinfo.ZoneInfo(settings.timezone)
    local = datetime.combine(now.astimezone(tz).date(), clock, tzinfo=tz)
    if local > now:
        local -= timedelta(days=1)
    return local.astimezone(UTC)


def parse_session_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidAnswerError("session_id", f"{raw!r} is not a session id", "a UUID") from None


def form_version(form: Mapping[str, str]) -> int:
    return parse_form(_VersionForm, form).expected_version


# -- the steps ------------------------------------------------------------------------------------------------

Step = Callable[[AppContext, Actor, uuid.UUID, int, Mapping[str, str], datetime], object]


def _check_in(ctx: AppContext, actor: Actor, sid: uuid.UUID, version: int, form: Mapping[str, str],
              now: datetime) -> object:  # fmt: skip
    settings, _ = get_settings(ctx.new_uow())
    values = parse_form(_CheckInForm, form)
    raw = field_text(form, "pregnancy_test")
    try:
        pregnancy = PregnancyTest(raw)
    except ValueError:
        raise InvalidAnswerError("pregnancy_test", "choose the result",
                                 ", ".join(PREGNANCY_LABELS.values())) from None  # fmt: skip
    prechecks = PreChecks(
        consent=_checked(form, "consent"),
        ride_home=_checked(form, "ride_home"),
        pregnancy_test=pregnancy,
        bp=BloodPressure(values.systolic, values.diastolic),
        last_food_at=_clock_time(form, "last_food_at", settings, now),
        last_liquid_at=_clock_time(form, "last_liquid_at", settings, now),
    )
    return treatment.check_in_session(ctx.new_uow(), actor, sid, version, prechecks, now,
                                      override_reason=values.override_reason, clock=lambda: now)  # fmt: skip


def _bp_decision(ctx: AppContext, actor: Actor, sid: uuid.UUID, version: int, form: Mapping[str, str],
                 now: datetime) -> object:  # fmt: skip
    decision = field_text(form, "decision")
    if decision not in ("proceed", "delay"):
        raise InvalidAnswerError("decision", "choose proceed or delay", "proceed, delay")
    return treatment.decide_bp_session(ctx.new_uow(), actor, sid, version, decision == "proceed",
                                       field_text(form, "reason"), now, clock=lambda: now)  # fmt: skip


def _dose(ctx: AppContext, actor: Actor, sid: uuid.UUID, version: int, form: Mapping[str, str],
          now: datetime) -> object:  # fmt: skip
    values = parse_form(_DoseForm, form)
    order = treatment.DoseOrder(values.mg_per_kg, values.total_mg, values.duration_min, values.weight_kg,
                                values.override_reason, _checked(form, "acknowledge_weight"))  # fmt: skip
    return treatment.start_dosing_session(ctx.new_uow(), actor, sid, version, order, now, clock=lambda: now)


def _monitoring(ctx: AppContext, actor: Actor, sid: uuid.UUID, version: int, form: Mapping[str, str],
                now: datetime) -> object:  # fmt: skip
    return treatment.begin_monitoring(ctx.new_uow(), actor, sid, version, now, clock=lambda: now)


def _vitals(ctx: AppContext, actor: Actor, sid: uuid.UUID, version: int, form: Mapping[str, str],
            now: datetime) -> object:  # fmt: skip
    v = parse_form(_VitalsForm, form)
    return treatment.add_vitals(
        ctx.new_uow(), actor, sid, version, now, systolic=v.systolic, diastolic=v.diastolic, heart_rate=v.heart_rate,
        spo2=v.spo2, respiratory_rate=v.respiratory_rate, clock=lambda: now,
    )  # fmt: skip


def _cadss6(ctx: AppContext, actor: Actor, sid: uuid.UUID, version: int, form: Mapping[str, str],
            now: datetime) -> object:  # fmt: skip
    total = parse_form(_Cadss6Form, form).cadss6
    return treatment.add_cadss6(ctx.new_uow(), actor, sid, version, total, now, clock=lambda: now)


def _moaas(ctx: AppContext, actor: Actor, sid: uuid.UUID, version: int, form: Mapping[str, str],
           now: datetime) -> object:  # fmt: skip
    score = parse_form(_MoaasForm, form).moaas
    return treatment.add_moaas(ctx.new_uow(), actor, sid, version, score, now, clock=lambda: now)


def _adverse_event(ctx: AppContext, actor: Actor, sid: uuid.UUID, version: int, form: Mapping[str, str],
                   now: datetime) -> object:  # fmt: skip
    try:
        severity = Severity(field_text(form, "severity"))
    except ValueError:
        raise InvalidAnswerError("severity", "choose the severity", "mild, moderate, severe") from None
    return treatment.add_adverse_event(
        ctx.new_uow(), actor, sid, version, field_text(form, "description"), severity, now, clock=lambda: now
    )


def _discharge(ctx: AppContext, actor: Actor, sid: uuid.UUID, version: int, form: Mapping[str, str],
               now: datetime) -> object:  # fmt: skip
    assessment = DischargeAssessment(
        clinically_stable=_checked(form, "clinically_stable"),
        sedation_resolved=_checked(form, "sedation_resolved"),
        dissociation_resolved=_checked(form, "dissociation_resolved"),
        respiratory_depression_resolved=_checked(form, "respiratory_depression_resolved"),
        bp_decreasing_or_safe=_checked(form, "bp_decreasing_or_safe"),
    )
    rems = None
    if form.get("kind") == SessionKind.ESKETAMINE.value:
        rems = treatment.RemsObservations(
            sedation=_yes_no(form, "rems_sedation", "sedation"),
            dissociation=_yes_no(form, "rems_dissociation", "dissociation"),
            respiratory_depression=_yes_no(form, "rems_respiratory_depression", "respiratory depression"),
            lot_number=field_text(form, "lot_number") or None,
        )
    override = parse_form(_OverrideForm, form).override_reason
    return treatment.discharge_session(ctx.new_uow(), actor, sid, version, assessment, now, rems,
                                       override_reason=override, clock=lambda: now)  # fmt: skip


def _stop(ctx: AppContext, actor: Actor, sid: uuid.UUID, version: int, form: Mapping[str, str],
          now: datetime) -> object:  # fmt: skip
    return treatment.stop_session(ctx.new_uow(), actor, sid, version, field_text(form, "reason"), now,
                                  clock=lambda: now)  # fmt: skip


STEPS: dict[str, tuple[Step, bool]] = {
    "check-in": (_check_in, False),
    "bp-decision": (_bp_decision, False),
    "dose": (_dose, False),
    "monitoring": (_monitoring, False),
    "discharge": (_discharge, False),
    "stop": (_stop, False),
    "vitals": (_vitals, True),
    "cadss6": (_cadss6, True),
    "moaas": (_moaas, True),
    "adverse-event": (_adverse_event, True),
}
"""Each form of the runner: its step and whether it belongs to the observations column (swapped by HTMX)."""


CONFLICT = (
    "Someone else changed this session while you had it open. The screen now shows the latest record: "
    "check it, then submit again."
)


def form_error(form: str, exc: Exception) -> tuple[FormError, int]:
    """The message of an expected refusal and the status to answer with."""
    match exc:
        case ConflictError():
            return FormError(form, CONFLICT, conflict=True), 409
        case UnmetCriteriaError():
            return FormError(form, f"Cannot move to {STATE_LABELS[exc.step].lower()} yet:", unmet=exc.unmet), 409
        case OverrideRequiredError() if exc.warnings:
            who = "Document the reason" if form == "discharge" else "A prescriber must document the reason"
            return FormError(form, f"{who} to go on despite:", "override_reason", unmet=exc.warnings), 422
        case OverrideRequiredError():
            return FormError(form, f"{exc} A prescriber must document the reason for an override.",
                             "override_reason"), 422  # fmt: skip
        case ConcurrentSessionError():
            return FormError(form, f"Not possible now: {exc}"), 409
        case InvalidAnswerError():
            allowed = f" (allowed: {exc.allowed})" if exc.allowed else ""
            return FormError(form, f"{exc.field.replace('_', ' ')}: {exc.message}{allowed}", exc.field), 422
        case EnrollmentRequiredError():
            return FormError(form, f"Spravato REMS enrolment required: {exc}"), 409
        case InvalidTransitionError():
            return FormError(form, f"Not possible now: {exc}"), 409
    return FormError(form, str(exc)), 422
