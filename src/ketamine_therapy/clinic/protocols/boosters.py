"""Booster recommendations by the clinic's rules, explaining which rule fired.

The thresholds (worsening, time since the last session) are not in clinical.md and are required clinic
parameters; only the response rule (>=50 % drop from baseline, §1d) is sourced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from ..exceptions import InvalidAnswerError
from ..scales import course_summary, get_scale, is_response
from ._checks import check_int, positive


@dataclass(frozen=True)
class BoosterRules:
    """Clinic thresholds for :func:`recommend_booster`; clinical.md gives none, so there are no defaults.

    Pass ``None`` to switch a rule off. ``worsening_points`` / ``worsening_percent``: how far the current
    total may rise above the best total (percent of the best total). ``max_days_since_session``: longest
    gap after the last treatment session. Loss of response (>=50 % drop from baseline no longer met,
    clinical.md §1d Response) is always checked for scales with a response rule.
    """

    worsening_points: int | None
    worsening_percent: float | None
    max_days_since_session: int | None

    def __post_init__(self) -> None:
        if self.worsening_points is not None:
            check_int("worsening_points", self.worsening_points, 1)
        if self.max_days_since_session is not None:
            check_int("max_days_since_session", self.max_days_since_session, 1)
        pct = self.worsening_percent
        if pct is not None and (isinstance(pct, bool) or not positive(pct)):
            raise InvalidAnswerError("worsening_percent", f"got {pct!r}", "a number > 0")


@dataclass(frozen=True)
class BoosterInputs:
    """The values a booster recommendation was based on."""

    scale_id: str
    baseline: tuple[date, int]
    best: tuple[date, int]
    current: tuple[date, int]
    days_since_last_session: int
    rules: BoosterRules


@dataclass(frozen=True)
class BoosterRecommendation:
    """``recommend`` is true when any rule fired; ``reasons`` explain the rules that fired (or, when none
    did, why each checked rule did not)."""

    recommend: bool
    reasons: list[str]
    inputs: BoosterInputs


def recommend_booster(
    course: Sequence[tuple[date, int, str]],
    last_session: date,
    today: date,
    rules: BoosterRules,
) -> BoosterRecommendation:
    """Recommend a booster session from a scale's course (``(date, total, scale id)``, one scale only).

    Rules: worsening above the best total by ``rules.worsening_points`` or ``rules.worsening_percent``
    (clinic thresholds; a return to the previous schedule when depression worsens is in clinical.md §1a
    Missed doses); loss of response (clinical.md §1d Response, >=50 % drop from baseline); more than
    ``rules.max_days_since_session`` days since ``last_session``.
    """
    if not isinstance(rules, BoosterRules):
        raise InvalidAnswerError("rules", f"got {rules!r}", "a BoosterRules")
    for name, value in (("last_session", last_session), ("today", today)):
        if not isinstance(value, date) or isinstance(value, datetime):
            raise InvalidAnswerError(name, f"got {value!r}", "a datetime.date")
    if last_session > today:
        raise InvalidAnswerError("last_session", f"{last_session.isoformat()} is after today", "<= today")
    if not course:
        raise InvalidAnswerError("course", "needs at least one (date, total, scale id)")
    for i, entry in enumerate(course):
        if not isinstance(entry, tuple) or len(entry) != 3:
            raise InvalidAnswerError(f"course[{i}]", f"expected (date, total, scale id), got {entry!r}")
    scale_ids = {entry[2] for entry in course}
    if len(scale_ids) != 1:
        raise InvalidAnswerError("course", f"mixes scales {sorted(scale_ids, key=str)}", "one scale")
    scale = get_scale(scale_ids.pop())
    if any(entry[0] > today for entry in course):
        raise InvalidAnswerError("course", "has a total dated after today", "dates <= today")
    summary = course_summary(scale.id, [(d, t) for d, t, _ in course])
    base, best, current = summary.baseline[1], summary.best[1], summary.current[1]
    days = (today - last_session).days
    checks: list[tuple[bool, str]] = []
    rise = current - best
    above = f"{scale.id} {current} vs best {best} on {summary.best[0].isoformat()}"
    if rules.worsening_points is not None:
        limit = rules.worsening_points
        checks.append((rise >= limit, f"worsening: {above} is {rise} points up (threshold {limit})"))
    if rules.worsening_percent is not None and best > 0:
        pct, limit_pct = rise / best * 100, rules.worsening_percent
        checks.append((pct >= limit_pct, f"worsening: {above} is {pct:.0f}% up (threshold {limit_pct:g}%)"))
    if scale.has_response_rule and base > 0:
        lost = is_response(base, best) and not is_response(base, current)
        held = is_response(base, current)
        state = "reached and now lost" if lost else ("still met" if held else "never reached")
        checks.append(
            (lost, f"response (>=50% drop from baseline {base}, clinical.md §1d): {state}, current {current}")
        )
    if rules.max_days_since_session is not None:
        limit = rules.max_days_since_session
        checks.append((days > limit, f"{days} days since the last session (maximum {limit})"))
    fired = [text for met, text in checks if met]
    reasons = fired or [f"not met: {text}" for _, text in checks]
    inputs = BoosterInputs(scale.id, summary.baseline, summary.best, summary.current, days, rules)
    return BoosterRecommendation(bool(fired), reasons, inputs)
