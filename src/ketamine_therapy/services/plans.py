"""Use cases: lay a protocol out on the clinic's calendar as a plan, with one scheduled session per treatment."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from ..clinic.protocols.calendar import plan_sessions
from ..clinic.protocols.templates import Protocol
from ..clinic.sessions import SessionKind, new_session
from .audit import audit
from .authorization import Actor, Permission
from .ports import UnitOfWork
from .ports.treatment import PlanRecord, SessionRecord

ROUTE_KINDS = {"iv": SessionKind.IV_KETAMINE, "im": SessionKind.IM_KETAMINE, "intranasal": SessionKind.ESKETAMINE}


def create_plan(
    uow: UnitOfWork,
    actor: Actor,
    patient_id: uuid.UUID,
    protocol_id: str,
    start: date,
    *,
    protocol: Protocol | None = None,
    through_week: int | None = None,
) -> tuple[PlanRecord, list[SessionRecord]]:
    """Plan ``protocol_id`` (or an edited ``protocol``) from ``start`` on the clinic's opening days.

    Each planned treatment becomes a scheduled session at the clinic's session time; its integration
    session date (24-72 h later) is part of the plan. One transaction: all sessions or none.
    """
    actor.require(Permission.PLAN_WRITE)
    with uow:
        settings, _ = uow.settings.get()
        chosen = protocol if protocol is not None else settings.protocol(protocol_id)
        uow.patients.get(patient_id)
        plan = plan_sessions(chosen, start, settings.opening_days, settings.holidays, through_week=through_week)
        record = PlanRecord(uuid.uuid4(), patient_id, plan)
        uow.plans.add(record, actor.username, f"planned {chosen.id} from {start}")
        kind = ROUTE_KINDS[chosen.kind.route]
        sessions = []
        for planned in plan.sessions:
            session = new_session(kind, settings.appointment(planned.day), settings.min_monitoring(kind))
            stored = SessionRecord(uuid.uuid4(), patient_id, session, record.id, planned.number)
            uow.sessions.add(stored, actor.username, f"scheduled by plan {record.id}")
            sessions.append(stored)
        audit(uow, actor, "create", "plan", record.id, patient_id, f"{chosen.id}: {len(sessions)} sessions")
        uow.commit()
    return PlanRecord(record.id, patient_id, plan, version=1), [
        SessionRecord(s.id, s.patient_id, s.session, s.plan_id, s.number, 1) for s in sessions
    ]


def plans_for(uow: UnitOfWork, actor: Actor, patient_id: uuid.UUID) -> Sequence[PlanRecord]:
    """A patient's plans, oldest first."""
    actor.require(Permission.PATIENT_READ)
    with uow:
        uow.patients.get(patient_id)
        plans = uow.plans.for_patient(patient_id)
        audit(uow, actor, "read", "plan", patient_id=patient_id, detail=f"n={len(plans)}")
        uow.commit()
    return plans


def get_plan(uow: UnitOfWork, actor: Actor, plan_id: uuid.UUID) -> PlanRecord:
    """One plan."""
    actor.require(Permission.PATIENT_READ)
    with uow:
        plan = uow.plans.get(plan_id)
        audit(uow, actor, "read", "plan", plan_id, plan.patient_id)
        uow.commit()
    return plan
