"""Patients: registration, corrections (versioned), weights, history, screening, coverage and costs."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, Field

from ..clinic.costs import CostEstimate, Coverage
from ..clinic.patients import ConsentRecord, Patient, WeightRecord
from ..clinic.screening import AntidepressantTrial, ScreeningInput
from ..http.auth import ActorDep, ContextDep
from ..http.pagination import Limit, Offset, Page, page
from ..http.versioning import expected_version, tag
from ..services import billing, patients, screenings
from ..services.clock import today
from ..services.ports.patients import ScreeningRecord
from ..validation.quantities import Amount, ClinicDate, Count, Flag, Reason, WeightKg

router = APIRouter(tags=["patients"])

Sex = Literal["female", "male", "other", "unknown"]


class PatientIn(BaseModel):
    """A new patient; ``weight_kg`` is recorded as measured on ``weighed_on`` (default today)."""

    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    date_of_birth: ClinicDate
    sex: Sex
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    weight_kg: WeightKg | None = None
    weighed_on: ClinicDate | None = None


class PatientOut(BaseModel):
    """A patient and the version to send back with a correction."""

    id: uuid.UUID
    given_name: str
    family_name: str
    date_of_birth: date
    sex: str
    email: str | None
    phone: str | None
    weights: list[WeightRecord]
    consents: list[ConsentRecord]
    version: int | None = Field(description="for If-Match (null in lists)")

    @classmethod
    def of(cls, p: Patient, version: int | None) -> PatientOut:
        return cls(id=p.id, given_name=p.given_name, family_name=p.family_name, date_of_birth=p.date_of_birth,
                   sex=p.sex, email=p.email, phone=p.phone, weights=list(p.weights), consents=list(p.consents),
                   version=version)  # fmt: skip


class PatientCorrection(BaseModel):
    """Fields to correct (omit the others) and why; sent with ``If-Match``."""

    reason: Reason
    given_name: str | None = Field(default=None, min_length=1, max_length=100)
    family_name: str | None = Field(default=None, min_length=1, max_length=100)
    date_of_birth: ClinicDate | None = None
    sex: Sex | None = None
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)


class WeightIn(BaseModel):
    """A new weight measurement."""

    measured_on: ClinicDate
    weight_kg: WeightKg


class ConsentIn(BaseModel):
    """A signed consent document on file."""

    document: str = Field(min_length=1, max_length=200, description='e.g. "IV ketamine informed consent v3"')
    signed_on: ClinicDate


class VersionOut(BaseModel):
    """One stored version of a record."""

    version: int
    changed_at: datetime
    changed_by: str
    reason: str
    record: dict[str, object]


class TrialIn(BaseModel):
    """One antidepressant trial (adequacy is the clinician's ATHF/MGH-ATRQ judgement)."""

    drug: str = Field(min_length=1, max_length=100)
    drug_class: str = Field(max_length=40)
    dose_adequate: Flag
    weeks: Amount = Field(le=520)
    adequate_duration: Flag
    response: Literal["none", "partial", "response", "remission"]
    in_current_episode: Flag


class ScreeningIn(BaseModel):
    """Screening input for one route; conditions and medications use the clinic's names."""

    screened_on: ClinicDate
    route: Literal["intranasal-esketamine", "iv", "im"]
    episode_months: Count = Field(le=1200)
    severity: Literal["subsyndromal", "mild", "moderate", "severe", "severe-psychotic"]
    trials: list[TrialIn] = Field(max_length=50)
    augmentation_used: Flag
    ect_used: Flag
    bilateral_ect_failed: Flag = False
    indication: Literal["trd", "mdsi"] = Field(
        default="trd", description="esketamine indication (mdsi: acute suicidal ideation or behaviour)"
    )
    concurrent_oral_antidepressant: Flag = False
    conditions: list[str] = Field(default_factory=list, max_length=50)
    medications: list[str] = Field(default_factory=list, max_length=50)


class CoverageIn(BaseModel):
    """Insurance: payer, prior-authorisation state and the patient's coinsurance (0-1)."""

    payer: Literal["medicare", "commercial"]
    prior_authorization_approved: Flag
    patient_coinsurance: Decimal = Field(ge=0, le=1)


@router.get("/patients")
def list_patients(actor: ActorDep, ctx: ContextDep, limit: Limit = 50, offset: Offset = 0) -> Page[PatientOut]:
    """Patients by family name."""
    found = patients.list_patients(ctx.new_uow(), actor, limit=limit + 1, offset=offset)
    return page([PatientOut.of(p, None) for p in found], limit, offset)


@router.post("/patients", status_code=status.HTTP_201_CREATED)
def register(body: PatientIn, actor: ActorDep, ctx: ContextDep, response: Response) -> PatientOut:
    """Register a patient (version 1)."""
    patient = Patient(body.given_name, body.family_name, body.date_of_birth, body.sex, body.email, body.phone)
    weight = None
    if body.weight_kg is not None:
        weight = WeightRecord(body.weighed_on or today(ctx.new_uow(), ctx.clock), body.weight_kg)
    patients.register_patient(ctx.new_uow(), actor, patient, weight, clock=ctx.clock)
    stored, version = patients.get_patient(ctx.new_uow(), actor, patient.id)
    tag(response, version)
    response.headers["Location"] = f"/api/v1/patients/{patient.id}"
    return PatientOut.of(stored, version)


@router.get("/patients/{patient_id}")
def get_patient(patient_id: uuid.UUID, actor: ActorDep, ctx: ContextDep, response: Response) -> PatientOut:
    """One patient, with ``ETag`` for corrections."""
    patient, version = patients.get_patient(ctx.new_uow(), actor, patient_id)
    tag(response, version)
    return PatientOut.of(patient, version)


@router.patch("/patients/{patient_id}")
def correct(
    patient_id: uuid.UUID, body: PatientCorrection, actor: ActorDep, ctx: ContextDep, response: Response,
    version: int = Depends(expected_version),
) -> PatientOut:  # fmt: skip
    """Correct fields; the previous version stays in the history with who, when and why."""
    changes = body.model_dump(exclude_unset=True, exclude={"reason"})
    new_version = patients.correct_patient(ctx.new_uow(), actor, patient_id, version, reason=body.reason,
                                           clock=ctx.clock, **changes)  # fmt: skip
    patient, _ = patients.get_patient(ctx.new_uow(), actor, patient_id)
    tag(response, new_version)
    return PatientOut.of(patient, new_version)


@router.post("/patients/{patient_id}/weights", status_code=status.HTTP_201_CREATED)
def add_weight(
    patient_id: uuid.UUID, body: WeightIn, actor: ActorDep, ctx: ContextDep, response: Response,
    version: int = Depends(expected_version),
) -> PatientOut:  # fmt: skip
    """Record a weight measurement (a new version of the patient)."""
    current, _ = patients.get_patient(ctx.new_uow(), actor, patient_id)
    weights = current.with_weight(WeightRecord(body.measured_on, body.weight_kg)).weights
    new_version = patients.correct_patient(ctx.new_uow(), actor, patient_id, version, reason="weight measured",
                                           clock=ctx.clock, weights=weights)  # fmt: skip
    tag(response, new_version)
    return PatientOut.of(replace(current, weights=weights), new_version)


@router.post("/patients/{patient_id}/consents", status_code=status.HTTP_201_CREATED)
def add_consent(
    patient_id: uuid.UUID, body: ConsentIn, actor: ActorDep, ctx: ContextDep, response: Response,
    version: int = Depends(expected_version),
) -> PatientOut:  # fmt: skip
    """File a signed consent document (a new version of the patient, audited)."""
    new_version = patients.record_consent(ctx.new_uow(), actor, patient_id, version, body.document, body.signed_on,
                                          clock=ctx.clock)  # fmt: skip
    patient, _ = patients.get_patient(ctx.new_uow(), actor, patient_id)
    tag(response, new_version)
    return PatientOut.of(patient, new_version)


@router.get("/patients/{patient_id}/history")
def history(patient_id: uuid.UUID, actor: ActorDep, ctx: ContextDep) -> list[VersionOut]:
    """Every version of the patient's record with who changed it, when and why."""
    return [VersionOut(version=v.version, changed_at=v.changed_at, changed_by=v.changed_by, reason=v.reason,
                       record=PatientOut.of(v.patient, v.version).model_dump(mode="json"))
            for v in patients.patient_history(ctx.new_uow(), actor, patient_id)]  # fmt: skip


@router.post("/patients/{patient_id}/screenings", status_code=status.HTTP_201_CREATED)
def screen(patient_id: uuid.UUID, body: ScreeningIn, actor: ActorDep, ctx: ContextDep) -> ScreeningRecord:
    """Screen for a route: TRD status, Maudsley and Thase-Rush staging, hard stops and precautions with sources."""
    data = ScreeningInput(
        episode_months=body.episode_months, severity=body.severity,
        trials=tuple(AntidepressantTrial(**t.model_dump()) for t in body.trials),
        augmentation_used=body.augmentation_used, ect_used=body.ect_used, route=body.route,
        conditions=frozenset(body.conditions), medications=frozenset(body.medications),
        bilateral_ect_failed=body.bilateral_ect_failed, indication=body.indication,
        concurrent_oral_antidepressant=body.concurrent_oral_antidepressant,
    )  # fmt: skip
    return screenings.screen_patient(ctx.new_uow(), actor, patient_id, data, body.screened_on, clock=ctx.clock)


@router.get("/patients/{patient_id}/screenings")
def list_screenings(patient_id: uuid.UUID, actor: ActorDep, ctx: ContextDep) -> list[ScreeningRecord]:
    """The patient's screenings, oldest first."""
    return list(screenings.screenings_for(ctx.new_uow(), actor, patient_id))


@router.put("/patients/{patient_id}/coverage")
def put_coverage(
    patient_id: uuid.UUID, body: CoverageIn, actor: ActorDep, ctx: ContextDep, response: Response,
    version: int = Depends(expected_version),
) -> Coverage:  # fmt: skip
    """Record the patient's insurance over the version read (``If-Match: "0"`` when there is none yet)."""
    coverage = Coverage(body.payer, body.prior_authorization_approved, body.patient_coinsurance)
    tag(response, billing.set_coverage(ctx.new_uow(), actor, patient_id, coverage, version))
    return coverage


@router.get("/patients/{patient_id}/coverage")
def get_coverage(patient_id: uuid.UUID, actor: ActorDep, ctx: ContextDep, response: Response) -> Coverage | None:
    """The patient's insurance (null: self-pay; ``ETag`` "0")."""
    coverage, version = billing.coverage_of(ctx.new_uow(), actor, patient_id)
    tag(response, version)
    return coverage


@router.get("/patients/{patient_id}/costs")
def course_cost(patient_id: uuid.UUID, actor: ActorDep, ctx: ContextDep) -> CostEstimate:
    """The cost of every session the patient was dosed in, with billing codes and the patient/insurer split."""
    return billing.course_cost_of(ctx.new_uow(), actor, patient_id)
