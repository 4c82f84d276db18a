"""The session runner over HTTP: each step sends ``If-Match`` with the version it read (optimistic locking).

Times default to now (the clock port); a client may send ``at`` (timezone-aware, not in the future) for something
recorded a moment ago. Bodies use the validation layer's quantities: wrong types and values out of range are 422s
naming the field.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field

from ..clinic.sessions import BloodPressure, DischargeAssessment, PreChecks, PregnancyTest, Session, SessionKind
from ..clinic.sessions import Severity as AeSeverity
from ..http.auth import ActorDep, ContextDep
from ..http.context import AppContext
from ..http.versioning import expected_version, tag
from ..services import treatment
from ..services.clinic_settings import get_settings
from ..services.ports.treatment import SessionRecord
from ..validation.quantities import (
    Cadss6Total,
    ClinicDate,
    Diastolic,
    EsketamineMg,
    Flag,
    HeartRate,
    InfusionMinutes,
    MgPerKg,
    MoaasScore,
    Moment,
    Reason,
    RespiratoryRate,
    SpO2,
    Systolic,
    WeightKg,
)

router = APIRouter(tags=["sessions"])
Version = Annotated[int, Depends(expected_version)]


class SessionOut(BaseModel):
    """A session with everything recorded on it; ``version`` is its ETag."""

    id: uuid.UUID
    patient_id: uuid.UUID
    plan_id: uuid.UUID | None
    number: int | None
    version: int
    session: Session

    @classmethod
    def of(cls, r: SessionRecord) -> SessionOut:
        return cls(id=r.id, patient_id=r.patient_id, plan_id=r.plan_id, number=r.number, version=r.version,
                   session=r.session)  # fmt: skip


class DayEntry(BaseModel):
    """A session on the day's list."""

    id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    kind: str
    state: str
    scheduled_at: datetime
    version: int


class ScheduleIn(BaseModel):
    """A single session outside a plan (a booster, say)."""

    kind: Literal["iv-ketamine", "im-ketamine", "esketamine"]
    scheduled_at: Moment


class At(BaseModel):
    """When it happened (default: now; never in the future beyond a small clock skew)."""

    at: Moment | None = None

    def when(self, ctx: AppContext) -> datetime:
        return self.at or ctx.clock()


class BpIn(BaseModel):
    """A blood pressure in mmHg."""

    systolic: Systolic
    diastolic: Diastolic


class CheckInIn(At):
    """The pre-checks the clinic's policy asks for (fasting times for esketamine)."""

    consent: Flag
    ride_home: Flag
    pregnancy_test: Literal["negative", "positive", "not_applicable", "not_done"]
    bp: BpIn
    last_food_at: Moment | None = None
    last_liquid_at: Moment | None = None
    override_reason: Reason | None = Field(
        default=None,
        description="prescribers only: run the session although "
        "it is far from its scheduled time (recorded and audited)",
    )


class BpDecisionIn(At):
    """The documented decision on a pre-dose BP above the gate."""

    proceed: Flag
    reason: Reason


class DoseIn(At):
    """IV: ``mg_per_kg`` and ``duration_min``; IM: ``mg_per_kg``; esketamine: ``total_mg`` (56 or 84).

    ``weight_kg`` defaults to the latest recorded weight not in the future (one older than the clinic's limit
    needs ``acknowledge_weight``); ``override_reason`` (prescribers only) allows a dose outside the clinic's hard
    limits, or sooner than the minimum interval after another, and is recorded. No dose passes the absolute ceiling.
    """

    mg_per_kg: MgPerKg | None = None
    total_mg: EsketamineMg | None = None
    duration_min: InfusionMinutes | None = None
    weight_kg: WeightKg | None = None
    override_reason: Reason | None = None
    acknowledge_weight: Flag = False


class VitalsIn(At):
    """One timed set of vitals; any may be missing but not all (BP needs both numbers)."""

    systolic: Systolic | None = None
    diastolic: Diastolic | None = None
    heart_rate: HeartRate | None = None
    spo2: SpO2 | None = None
    respiratory_rate: RespiratoryRate | None = None


class Cadss6In(At):
    """A CADSS-6 total (0-24)."""

    value: Cadss6Total


class MoaasIn(At):
    """A MOAA/S score (0-5)."""

    value: MoaasScore


class AdverseEventIn(At):
    """An adverse event."""

    description: str = Field(min_length=1, max_length=1000)
    severity: Literal["mild", "moderate", "severe"]


