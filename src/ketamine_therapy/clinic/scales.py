"""Rating scales: item definitions, scoring, severity bands, flags and outcome rules.

Every rule cites its row in ``docs/references/clinical.md`` §1d ("Rating scales"). Where that file gives
nothing or marks a value UNVERIFIED, the value is left out (``None`` or empty) rather than guessed:

- LOINC codes exist only for PHQ-9 (panel, total, items) and the GAD-7 total; the GAD-7 panel
  code 69737-5 is UNVERIFIED and left out.
- GAD-7 bands: clinical.md gives "cutpoints 5/10/15 = mild/moderate/severe"; 0-4 is "minimal", as on the
  GAD-7 scoring sheet ("0-4: minimal anxiety"; calcipedia.org/calculators/gad-7-calculator).
- PCL-5, C-SSRS and CADSS-6 have no severity bands. The PCL-5 "probable PTSD" cut-off is a range
  (31-33), not one value, and is left out; the provisional DSM-5 diagnosis rule is encoded.
- MADRS item 10 and QIDS-SR16 item 12 (suicidal thoughts) raise no flag: clinical.md gives no such
  rule; the QIDS suicidality domain is exposed instead.
- Remission is defined only for PHQ-9, QIDS-SR16 and MADRS; response (>=50 % drop) only for
  PHQ-9 and MADRS (clinical.md also names HAM-D, which is not encoded here).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise
from types import MappingProxyType
from typing import Literal

from ketamine_therapy.clinic.exceptions import InvalidAnswerError

__all__ = [
    "CSSRS_TRIAGE",
    "MADRS_REMISSION_MAX_ESKETAMINE",
    "SCALES",
    "SRC_CSSRS_TRIAGE",
    "SRC_MADRS_REMISSION",
    "Band",
    "CourseSummary",
    "Domain",
    "Item",
    "Scale",
    "ScaleResult",
    "course_summary",
    "cssrs_triage",
    "get_scale",
    "is_remission",
    "is_response",
    "score",
]


@dataclass(frozen=True)
class Item:
    """One question: its 1-based position, a text-free id, its answer range and LOINC code (if verified)."""

    number: int
    id: str
    min: int
    max: int
    loinc: str | None = None


@dataclass(frozen=True)
class Band:
    """A severity band: totals ``low``..``high`` inclusive are labelled ``label``."""

    low: int
    high: int
    label: str


@dataclass(frozen=True)
class Domain:
    """A named group of items (1-based numbers) combined by ``max`` or ``sum``."""

    name: str
    items: tuple[int, ...]
    combine: Literal["max", "sum"]


@dataclass(frozen=True)
class Scale:
    """A rating scale as far as clinical.md gives it.

    ``total_range`` is ``None`` when the scale has no total (C-SSRS screener). ``remission_max`` is the
    highest total counted as remission (inclusive). ``total_from_domains`` means the total is the sum of
    the domain scores rather than of the items (QIDS-SR16).
    """

    id: str
    name: str
    items: tuple[Item, ...]
    total_range: tuple[int, int] | None
    bands: tuple[Band, ...]
    source: str
    domains: tuple[Domain, ...] = ()
    total_from_domains: bool = False
    loinc_panel: str | None = None
    loinc_total: str | None = None
    remission_max: int | None = None
    has_response_rule: bool = False


@dataclass(frozen=True)
class ScaleResult:
    """A scored questionnaire.

    ``flags`` names safety or screening findings (``suicidality``, ``positive_screen``,
    ``provisional_ptsd``, ``moderate_risk``, ``high_risk``). ``risk_level`` is the C-SSRS screener triage level
    (:data:`CSSRS_TRIAGE`: 0 none, 1 low, 2 moderate, 3 high), ``None`` for other scales.
    """

    scale_id: str
    answers: tuple[int, ...]
    total: int | None
    band: str | None
    flags: frozenset[str] = frozenset()
    domains: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    risk_level: int | None = None


@dataclass(frozen=True)
class CourseSummary:
    """A scale's course over time; lower totals are better on every encoded scale.

    ``percent_change`` is ``(current - baseline) / baseline * 100`` (negative = improvement), ``None``
    when the baseline is 0. Response fields are ``None`` for scales without a response rule, remission
    fields for scales without a remission rule.
    """

    scale_id: str
    baseline: tuple[date, int]
    best: tuple[date, int]
    current: tuple[date, int]
    percent_change: float | None
    in_response: bool | None
    in_remission: bool | None
    response_onset: date | None
    weeks_in_response: float | None


def _items(prefix: str, count: int, low: int, high: int, loinc: Sequence[str | None] | None = None) -> tuple[Item, ...]:
    codes = loinc if loinc is not None else [None] * count
    return tuple(Item(n, f"{prefix}_{n}", low, high, code) for n, code in enumerate(codes, start=1))


# Remission MADRS "<=12 (esketamine trials)" — clinical.md §1d MADRS row (PMC10439056; ASPIRE).
MADRS_REMISSION_MAX_ESKETAMINE = 12
SRC_MADRS_REMISSION = (
    "clinical.md §1d MADRS row: remission MADRS <10 (Hawley 2002, J Affect Disord, PubMed 12200208: 'MADRS <10 "
    "should provide the clinician with a valid ... target for remission'), i.e. total <= 9; the one default of the "
    "clinic, the trial specs (pharmacology.trials.spec.REMISSION_THRESHOLD) and the docs"
)
SRC_CSSRS_TRIAGE = (
    "clinical.md §1d C-SSRS screener (high risk: yes to 4, 5 or 6 in the past 3 months) and the Columbia screener "
    "triage (C-SSRS-Screener-recent-with-triage-colors, NINDS CDE commondataelements.ninds.nih.gov report 137881: "
    "'triage respondents into low, moderate, and high-risk'; ideation with method (Q3) = moderate, behaviour more "
    "than 3 months ago = moderate; jeopardylabs.com/compile/cssrs-suicide-assessment), VERIFIED (secondary)"
)
CSSRS_TRIAGE = ("none", "low", "moderate", "high")
"""Names of the C-SSRS screener triage levels 0-3 (``ScaleResult.risk_level``)."""

_SCALE_LIST = (
    # clinical.md §1d PHQ-9 row: 9 items 0-3, total 0-27, bands, LOINC panel/total/items (all VERIFIED);
    # remission <5 from the "PHQ-9 remission" row (PMC10439056 table 3); response row (>=50 %).
    Scale(
        id="PHQ-9",
        name="Patient Health Questionnaire-9",
        items=_items(
            "phq9",
            9,
            0,
            3,
            ["44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8"],
        ),
        total_range=(0, 27),
        bands=(
            Band(0, 4, "minimal"),
            Band(5, 9, "mild"),
            Band(10, 14, "moderate"),
            Band(15, 19, "moderately severe"),
            Band(20, 27, "severe"),
        ),
        source="clinical.md §1d PHQ-9, PHQ-9 remission, Response",
        loinc_panel="44249-1",
        loinc_total="44261-6",
        remission_max=4,
        has_response_rule=True,
    ),
    # clinical.md §1d GAD-7 row: 7 items 0-3, total 0-21, cutpoints 5/10/15, >=10 positive screen,
    # total LOINC 70274-6 (VERIFIED); panel 69737-5 UNVERIFIED, so left out.
    Scale(
        id="GAD-7",
        name="Generalized Anxiety Disorder-7",
        items=_items("gad7", 7, 0, 3),
        total_range=(0, 21),
        bands=(Band(0, 4, "minimal"), Band(5, 9, "mild"), Band(10, 14, "moderate"), Band(15, 21, "severe")),
        source="clinical.md §1d GAD-7",
        loinc_total="70274-6",
    ),
    # clinical.md §1d QIDS-SR16 row: 16 items 0-3 -> 9 domains, total 0-27, bands, remission <=5 (STAR*D).
    Scale(
        id="QIDS-SR16",
        name="Quick Inventory of Depressive Symptomatology, Self-Report (16 items)",
        items=_items("qids", 16, 0, 3),
        total_range=(0, 27),
        bands=(
            Band(0, 5, "none"),
            Band(6, 10, "mild"),
            Band(11, 15, "moderate"),
            Band(16, 20, "severe"),
            Band(21, 27, "very severe"),
        ),
        source="clinical.md §1d QIDS-SR16",
        domains=(
            Domain("sleep", (1, 2, 3, 4), "max"),
            Domain("sad_mood", (5,), "max"),
            Domain("appetite_weight", (6, 7, 8, 9), "max"),
            Domain("concentration", (10,), "max"),
            Domain("self_view", (11,), "max"),
            Domain("suicidality", (12,), "max"),
            Domain("interest", (13,), "max"),
            Domain("energy", (14,), "max"),
            Domain("psychomotor", (15, 16), "max"),
        ),
        total_from_domains=True,
        remission_max=5,
    ),
    # clinical.md §1d MADRS row: 10 items 0-6, total 0-60, Snaith bands, remission <10 (Hawley 2002;
    # <=12 in esketamine trials, see MADRS_REMISSION_MAX_ESKETAMINE), response >=50 %.
    Scale(
        id="MADRS",
        name="Montgomery-Åsberg Depression Rating Scale",
        items=_items("madrs", 10, 0, 6),
        total_range=(0, 60),
        bands=(Band(0, 6, "normal"), Band(7, 19, "mild"), Band(20, 34, "moderate"), Band(35, 60, "severe")),
        source="clinical.md §1d MADRS, Response",
        remission_max=9,  # SRC_MADRS_REMISSION
        has_response_rule=True,
    ),
    # clinical.md §1d PCL-5 row: 20 items 0-4, total 0-80, clusters B 1-5, C 6-7, D 8-14, E 15-20.
    Scale(
        id="PCL-5",
        name="PTSD Checklist for DSM-5",
        items=_items("pcl5", 20, 0, 4),
        total_range=(0, 80),
        bands=(),
        source="clinical.md §1d PCL-5",
        domains=(
            Domain("cluster_b", (1, 2, 3, 4, 5), "sum"),
            Domain("cluster_c", (6, 7), "sum"),
            Domain("cluster_d", tuple(range(8, 15)), "sum"),
            Domain("cluster_e", tuple(range(15, 21)), "sum"),
        ),
    ),
    # clinical.md §1d C-SSRS screener row: 6 yes/no hierarchical questions; Q2 = no -> skip to Q6; triage
    # low / moderate (Q3, lifetime behaviour) / high (Q4, Q5, behaviour in the past 3 months): SRC_CSSRS_TRIAGE.
    # Q6 asks lifetime / past 3 months: 0 = no, 1 = yes (lifetime, not past 3 months), 2 = yes within past 3 months.
    Scale(
        id="C-SSRS",
        name="Columbia Suicide Severity Rating Scale, screener",
        items=(*_items("cssrs", 5, 0, 1), Item(6, "cssrs_6", 0, 2)),
        total_range=None,
        bands=(),
        source="clinical.md §1d C-SSRS screener",
    ),
    # clinical.md §1d CADSS row: CADSS-6 = items 1, 2, 6, 7, 15, 22 of Bremner's CADSS; items 0-4
    # (the 23-item subjective total 0-92 is VERIFIED; only the anchor wording is UNVERIFIED).
    Scale(
        id="CADSS-6",
        name="Clinician-Administered Dissociative States Scale, 6-item short form",
        items=tuple(Item(n, f"cadss_{orig}", 0, 4) for n, orig in enumerate((1, 2, 6, 7, 15, 22), start=1)),
        total_range=(0, 24),
        bands=(),
        source="clinical.md §1d CADSS",
    ),
)

SCALES: Mapping[str, Scale] = MappingProxyType({s.id: s for s in _SCALE_LIST})


def get_scale(scale_id: str) -> Scale:
    """The scale called ``scale_id``; raises :class:`InvalidAnswerError` for an unknown id."""
    try:
        return SCALES[scale_id]
    except (KeyError, TypeError):
        raise InvalidAnswerError("scale_id", f"unknown scale {scale_id!r}", ", ".join(SCALES)) from None


def _phq9_flags(answers: tuple[int, ...], total: int | None) -> frozenset[str]:
    # clinical.md §1d PHQ-9: item 9 > 0 needs follow-up whatever the total.
    return frozenset({"suicidality"}) if answers[8] > 0 else frozenset()


def _gad7_flags(answers: tuple[int, ...], total: int | None) -> frozenset[str]:
    # clinical.md §1d GAD-7: >=10 positive screen.
    return frozenset({"positive_screen"}) if total is not None and total >= 10 else frozenset()


def _pcl5_flags(answers: tuple[int, ...], total: int | None) -> frozenset[str]:
    # clinical.md §1d PCL-5: provisional diagnosis counts items >=2, needing >=1 B, >=1 C, >=2 D, >=2 E.
    scale = SCALES["PCL-5"]
    needed = {"cluster_b": 1, "cluster_c": 1, "cluster_d": 2, "cluster_e": 2}
    endorsed = {d.name: sum(answers[n - 1] >= 2 for n in d.items) for d in scale.domains}
    return frozenset({"provisional_ptsd"}) if all(endorsed[k] >= v for k, v in needed.items()) else frozenset()


def cssrs_triage(answers: Sequence[int]) -> int:
    """The C-SSRS screener triage level, 0 none, 1 low, 2 moderate, 3 high (:data:`CSSRS_TRIAGE`; SRC_CSSRS_TRIAGE).

    High: yes to question 4 or 5, or suicidal behaviour in the past 3 months (Q6 = 2). Moderate: yes to question 3
    (active ideation with a method), or lifetime behaviour more than 3 months ago (Q6 = 1). Low: yes to 1 or 2 only.
    """
    if answers[3] or answers[4] or answers[5] == 2:
        return 3
    if answers[2] or answers[5] == 1:
        return 2
    return 1 if answers[0] or answers[1] else 0


def _cssrs_flags(answers: tuple[int, ...], total: int | None) -> frozenset[str]:
    level = cssrs_triage(answers)
    return frozenset({"high_risk"} if level == 3 else {"moderate_risk"} if level == 2 else set())


_FLAG_RULES: Mapping[str, Callable[[tuple[int, ...], int | None], frozenset[str]]] = {
    "PHQ-9": _phq9_flags,
    "GAD-7": _gad7_flags,
    "PCL-5": _pcl5_flags,
    "C-SSRS": _cssrs_flags,
}


def _validate_answers(scale: Scale, answers: Sequence[int]) -> tuple[int, ...]:
    if isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
        raise InvalidAnswerError("answers", f"expected a sequence of integers, got {type(answers).__name__}")
    if len(answers) != len(scale.items):
        raise InvalidAnswerError(
            "answers", f"{scale.id} needs {len(scale.items)} answers, got {len(answers)}", f"{len(scale.items)} answers"
        )
    for i, (item, answer) in enumerate(zip(scale.items, answers, strict=True)):
        allowed = f"{item.min}-{item.max}"
        if isinstance(answer, bool) or not isinstance(answer, int):
            raise InvalidAnswerError(f"answers[{i}]", f"expected an integer, got {answer!r}", allowed)
        if not item.min <= answer <= item.max:
            raise InvalidAnswerError(f"answers[{i}]", f"{answer} is out of range", allowed)
    checked = tuple(answers)
    if scale.id == "C-SSRS" and checked[1] == 0:
        # clinical.md §1d C-SSRS screener: Q2 = no -> skip to Q6, so Q3-Q5 are not asked.
        for i in (2, 3, 4):
            if checked[i]:
                raise InvalidAnswerError(f"answers[{i}]", "not asked when question 2 is no (answers[1] = 0)", "0")
    return checked


def _band(scale: Scale, total: int | None) -> str | None:
    if total is None:
        return None
    return next((b.label for b in scale.bands if b.low <= total <= b.high), None)


def score(scale_id: str, answers: Sequence[int]) -> ScaleResult:
    """Score one completed questionnaire (answers in item order); raises :class:`InvalidAnswerError`."""
    scale = get_scale(scale_id)
    checked = _validate_answers(scale, answers)
    domains = {d.name: (max if d.combine == "max" else sum)(checked[n - 1] for n in d.items) for d in scale.domains}
    total: int | None
    if scale.total_range is None:
        total = None
    elif scale.total_from_domains:
        total = sum(domains.values())
    else:
        total = sum(checked)
    rule = _FLAG_RULES.get(scale.id)
    flags = rule(checked, total) if rule else frozenset()
    risk_level = cssrs_triage(checked) if scale.id == "C-SSRS" else None
    return ScaleResult(scale.id, checked, total, _band(scale, total), flags, MappingProxyType(domains), risk_level)


def _check_total(scale: Scale, value: int, name: str) -> None:
    if scale.total_range is None:
        raise InvalidAnswerError("scale_id", f"{scale.id} has no total score")
    low, high = scale.total_range
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidAnswerError(name, f"{value!r} is not a valid {scale.id} total", f"{low}-{high}")


def is_response(baseline_total: int, current_total: int) -> bool:
    """Whether ``current_total`` is a >=50 % reduction from ``baseline_total``.

    Source: clinical.md §1d Response (>=50 % reduction from baseline on MADRS / HAM-D / PHQ-9).
    """
    for name, value in (("baseline_total", baseline_total), ("current_total", current_total)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidAnswerError(name, f"{value!r} is not a valid total", "integer >= 0")
    if baseline_total == 0:
        raise InvalidAnswerError("baseline_total", "a response needs a baseline above 0", "integer >= 1")
    return 2 * current_total <= baseline_total


def is_remission(scale_id: str, total: int, threshold: int | None = None) -> bool:
    """Whether ``total <= threshold``; the default threshold is the scale's remission maximum.

    Defaults (clinical.md §1d): PHQ-9 <5, QIDS-SR16 <=5, MADRS <10 (Hawley 2002; pass
    ``MADRS_REMISSION_MAX_ESKETAMINE`` = 12 for the esketamine-trial rule). Other scales have no
    remission rule in clinical.md and need an explicit ``threshold``.
    """
    scale = get_scale(scale_id)
    _check_total(scale, total, "total")
    if threshold is None:
        if scale.remission_max is None:
            raise InvalidAnswerError("threshold", f"clinical.md gives no remission rule for {scale.id}", "an integer")
        threshold = scale.remission_max
    else:
        _check_total(scale, threshold, "threshold")
    return total <= threshold


def course_summary(scale_id: str, totals_by_date: Sequence[tuple[date, int]]) -> CourseSummary:
    """Summarise totals of one scale over time (``datetime.date`` keys, any order, one total per date).

    Baseline is the earliest total, current the latest, best the lowest (earliest on ties). Weeks in
    response count from the onset of the most recent unbroken run of response that reaches the latest
    date (0.0 when not in response now).
    """
    scale = get_scale(scale_id)
    if not totals_by_date:
        raise InvalidAnswerError("totals_by_date", "needs at least one (date, total)")
    for i, entry in enumerate(totals_by_date):
        if (
            not isinstance(entry, tuple)
            or len(entry) != 2
            or not isinstance(entry[0], date)
            or isinstance(entry[0], datetime)
        ):
            raise InvalidAnswerError(f"totals_by_date[{i}]", f"expected (date, total), got {entry!r}")
        _check_total(scale, entry[1], f"totals_by_date[{i}]")
    course = sorted(totals_by_date, key=lambda e: e[0])
    for (d1, _), (d2, _) in pairwise(course):
        if d1 == d2:
            raise InvalidAnswerError("totals_by_date", f"two totals on {d1.isoformat()}", "one total per date")
    baseline, current = course[0], course[-1]
    best = min(course, key=lambda e: e[1])
    percent = None if baseline[1] == 0 else (current[1] - baseline[1]) / baseline[1] * 100
    in_remission = None if scale.remission_max is None else current[1] <= scale.remission_max
    in_response: bool | None = None
    onset: date | None = None
    weeks: float | None = None
    if scale.has_response_rule and baseline[1] > 0:
        in_response = is_response(baseline[1], current[1])
        weeks = 0.0
        for day, total in reversed(course):
            if not is_response(baseline[1], total):
                break
            onset = day
        if onset is not None:
            weeks = (current[0] - onset).days / 7
    return CourseSummary(scale.id, baseline, best, current, percent, in_response, in_remission, onset, weeks)
