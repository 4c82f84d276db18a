"""Use cases: a patient's course on a scale (baseline, best, current, response, remission) and booster advice."""

from __future__ import annotations

import uuid
from datetime import date

from ..clinic.exceptions import InvalidAnswerError
from ..clinic.protocols.boosters import BoosterRecommendation, recommend_booster
from ..clinic.scales import CourseSummary, course_summary
from ..clinic.sessions import SessionState
from ..clinic.settings import ClinicSettings
from .audit import audit
from .authorization import Actor, Permission
from .ports import UnitOfWork


def _totals(uow: UnitOfWork, patient_id: uuid.UUID, scale_id: str) -> list[tuple[date, int]]:
    by_day: dict[date, int] = {}
    for record in uow.scales.for_patient(patient_id):
        if record.result.scale_id == scale_id and record.result.total is not None:
            by_day[record.taken_on] = record.result.total  # the latest entry of a day wins
    if not by_day:
        raise InvalidAnswerError("scale_id", f"no {scale_id} recorded for this patient", "a scale with results")
    return sorted(by_day.items())


def course_of(uow: UnitOfWork, actor: Actor, patient_id: uuid.UUID, scale_id: str) -> CourseSummary:
    """The patient's course on ``scale_id``."""
    actor.require(Permission.SCALE_READ)
    with uow:
        uow.patients.get(patient_id)
        summary = course_summary(scale_id, _totals(uow, patient_id, scale_id))
        audit(uow, actor, "read", "course", patient_id, patient_id, scale_id)
        uow.commit()
    return summary


def rule_booster_advice(
    uow: UnitOfWork, settings: ClinicSettings, patient_id: uuid.UUID, scale_id: str, today: date
) -> BoosterRecommendation:
    """The clinic's rule-based booster advice inside an open unit of work (no permission check, no audit: the
    calling use case does both)."""
    totals = [(d, t, scale_id) for d, t in _totals(uow, patient_id, scale_id) if d <= today]
    treated = [settings.local_date(at) for r in uow.sessions.for_patient(patient_id)
               if (at := r.session.entered_at(SessionState.DOSING)) is not None]  # fmt: skip
    if not treated:
        raise InvalidAnswerError("patient_id", "no session has been given yet", "a patient with a session")
    given = [d for d in treated if d <= today]
    if not given:
        raise InvalidAnswerError("today", f"{today} is before the first session ({min(treated)})",
                                 f">= {min(treated)}")  # fmt: skip
    return recommend_booster(totals, max(given), today, settings.booster_rules)


def booster_advice(
    uow: UnitOfWork, actor: Actor, patient_id: uuid.UUID, scale_id: str, today: date
) -> BoosterRecommendation:
    """Whether a booster is due by the clinic's booster rules, explained rule by rule."""
    actor.require(Permission.SCALE_READ)
    with uow:
        settings, _ = uow.settings.get()
        advice = rule_booster_advice(uow, settings, patient_id, scale_id, today)
        audit(uow, actor, "read", "booster-advice", patient_id, patient_id, f"recommend={advice.recommend}")
        uow.commit()
    return advice
