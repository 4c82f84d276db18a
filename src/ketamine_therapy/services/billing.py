"""Use cases for money: a patient's coverage, the estimate of a plan and the cost of the sessions given."""

from __future__ import annotations

import uuid
from collections import Counter

from ..clinic.costs import CostEstimate, Coverage, DeliveredSession, course_cost, estimate_plan_cost
from ..clinic.costs import SessionKind as CostKind
from ..clinic.exceptions import InvalidAnswerError
from ..clinic.sessions import EsketamineDose, IvDose, Session, SessionKind, SessionState
from .audit import audit
from .authorization import Actor, Permission
from .plans import ROUTE_KINDS
from .ports import UnitOfWork


def _esketamine_kind(mg: float) -> CostKind:
    if mg == 56:
        return "esketamine-56mg"
    if mg == 84:
        return "esketamine-84mg"
    raise InvalidAnswerError("dose_mg", f"{mg:g} mg has no price", "56 or 84 mg")


def set_coverage(
    uow: UnitOfWork, actor: Actor, patient_id: uuid.UUID, coverage: Coverage, expected_version: int
) -> int:
    """Record the patient's insurance (payer, prior-auth state, coinsurance) over the version the user saw (0: none
    yet); a newer stored one raises ``StaleVersionError``. Returns the new version."""
    actor.require(Permission.PATIENT_WRITE)
    with uow:
        uow.patients.get(patient_id)
        version = uow.coverages.put(patient_id, coverage, actor.username, expected_version)
        audit(uow, actor, "update", "coverage", patient_id, patient_id, coverage.payer)
        uow.commit()
    return version


def coverage_of(uow: UnitOfWork, actor: Actor, patient_id: uuid.UUID) -> tuple[Coverage | None, int]:
    """The patient's insurance (``None``: self-pay) and its version (0: none recorded)."""
    actor.require(Permission.COST_READ)
    with uow:
        coverage, version = uow.coverages.get(patient_id), uow.coverages.version(patient_id)
        audit(uow, actor, "read", "coverage", patient_id, patient_id)
        uow.commit()
    return coverage, version


def plan_estimate(uow: UnitOfWork, actor: Actor, plan_id: uuid.UUID) -> CostEstimate:
    """What the plan will cost at the clinic's prices, split between the patient and the insurer."""
    actor.require(Permission.COST_READ)
    with uow:
        settings, _ = uow.settings.get()
        record = uow.plans.get(plan_id)
        route = ROUTE_KINDS[record.plan.protocol.kind.route]
        counts: Counter[CostKind] = Counter()
        for planned in record.plan.sessions:
            if route is SessionKind.ESKETAMINE:
                counts[_esketamine_kind(planned.dose_mg or 0)] += 1
            else:
                counts["iv" if route is SessionKind.IV_KETAMINE else "im"] += 1
        minutes = round(record.plan.sessions[0].duration_min or 40) if record.plan.sessions else 40
        estimate = estimate_plan_cost(dict(counts), settings.prices, uow.coverages.get(record.patient_id),
                                      iv_infusion_minutes=minutes)  # fmt: skip
        audit(uow, actor, "read", "cost-estimate", plan_id, record.patient_id)
        uow.commit()
    return estimate


def _delivered(session: Session) -> DeliveredSession | None:
    """A session counts once dosing started (a session stopped before dosing is not billed)."""
    if session.entered_at(SessionState.DOSING) is None:
        return None
    dose = session.dose
    if isinstance(dose, EsketamineDose):
        return DeliveredSession(_esketamine_kind(dose.total_mg))
    if isinstance(dose, IvDose):
        return DeliveredSession("iv", round(dose.duration.total_seconds() / 60))
    return DeliveredSession("im")


def course_cost_of(uow: UnitOfWork, actor: Actor, patient_id: uuid.UUID) -> CostEstimate:
    """The actual cost of every session the patient was dosed in."""
    actor.require(Permission.COST_READ)
    with uow:
        settings, _ = uow.settings.get()
        delivered = [d for r in uow.sessions.for_patient(patient_id) if (d := _delivered(r.session)) is not None]
        cost = course_cost(delivered, settings.prices, uow.coverages.get(patient_id))
        audit(uow, actor, "read", "course-cost", patient_id, patient_id, f"sessions={len(delivered)}")
        uow.commit()
    return cost
