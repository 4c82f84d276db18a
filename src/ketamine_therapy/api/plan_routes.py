"""Protocols and plans: the clinic's templates, plans on the calendar, and what a plan will cost."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from ..clinic.costs import CostEstimate
from ..clinic.protocols.templates import Protocol
from ..http.auth import ActorDep, ContextDep
from ..services import billing, plans
from ..services.clinic_settings import get_settings
from ..services.ports.treatment import PlanRecord

router = APIRouter(tags=["plans"])


class PlanIn(BaseModel):
    """Plan one of the clinic's protocols (or an edited copy, ``protocol``) from ``start``."""

    protocol_id: str = Field(max_length=64)
    start: date
    through_week: int | None = Field(default=None, ge=1, le=104, description="horizon for ongoing steps")
    protocol: Protocol | None = Field(default=None, description="an edited protocol (re-validated)")


class PlanOut(BaseModel):
    """A plan with its sessions' dates and integration-therapy dates, and the scheduled session ids."""

    plan: PlanRecord
    session_ids: list[uuid.UUID]


@router.get("/protocols")
def list_protocols(actor: ActorDep, ctx: ContextDep) -> list[Protocol]:
    """The clinic's protocols (templates with their sources)."""
    settings, _ = get_settings(ctx.new_uow())
    return list(settings.protocols.values())


@router.post("/patients/{patient_id}/plans", status_code=status.HTTP_201_CREATED)
def create(patient_id: uuid.UUID, body: PlanIn, actor: ActorDep, ctx: ContextDep) -> PlanOut:
    """Lay the protocol out on the clinic's opening days; one scheduled session per treatment."""
    plan, sessions = plans.create_plan(ctx.new_uow(), actor, patient_id, body.protocol_id, body.start,
                                       protocol=body.protocol, through_week=body.through_week)  # fmt: skip
    return PlanOut(plan=plan, session_ids=[s.id for s in sessions])


@router.get("/patients/{patient_id}/plans")
def list_plans(patient_id: uuid.UUID, actor: ActorDep, ctx: ContextDep) -> list[PlanRecord]:
    """The patient's plans."""
    return list(plans.plans_for(ctx.new_uow(), actor, patient_id))


@router.get("/plans/{plan_id}")
def get_plan(plan_id: uuid.UUID, actor: ActorDep, ctx: ContextDep) -> PlanRecord:
    """One plan."""
    return plans.get_plan(ctx.new_uow(), actor, plan_id)


@router.get("/plans/{plan_id}/estimate")
def estimate(plan_id: uuid.UUID, actor: ActorDep, ctx: ContextDep) -> CostEstimate:
    """The plan's cost at the clinic's prices, with billing codes and the patient/insurer split."""
    return billing.plan_estimate(ctx.new_uow(), actor, plan_id)
