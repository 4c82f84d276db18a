"""A protocol laid out on the clinic's calendar: sessions on opening days, each with its integration session.

clinical.md states no minimum spacing between twice-weekly sessions, so sessions only keep their order, fall on
distinct days and stay inside their study week (the protocol's frequency is per week).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..exceptions import ClinicError, InvalidAnswerError
from ._checks import check_int
from .templates import Protocol

_INTEGRATION_DAYS = (1, 2, 3)  # 24-72 h after a session, same time of day (DESIGN §4; clinical.md §2a, §4).


@dataclass(frozen=True)
class PlannedSession:
    """One treatment session on a real date, with its integration-therapy session 24-72 h later."""

    number: int
    step: int
    study_week: int
    nominal_day: date
    day: date
    dose_mg: float | None
    dose_mg_per_kg: float | None
    duration_min: float | None
    integration_day: date


@dataclass(frozen=True)
class TreatmentPlan:
    """A protocol laid out on the calendar from ``start``."""

    protocol: Protocol
    start: date
    sessions: tuple[PlannedSession, ...]


def plan_sessions(
    protocol: Protocol,
    start: date,
    opening_days: Iterable[int],
    holidays: Iterable[date] = (),
    *,
    through_week: int | None = None,
) -> TreatmentPlan:
    """Put ``protocol``'s sessions on dates from ``start`` (study day 1).

    ``opening_days`` are weekdays the clinic is open (0 = Monday .. 6 = Sunday); ``holidays`` are closed
    dates. A session on a closed day moves to the next opening day after the previous session and must
    stay in its study week. Each session gets an integration-therapy date 1-3 days later (24-72 h,
    DESIGN §4) on an opening day. Ongoing steps run to ``through_week`` (default: the last week of the
    steps that end). Raises :class:`InvalidAnswerError` for bad inputs, :class:`ClinicError` when the
    calendar cannot hold the plan.
    """
    if not isinstance(protocol, Protocol):
        raise InvalidAnswerError("protocol", f"got {protocol!r}", "a Protocol")
    if not isinstance(start, date) or isinstance(start, datetime):
        raise InvalidAnswerError("start", f"got {start!r}", "a datetime.date")
    open_days = set(opening_days)
    if not open_days or any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in open_days):
        raise InvalidAnswerError("opening_days", f"got {sorted(open_days, key=str)!r}", "weekdays 0 (Mon) - 6 (Sun)")
    closed = set(holidays)
    for day in closed:
        if not isinstance(day, date) or isinstance(day, datetime):
            raise InvalidAnswerError("holidays", f"got {day!r}", "datetime.date values")
    if not protocol.steps:
        raise ClinicError(f"protocol {protocol.id!r} has no steps; add them with with_changes(steps=...)")
    horizon = protocol.last_fixed_week if through_week is None else through_week
    check_int("through_week", horizon, 1)

    def is_open(day: date) -> bool:
        return day.weekday() in open_days and day not in closed

    sessions: list[PlannedSession] = []
    previous: date | None = None
    for index, step in enumerate(protocol.steps):
        dose_mg = step.dose_mg if step.first_dose_mg is None else step.first_dose_mg
        for week in step.weeks(horizon):
            week_start = start + timedelta(days=7 * (week - 1))
            for offset in step.week_days:
                nominal = week_start + timedelta(days=offset)
                earliest = nominal if previous is None else max(nominal, previous + timedelta(days=1))
                room = range((week_start + timedelta(days=7) - earliest).days)
                actual = next(
                    (earliest + timedelta(days=k) for k in room if is_open(earliest + timedelta(days=k))), None
                )
                if actual is None:
                    raise ClinicError(
                        f"session {len(sessions) + 1} (study week {week}, nominal {nominal.isoformat()}) has no "
                        "opening day left in its study week"
                    )
                integration = next(
                    (actual + timedelta(days=k) for k in _INTEGRATION_DAYS if is_open(actual + timedelta(days=k))), None
                )
                if integration is None:
                    raise ClinicError(
                        f"session {len(sessions) + 1} on {actual.isoformat()}: no opening day 24-72 h later for "
                        "integration therapy"
                    )
                sessions.append(
                    PlannedSession(
                        number=len(sessions) + 1,
                        step=index,
                        study_week=week,
                        nominal_day=nominal,
                        day=actual,
                        dose_mg=dose_mg,
                        dose_mg_per_kg=step.dose_mg_per_kg,
                        duration_min=step.duration_min,
                        integration_day=integration,
                    )
                )
                previous = actual
                dose_mg = step.dose_mg
    return TreatmentPlan(protocol, start, tuple(sessions))
