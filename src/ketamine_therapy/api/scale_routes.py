"""Rating scales: definitions, recording, a patient's course, booster advice and patients' questionnaire links."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from ..clinic.protocols.boosters import BoosterRecommendation
from ..clinic.records import RecordedScale
from ..clinic.scales import SCALES, CourseSummary, Scale
from ..http.auth import ActorDep, ContextDep
from ..http.context import client_address
from ..services import outcomes, patients
from ..services.accounts.questionnaire_links import (
    create_questionnaire_link,
    open_questionnaire,
    questionnaire_link_url,
    submit_questionnaire,
)
from ..services.clock import today as clinic_today
from ..validation.quantities import ClinicDate, ScaleAnswer

router = APIRouter(tags=["scales"])

CRISIS = ("If you are thinking about harming yourself, call or text 988 (Suicide & Crisis Lifeline, US) now, or "
          "call 911 in an emergency. Your answers are not monitored in real time.")  # fmt: skip


class ScaleIn(BaseModel):
    """Item-level answers of a completed scale."""

    scale_id: str = Field(description=", ".join(SCALES))
    answers: list[ScaleAnswer] = Field(max_length=64)
    taken_on: ClinicDate


class ScaleOut(BaseModel):
    """A recorded scale: answers, total, severity band and safety flags."""

    id: uuid.UUID
    patient_id: uuid.UUID
    scale_id: str
    taken_on: date
    answers: list[int]
    total: int | None
    band: str | None
    flags: list[str]
    risk_level: int | None = Field(description="C-SSRS screener triage: 0 none, 1 low, 2 moderate, 3 high")
    recorded_at: datetime
    recorded_by: str

    @classmethod
    def of(cls, r: RecordedScale) -> ScaleOut:
        res = r.result
        return cls(id=r.id, patient_id=r.patient_id, scale_id=res.scale_id, taken_on=r.taken_on,
                   answers=list(res.answers), total=res.total, band=res.band, flags=sorted(res.flags),
                   risk_level=res.risk_level, recorded_at=r.recorded_at, recorded_by=r.recorded_by)  # fmt: skip


class LinkIn(BaseModel):
    """Which questionnaire to send to the patient."""

    scale_id: str = Field(description="PHQ-9 or GAD-7")


class LinkOut(BaseModel):
    """A single-use, short-lived link (shown once)."""

    url: str
    token: str
    scale_id: str
    expires_at: datetime


class QuestionnaireOut(BaseModel):
    """What a patient's link opens."""

    scale_id: str
    scale: Scale
    expires_at: datetime
    notice: str = CRISIS


class AnswersIn(BaseModel):
    """The patient's answers, one per item."""

    answers: list[ScaleAnswer] = Field(max_length=64)


class SubmittedOut(BaseModel):
    """What the patient is told after submitting."""

    scale_id: str
    total: int | None
    band: str | None
    crisis: bool
    message: str


@router.get("/scales")
def list_scales() -> list[Scale]:
    """The scales with items, answer ranges, bands, LOINC codes (where verified) and sources."""
    return list(SCALES.values())


@router.post("/patients/{patient_id}/scales", status_code=status.HTTP_201_CREATED)
def record(patient_id: uuid.UUID, body: ScaleIn, actor: ActorDep, ctx: ContextDep) -> ScaleOut:
    """Score and store a completed scale (PHQ-9 item 9 > 0 raises the ``suicidality`` flag)."""
    return ScaleOut.of(patients.record_scale(ctx.new_uow(), actor, patient_id, body.scale_id, body.answers,
                                             body.taken_on, ctx.clock))  # fmt: skip


@router.get("/patients/{patient_id}/scales")
def list_recorded(patient_id: uuid.UUID, actor: ActorDep, ctx: ContextDep) -> list[ScaleOut]:
    """The patient's recorded scales, oldest first."""
    return [ScaleOut.of(r) for r in patients.scales_for(ctx.new_uow(), actor, patient_id)]


@router.get("/patients/{patient_id}/course")
def course(patient_id: uuid.UUID, actor: ActorDep, ctx: ContextDep, scale_id: str = "MADRS") -> CourseSummary:
    """Baseline, best, current, response, remission and weeks in response on one scale."""
    return outcomes.course_of(ctx.new_uow(), actor, patient_id, scale_id)


@router.get("/patients/{patient_id}/booster")
def booster(
    patient_id: uuid.UUID, actor: ActorDep, ctx: ContextDep, scale_id: str = "MADRS", today: ClinicDate | None = None
) -> BoosterRecommendation:
    """Whether a booster is due by the clinic's rules, each rule explained."""
    day = today or clinic_today(ctx.new_uow(), ctx.clock)
    return outcomes.booster_advice(ctx.new_uow(), actor, patient_id, scale_id, day)


@router.post("/patients/{patient_id}/questionnaire-links", status_code=status.HTTP_201_CREATED)
def create_link(patient_id: uuid.UUID, body: LinkIn, actor: ActorDep, ctx: ContextDep, request: Request) -> LinkOut:
    """A single-use link (72 h) for the patient to fill a PHQ-9 or GAD-7 on a phone."""
    questionnaire_link_url(ctx.settings.public_url, "")  # refuse before creating a link that cannot be sent
    token = create_questionnaire_link(ctx.new_uow(), actor, patient_id, body.scale_id)
    link = open_questionnaire(ctx.new_uow(), token)
    url = questionnaire_link_url(ctx.settings.public_url, token)
    return LinkOut(url=url, token=token, scale_id=link.scale_id, expires_at=link.expires_at)


@router.get("/questionnaires/{token}", tags=["patient questionnaire"])
def questionnaire(token: str, ctx: ContextDep) -> QuestionnaireOut:
    """What a link opens (no login: the single-use token is the permission)."""
    link = open_questionnaire(ctx.new_uow(), token)
    return QuestionnaireOut(scale_id=link.scale_id, scale=SCALES[link.scale_id], expires_at=link.expires_at)


@router.post("/questionnaires/{token}", tags=["patient questionnaire"])
def answer(token: str, body: AnswersIn, ctx: ContextDep, request: Request) -> SubmittedOut:
    """Submit the answers (consumes the link); PHQ-9 item 9 > 0 returns crisis resources and flags the chart."""
    record = submit_questionnaire(ctx.new_uow(), token, body.answers, source=client_address(request))
    res = record.result
    crisis = "suicidality" in res.flags
    message = CRISIS if crisis else "Thank you: your answers were sent to your care team. " + CRISIS
    return SubmittedOut(scale_id=res.scale_id, total=res.total, band=res.band, crisis=crisis, message=message)
