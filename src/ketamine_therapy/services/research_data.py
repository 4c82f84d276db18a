"""De-identified outcomes for researchers: no names, contacts, birth dates or calendar dates.

Each patient appears under a keyed pseudonym (HMAC-SHA256 of the record id), with an age band, sex, the
protocol, the number of sessions given and the MADRS course in days from baseline. Small clinics can still
be re-identifiable from such rows; this is de-identification by removal, not anonymisation.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass

from ..clinic.scales import course_summary
from ..clinic.sessions import SessionState
from .audit import audit
from .authorization import Actor, Permission
from .ports import UnitOfWork

SCALE = "MADRS"


@dataclass(frozen=True)
class DeidentifiedCourse:
    """One patient's course without identifiers; days count from the baseline rating."""

    pseudonym: str
    age_band: str
    sex: str
    protocols: tuple[str, ...]
    sessions_given: int
    scale_id: str
    baseline: int
    best: int
    current: int
    days_followed: int
    in_response: bool | None
    in_remission: bool | None
    course: tuple[tuple[int, int], ...]


def pseudonym(key: bytes, patient_id: uuid.UUID) -> str:
    """A stable pseudonym for ``patient_id`` under ``key`` (12 hex digits of HMAC-SHA256)."""
    return hmac.new(key, patient_id.bytes, hashlib.sha256).hexdigest()[:12]


def _age_band(age: int) -> str:
    low = age // 10 * 10
    return "90+" if low >= 90 else f"{low}-{low + 9}"


def deidentified_courses(uow: UnitOfWork, actor: Actor, key: bytes, *, limit: int = 1000) -> list[DeidentifiedCourse]:
    """Every patient with a MADRS course, de-identified (researchers only)."""
    actor.require(Permission.DEIDENTIFIED_READ)
    out = []
    with uow:
        for patient in uow.patients.list(limit, 0):
            totals = {r.taken_on: r.result.total for r in uow.scales.for_patient(patient.id)
                      if r.result.scale_id == SCALE and r.result.total is not None}  # fmt: skip
            if not totals:
                continue
            points = sorted(totals.items())
            summary = course_summary(SCALE, points)
            day0 = points[0][0]
            given = [s for s in uow.sessions.for_patient(patient.id) if s.session.entered_at(SessionState.DOSING)]
            protocols = tuple(sorted({p.plan.protocol.id for p in uow.plans.for_patient(patient.id)}))
            out.append(DeidentifiedCourse(
                pseudonym(key, patient.id), _age_band(patient.age_on(day0)), patient.sex, protocols, len(given),
                SCALE, summary.baseline[1], summary.best[1], summary.current[1], (points[-1][0] - day0).days,
                summary.in_response, summary.in_remission, tuple(((d - day0).days, t) for d, t in points),
            ))  # fmt: skip
        audit(uow, actor, "read", "deidentified-courses", detail=f"n={len(out)}")
        uow.commit()
    return out
