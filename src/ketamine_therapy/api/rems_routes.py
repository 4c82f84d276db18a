"""Spravato REMS: enrolment, Patient Monitoring Forms, their 7-day status, submission and export."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel

from ..clinic.rems import PatientMonitoringForm, RemsEnrollment
from ..http.auth import ActorDep, ContextDep
from ..http.versioning import expected_version, tag
from ..services import rems_forms
from ..services.clock import today
from ..validation.quantities import ClinicDate

router = APIRouter(tags=["rems"])


class EnrollmentIn(BaseModel):
    """The signed Patient Enrollment Form."""

    enrolled_on: date
    patient_signed: bool
    prescriber_signed: bool


class FormOut(BaseModel):
    """A Patient Monitoring Form with its status on ``as_of``."""

    id: uuid.UUID
    session_id: uuid.UUID
    patient_id: uuid.UUID
    status: str
    due: date
    submitted_on: date | None
    version: int
    form: PatientMonitoringForm


class SubmittedIn(BaseModel):
    """When the form was submitted to the REMS (online or fax)."""

    submitted_on: date


def _out(row: rems_forms.FormStatusRow) -> FormOut:
    r = row.record
    return FormOut(id=r.id, session_id=r.session_id, patient_id=r.patient_id, status=row.status, due=row.due,
                   submitted_on=r.submitted_on, version=r.version, form=r.form)  # fmt: skip


@router.post("/patients/{patient_id}/rems-enrollment", status_code=status.HTTP_201_CREATED)
def enroll(patient_id: uuid.UUID, body: EnrollmentIn, actor: ActorDep, ctx: ContextDep) -> RemsEnrollment:
    """Record the signed enrolment (required before the first esketamine session)."""
    return rems_forms.enroll_patient(
        ctx.new_uow(),
        actor,
        patient_id,
        body.enrolled_on,
        patient_signed=body.patient_signed,
        prescriber_signed=body.prescriber_signed,
    )


@router.get("/patients/{patient_id}/rems-enrollment")
def enrollment(patient_id: uuid.UUID, actor: ActorDep, ctx: ContextDep) -> RemsEnrollment | None:
    """The patient's enrolment (null if none)."""
    return rems_forms.enrollment_of(ctx.new_uow(), actor, patient_id)


@router.get("/rems/forms")
def forms(
    actor: ActorDep, ctx: ContextDep, as_of: ClinicDate | None = None, open_only: bool = False,
    patient_id: uuid.UUID | None = None,
) -> list[FormOut]:  # fmt: skip
    """Every form with its status on ``as_of`` (default today): submitted, due, or overdue after 7 days."""
    day = as_of or today(ctx.new_uow(), ctx.clock)
    return [_out(r) for r in rems_forms.form_statuses(ctx.new_uow(), actor, day, patient_id=patient_id,
                                                      open_only=open_only)]  # fmt: skip


@router.get("/rems/forms/{form_id}")
def form(form_id: uuid.UUID, actor: ActorDep, ctx: ContextDep, response: Response) -> FormOut:
    """One form (``ETag`` = its version)."""
    record = rems_forms.get_form(ctx.new_uow(), actor, form_id)
    tag(response, record.version)
    return _out(rems_forms.status_on(record, today(ctx.new_uow(), ctx.clock)))


@router.get("/rems/forms/{form_id}/export", response_class=Response,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                       "description": "the form's fields as CSV rows"}})  # fmt: skip
def export(form_id: uuid.UUID, actor: ActorDep, ctx: ContextDep) -> Response:
    """The form's fields (field, label, value) as CSV, for transcription into the REMS portal or fax."""
    export = rems_forms.export_form(ctx.new_uow(), actor, form_id)
    return Response(export.text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{export.filename}"'})  # fmt: skip


@router.post("/rems/forms/{form_id}/submitted")
def submitted(
    form_id: uuid.UUID, body: SubmittedIn, actor: ActorDep, ctx: ContextDep, response: Response,
    version: int = Depends(expected_version),
) -> FormOut:  # fmt: skip
    """Record the submission date (once; versioned)."""
    record = rems_forms.mark_submitted(ctx.new_uow(), actor, form_id, version, body.submitted_on)
    tag(response, record.version)
    return _out(rems_forms.status_on(record, body.submitted_on))
