"""Use case: the clinic's day at a glance: today's sessions, REMS forms due, and recent safety flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ..clinic.patients import Patient
from ..clinic.records import RecordedScale
from .audit import audit_list
from .authorization import Actor, Permission
from .ports import UnitOfWork
from .ports.treatment import SessionRecord
from .rems_forms import FormStatusRow, status_on

SAFETY_FLAGS = frozenset({"suicidality", "moderate_risk", "high_risk"})
"""Scale flags that need a clinician's attention (PHQ-9 item 9 > 0; C-SSRS screener moderate or high risk)."""
FLAG_WINDOW = timedelta(days=14)


@dataclass(frozen=True)
class Dashboard:
    """One day of the clinic."""

    day: date
    clinic_name: str
    sessions: list[tuple[SessionRecord, Patient]]
    rems_open: list[tuple[FormStatusRow, Patient]]
    safety_flags: list[tuple[RecordedScale, Patient]]


def dashboard(uow: UnitOfWork, actor: Actor, day: date) -> Dashboard:
    """Today's sessions (by the clinic's local day), open REMS forms and safety flags of the last 14 days."""
    actor.require(Permission.PATIENT_READ)
    with uow:
        settings, _ = uow.settings.get()
        todays = uow.sessions.scheduled_between(settings.midnight(day), settings.midnight(day + timedelta(days=1)))
        sessions = [(r, uow.patients.get(r.patient_id)[0]) for r in todays]
        forms: list[tuple[FormStatusRow, Patient]] = []
        if actor.can(Permission.REMS_READ):
            for record in uow.rems.forms():
                row = status_on(record, day)
                if row.status != "submitted":
                    forms.append((row, uow.patients.get(record.patient_id)[0]))
        flagged = [(r, uow.patients.get(r.patient_id)[0]) for r in uow.scales.taken_since(day - FLAG_WINDOW)
                   if r.result.flags & SAFETY_FLAGS]  # fmt: skip
        shown = [p.id for _, p in sessions] + [p.id for _, p in forms] + [p.id for _, p in flagged]
        audit_list(uow, actor, "dashboard", shown, f"{day}: sessions={len(sessions)} flags={len(flagged)}")
        uow.commit()
    return Dashboard(day, settings.name, sessions, forms, flagged[::-1])