class DischargeIn(At):
    """The discharge assessment; esketamine sessions also give the REMS observations (Y/N)."""

    clinically_stable: Flag
    sedation_resolved: Flag
    dissociation_resolved: Flag
    respiratory_depression_resolved: Flag
    bp_decreasing_or_safe: Flag
    rems_sedation: Flag | None = None
    rems_dissociation: Flag | None = None
    rems_respiratory_depression: Flag | None = None
    lot_number: str | None = Field(default=None, max_length=40)
    override_reason: Reason | None = Field(
        default=None, description="discharge although the recorded vitals contradict it (recorded and audited)"
    )


class StopIn(At):
    """Why the session stops early."""

    reason: Reason


def _out(record: SessionRecord, response: Response) -> SessionOut:
    tag(response, record.version)
    return SessionOut.of(record)


@router.get("/sessions")
def day_list(
    actor: ActorDep, ctx: ContextDep, day: Annotated[ClinicDate | None, Query(description="clinic-local date")] = None
) -> list[DayEntry]:
    """The sessions of one day in the clinic's time zone (default today)."""
    settings, _ = get_settings(ctx.new_uow())
    local_day = day or settings.local_date(ctx.clock())
    found = treatment.sessions_between(ctx.new_uow(), actor, settings.midnight(local_day),
                                       settings.midnight(local_day + timedelta(days=1)))  # fmt: skip
    return [DayEntry(id=r.id, patient_id=r.patient_id, patient_name=f"{p.given_name} {p.family_name}",
                     kind=r.session.kind.value, state=r.session.state.value, scheduled_at=r.session.scheduled_at,
                     version=r.version) for r, p in found]  # fmt: skip


@router.post("/patients/{patient_id}/sessions", status_code=status.HTTP_201_CREATED)
def schedule(
    patient_id: uuid.UUID, body: ScheduleIn, actor: ActorDep, ctx: ContextDep, response: Response
) -> SessionOut:
    """Schedule a session outside a plan."""
    record = treatment.schedule_session(ctx.new_uow(), actor, patient_id, SessionKind(body.kind), body.scheduled_at)
    return _out(record, response)


@router.get("/patients/{patient_id}/sessions")
def for_patient(patient_id: uuid.UUID, actor: ActorDep, ctx: ContextDep) -> list[SessionOut]:
    """The patient's sessions in scheduled order."""
    return [SessionOut.of(r) for r in treatment.sessions_for(ctx.new_uow(), actor, patient_id)]


@router.get("/sessions/{session_id}")
def get_session(session_id: uuid.UUID, actor: ActorDep, ctx: ContextDep, response: Response) -> SessionOut:
    """One session (``ETag`` = its version)."""
    return _out(treatment.get_session(ctx.new_uow(), actor, session_id), response)


@router.get("/sessions/{session_id}/history")
def history(session_id: uuid.UUID, actor: ActorDep, ctx: ContextDep) -> list[dict[str, object]]:
    """Every stored version with who, when and why."""
    return [{"version": v.version, "changed_at": v.changed_at.isoformat(), "changed_by": v.changed_by,
             "reason": v.reason, "session": v.snapshot}
            for v in treatment.session_history(ctx.new_uow(), actor, session_id)]  # fmt: skip


@router.post("/sessions/{session_id}/check-in")
def check_in(
    session_id: uuid.UUID, body: CheckInIn, actor: ActorDep, ctx: ContextDep, version: Version, response: Response
) -> SessionOut:
    """Record pre-checks and check in (esketamine: REMS enrolment required)."""
    checks = PreChecks(
        body.consent,
        body.ride_home,
        PregnancyTest(body.pregnancy_test),
        BloodPressure(body.bp.systolic, body.bp.diastolic),
        body.last_food_at,
        body.last_liquid_at,
    )
    record = treatment.check_in_session(ctx.new_uow(), actor, session_id, version, checks, body.when(ctx),
                                        override_reason=body.override_reason, clock=ctx.clock)  # fmt: skip
    return _out(record, response)


@router.post("/sessions/{session_id}/bp-decision")
def bp_decision(
    session_id: uuid.UUID, body: BpDecisionIn, actor: ActorDep, ctx: ContextDep, version: Version, response: Response
) -> SessionOut:
    """Document the decision on a pre-dose BP above the gate (never a silent block)."""
    record = treatment.decide_bp_session(ctx.new_uow(), actor, session_id, version, body.proceed, body.reason,
                                         body.when(ctx), clock=ctx.clock)  # fmt: skip
    return _out(record, response)


