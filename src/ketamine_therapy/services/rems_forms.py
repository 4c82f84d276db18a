"""Use cases for the Spravato REMS: enrolment, the Patient Monitoring Forms and their 7-day submission window."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from ..clinic.exceptions import InvalidAnswerError
from ..clinic.rems import FormStatus, PatientMonitoringForm, RemsEnrollment, due_date
from .audit import audit, audit_list
from .authorization import Actor, Permission
from .ports import StaleVersionError, UnitOfWork
from .ports.treatment import RemsFormRecord

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these is evaluated as a formula by spreadsheets (CSV injection)."""
ACRONYMS = {"hcp": "HCP", "bp": "BP", "maois": "MAOIs", "mg": "mg", "40": "40"}


@dataclass(frozen=True)
class CsvExport:
    """A file to download: its name and its text."""

    filename: str
    text: str


@dataclass(frozen=True)
class FormStatusRow:
    """A form with its 7-day status as of a date."""

    record: RemsFormRecord
    due: date
    status: FormStatus


def enroll_patient(
    uow: UnitOfWork, actor: Actor, patient_id: uuid.UUID, enrolled_on: date, *, patient_signed: bool,
    prescriber_signed: bool,
) -> RemsEnrollment:  # fmt: skip
    """Record the signed Patient Enrollment Form (required before the first esketamine session)."""
    actor.require(Permission.REMS_WRITE)
    enrollment = RemsEnrollment(str(patient_id), enrolled_on, patient_signed, prescriber_signed)
    with uow:
        uow.patients.get(patient_id)
        uow.rems.put_enrollment(patient_id, enrollment, actor.username)
        audit(uow, actor, "create", "rems-enrollment", patient_id, patient_id, enrolled_on.isoformat())
        uow.commit()
    return enrollment


def enrollment_of(uow: UnitOfWork, actor: Actor, patient_id: uuid.UUID) -> RemsEnrollment | None:
    """The patient's REMS enrolment, if any."""
    actor.require(Permission.REMS_READ)
    with uow:
        enrollment = uow.rems.enrollment(patient_id)
        audit(uow, actor, "read", "rems-enrollment", patient_id, patient_id)
        uow.commit()
    return enrollment


def status_on(record: RemsFormRecord, as_of: date) -> FormStatusRow:
    """A form's 7-day status on ``as_of``."""
    due = due_date(record.form.treatment_date)
    submitted = record.submitted_on is not None and record.submitted_on <= as_of
    return FormStatusRow(record, due, "submitted" if submitted else ("overdue" if as_of > due else "due"))


def form_statuses(
    uow: UnitOfWork, actor: Actor, as_of: date, *, patient_id: uuid.UUID | None = None, open_only: bool = False
) -> Sequence[FormStatusRow]:
    """Every form (or a patient's) with its status on ``as_of``: submitted, due, or overdue after 7 days."""
    actor.require(Permission.REMS_READ)
    with uow:
        rows = [status_on(r, as_of) for r in uow.rems.forms(patient_id)]
        audit_list(uow, actor, "rems-form-list", (r.record.patient_id for r in rows), f"as_of={as_of} n={len(rows)}")
        uow.commit()
    return [r for r in rows if r.status != "submitted"] if open_only else rows


def get_form(uow: UnitOfWork, actor: Actor, form_id: uuid.UUID) -> RemsFormRecord:
    """One Patient Monitoring Form."""
    actor.require(Permission.REMS_READ)
    with uow:
        record = uow.rems.get_form(form_id)
        audit(uow, actor, "read", "rems-form", form_id, record.patient_id)
        uow.commit()
    return record


def mark_submitted(
    uow: UnitOfWork, actor: Actor, form_id: uuid.UUID, expected_version: int, submitted_on: date
) -> RemsFormRecord:
    """Record that the form was submitted to the REMS (online or by fax) on ``submitted_on``."""
    actor.require(Permission.REMS_WRITE)
    with uow:
        record = uow.rems.get_form(form_id)
        if record.version != expected_version:
            raise StaleVersionError(f"REMS form {form_id} is at version {record.version}, not {expected_version}")
        if submitted_on < record.form.treatment_date:
            raise InvalidAnswerError("submitted_on", f"{submitted_on} is before the session",
                                     f">= {record.form.treatment_date}")  # fmt: skip
        if record.submitted_on is not None:
            raise InvalidAnswerError("submitted_on", f"already submitted on {record.submitted_on}", "one submission")
        updated = replace(record, submitted_on=submitted_on)
        version = uow.rems.update_form(updated, expected_version, actor.username, f"submitted on {submitted_on}")
        audit(uow, actor, "update", "rems-form", form_id, record.patient_id, f"submitted on {submitted_on}")
        uow.commit()
    return replace(updated, version=version)


def form_fields(form: PatientMonitoringForm) -> list[tuple[str, str]]:
    """The form's fields as (name, printable value) pairs, in the form's order (for export and display)."""
    out = []
    for name, value in vars(form).items():
        if isinstance(value, tuple):
            text = "; ".join(str(v) for v in value) or "none"
        elif value is None:
            text = ""
        elif isinstance(value, bool):
            text = "Yes" if value else "No"
        elif hasattr(value, "systolic"):
            text = f"{value.systolic}/{value.diastolic}"
        else:
            text = str(value)
        out.append((name, text))
    return out


def field_label(name: str) -> str:
    """A form field's printable label (``bp_40_min_after`` -> ``BP 40 min after``)."""
    words = [ACRONYMS.get(w, w) for w in name.split("_")]
    first = words[0] if words[0] in ACRONYMS.values() else words[0].capitalize()
    return " ".join([first, *words[1:]])


def spreadsheet_safe(value: str) -> str:
    """``value`` with a leading formula character neutralised by a quote, so a spreadsheet shows it as text."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def export_form(uow: UnitOfWork, actor: Actor, form_id: uuid.UUID) -> CsvExport:
    """The form's fields as CSV (field, label, value), every cell spreadsheet-safe; audited as an export.

    The one export of a Patient Monitoring Form, served by the API and the web pages alike.
    """
    actor.require(Permission.REMS_READ)
    with uow:
        record = uow.rems.get_form(form_id)
        audit(uow, actor, "export", "rems-form", form_id, record.patient_id, "csv")
        uow.commit()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["field", "label", "value"])
    for name, value in form_fields(record.form):
        writer.writerow([spreadsheet_safe(name), spreadsheet_safe(field_label(name)), spreadsheet_safe(value)])
    filename = f"rems-pmf-{record.form.treatment_date.isoformat()}-{str(record.id)[:8]}.csv"
    return CsvExport(filename, buffer.getvalue())