@router.post("/sessions/{session_id}/dose")
def dose(
    session_id: uuid.UUID, body: DoseIn, actor: ActorDep, ctx: ContextDep, version: Version, response: Response
) -> SessionOut:
    """Record the dose within the hard limits (or with a prescriber's override) and start dosing."""
    order = treatment.DoseOrder(body.mg_per_kg, body.total_mg, body.duration_min, body.weight_kg, body.override_reason,
                                body.acknowledge_weight)  # fmt: skip
    record = treatment.start_dosing_session(ctx.new_uow(), actor, session_id, version, order, body.when(ctx),
                                            clock=ctx.clock)  # fmt: skip
    return _out(record, response)


@router.post("/sessions/{session_id}/monitoring")
def monitoring(
    session_id: uuid.UUID, body: At, actor: ActorDep, ctx: ContextDep, version: Version, response: Response
) -> SessionOut:
    """Dosing is over: monitor until discharge."""
    record = treatment.begin_monitoring(ctx.new_uow(), actor, session_id, version, body.when(ctx), clock=ctx.clock)
    return _out(record, response)


@router.post("/sessions/{session_id}/vitals")
def vitals(
    session_id: uuid.UUID, body: VitalsIn, actor: ActorDep, ctx: ContextDep, version: Version, response: Response
) -> SessionOut:
    """Add timed vitals (plausibility-checked)."""
    record = treatment.add_vitals(ctx.new_uow(), actor, session_id, version, body.when(ctx), systolic=body.systolic,
                                  diastolic=body.diastolic, heart_rate=body.heart_rate, spo2=body.spo2,
                                  respiratory_rate=body.respiratory_rate, clock=ctx.clock)  # fmt: skip
    return _out(record, response)


@router.post("/sessions/{session_id}/cadss6")
def cadss6(
    session_id: uuid.UUID, body: Cadss6In, actor: ActorDep, ctx: ContextDep, version: Version, response: Response
) -> SessionOut:
    """Add a CADSS-6 dissociation total."""
    record = treatment.add_cadss6(ctx.new_uow(), actor, session_id, version, body.value, body.when(ctx),
                                  clock=ctx.clock)  # fmt: skip
    return _out(record, response)


@router.post("/sessions/{session_id}/moaas")
def moaas(
    session_id: uuid.UUID, body: MoaasIn, actor: ActorDep, ctx: ContextDep, version: Version, response: Response
) -> SessionOut:
    """Add a MOAA/S sedation score."""
    record = treatment.add_moaas(ctx.new_uow(), actor, session_id, version, body.value, body.when(ctx),
                                 clock=ctx.clock)  # fmt: skip
    return _out(record, response)


@router.post("/sessions/{session_id}/adverse-events")
def adverse_event(
    session_id: uuid.UUID, body: AdverseEventIn, actor: ActorDep, ctx: ContextDep, version: Version,
    response: Response,
) -> SessionOut:  # fmt: skip
    """Add an adverse event."""
    record = treatment.add_adverse_event(ctx.new_uow(), actor, session_id, version, body.description,
                                         AeSeverity(body.severity), body.when(ctx), clock=ctx.clock)  # fmt: skip
    return _out(record, response)


@router.post("/sessions/{session_id}/discharge")
def discharge(
    session_id: uuid.UUID, body: DischargeIn, actor: ActorDep, ctx: ContextDep, version: Version, response: Response
) -> SessionOut:
    """Discharge when the rules hold; an esketamine session files its REMS Patient Monitoring Form."""
    assessment = DischargeAssessment(body.clinically_stable, body.sedation_resolved, body.dissociation_resolved,
                                     body.respiratory_depression_resolved, body.bp_decreasing_or_safe)  # fmt: skip
    rems = None
    flags = (body.rems_sedation, body.rems_dissociation, body.rems_respiratory_depression)
    if all(f is not None for f in flags):
        rems = treatment.RemsObservations(bool(flags[0]), bool(flags[1]), bool(flags[2]), body.lot_number)
    record = treatment.discharge_session(ctx.new_uow(), actor, session_id, version, assessment, body.when(ctx), rems,
                                         override_reason=body.override_reason, clock=ctx.clock)  # fmt: skip
    return _out(record, response)


@router.post("/sessions/{session_id}/stop")
def stop(
    session_id: uuid.UUID, body: StopIn, actor: ActorDep, ctx: ContextDep, version: Version, response: Response
) -> SessionOut:
    """Stop the session early, with a reason."""
    record = treatment.stop_session(ctx.new_uow(), actor, session_id, version, body.reason, body.when(ctx),
                                    clock=ctx.clock)  # fmt: skip
    return _out(record, response)
