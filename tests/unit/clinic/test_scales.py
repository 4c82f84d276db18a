"""Rating scales: worked examples, band edges, flags, validation and outcome rules.

Every rule tested here comes from ``docs/references/clinical.md`` §1d ("Rating scales").
"""

from __future__ import annotations

import pickle
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketamine_therapy.clinic import (
    MADRS_REMISSION_MAX_ESKETAMINE,
    SCALES,
    ClinicError,
    InvalidAnswerError,
    Scale,
    course_summary,
    get_scale,
    is_remission,
    is_response,
    score,
)


def _answers_for_total(scale: Scale, total: int) -> list[int]:
    """Answers reaching ``total``, filling items in order (for QIDS-SR16 only each domain's first item)."""
    answers = [0] * len(scale.items)
    fillable = [d.items[0] for d in scale.domains] if scale.total_from_domains else [i.number for i in scale.items]
    left = total
    for n in fillable:
        answers[n - 1] = min(left, scale.items[n - 1].max)
        left -= answers[n - 1]
    assert left == 0
    return answers


BAND_EDGES = [
    (scale.id, edge, band.label)
    for scale in SCALES.values()
    for band in scale.bands
    for edge in sorted({band.low, band.high})
]


@pytest.mark.parametrize(("scale_id", "total", "label"), BAND_EDGES)
def test_band_at_every_edge(scale_id: str, total: int, label: str) -> None:
    """Bands (clinical.md §1d): PHQ-9 0-4/5-9/10-14/15-19/20-27; GAD-7 cutpoints 5/10/15;
    QIDS-SR16 0-5/6-10/11-15/16-20/21-27; MADRS (Snaith) 0-6/7-19/20-34/35-60."""
    result = score(scale_id, _answers_for_total(SCALES[scale_id], total))
    assert (result.total, result.band) == (total, label)


@pytest.mark.parametrize("scale", [s for s in SCALES.values() if s.bands], ids=lambda s: s.id)
def test_bands_tile_the_total_range(scale: Scale) -> None:
    assert scale.total_range is not None
    assert scale.bands[0].low == scale.total_range[0]
    assert scale.bands[-1].high == scale.total_range[1]
    for lower, upper in zip(scale.bands, scale.bands[1:], strict=False):
        assert upper.low == lower.high + 1


def test_structure_matches_clinical_md() -> None:
    """Item counts and ranges (clinical.md §1d); CADSS-6 = CADSS items 1, 2, 6, 7, 15, 22."""
    shape = {s.id: (len(s.items), {(i.min, i.max) for i in s.items}, s.total_range) for s in SCALES.values()}
    assert shape == {
        "PHQ-9": (9, {(0, 3)}, (0, 27)),
        "GAD-7": (7, {(0, 3)}, (0, 21)),
        "QIDS-SR16": (16, {(0, 3)}, (0, 27)),
        "MADRS": (10, {(0, 6)}, (0, 60)),
        "PCL-5": (20, {(0, 4)}, (0, 80)),
        "C-SSRS": (6, {(0, 1), (0, 2)}, None),
        "CADSS-6": (6, {(0, 4)}, (0, 24)),
    }
    assert [i.id for i in SCALES["CADSS-6"].items] == [f"cadss_{n}" for n in (1, 2, 6, 7, 15, 22)]


def test_loinc_codes_only_where_verified() -> None:
    """PHQ-9 panel 44249-1, total 44261-6, item codes; GAD-7 total 70274-6 (panel 69737-5 UNVERIFIED)."""
    phq9 = get_scale("PHQ-9")
    assert (phq9.loinc_panel, phq9.loinc_total) == ("44249-1", "44261-6")
    assert [i.loinc for i in phq9.items] == [
        "44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8",
    ]  # fmt: skip
    gad7 = get_scale("GAD-7")
    assert (gad7.loinc_panel, gad7.loinc_total) == (None, "70274-6")
    others = [s for s in SCALES.values() if s.id not in {"PHQ-9", "GAD-7"}]
    assert all(s.loinc_panel is None and s.loinc_total is None for s in others)
    assert all(i.loinc is None for s in SCALES.values() if s.id != "PHQ-9" for i in s.items)


def test_phq9_worked_example_and_item9_flag_with_low_total() -> None:
    """PHQ-9 item 9 > 0 needs follow-up whatever the total (clinical.md §1d)."""
    result = score("PHQ-9", [1, 1, 1, 1, 1, 1, 1, 1, 0])
    assert (result.total, result.band, result.flags) == (8, "mild", frozenset())
    low = score("PHQ-9", [0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert (low.total, low.band, low.flags) == (1, "minimal", frozenset({"suicidality"}))
    assert low.answers == (0, 0, 0, 0, 0, 0, 0, 0, 1)


def test_gad7_positive_screen_at_10() -> None:
    """GAD-7 >=10 positive screen (clinical.md §1d)."""
    assert score("GAD-7", [3, 3, 3, 1, 0, 0, 0]).flags == frozenset({"positive_screen"})
    assert score("GAD-7", [3, 3, 3, 0, 0, 0, 0]).flags == frozenset()


def test_qids_domains_take_maxima() -> None:
    """QIDS-SR16: sleep = max(1-4), appetite/weight = max(6-9), psychomotor = max(15, 16) (clinical.md §1d)."""
    answers = [1, 3, 0, 2, 2, 0, 2, 1, 0, 1, 1, 1, 2, 2, 1, 2]
    result = score("QIDS-SR16", answers)
    assert dict(result.domains) == {
        "sleep": 3,
        "sad_mood": 2,
        "appetite_weight": 2,
        "concentration": 1,
        "self_view": 1,
        "suicidality": 1,
        "interest": 2,
        "energy": 2,
        "psychomotor": 2,
    }
    assert (result.total, result.band) == (16, "severe")
    assert sum(answers) == 21  # the total is not the item sum
    assert result.flags == frozenset()  # clinical.md gives no item-12 flag rule


def test_madrs_worked_example_without_item10_flag() -> None:
    """MADRS 10 items 0-6, Snaith bands; clinical.md gives no item-10 flag rule."""
    result = score("MADRS", [4, 4, 3, 4, 2, 3, 3, 2, 2, 6])
    assert (result.total, result.band, result.flags) == (33, "moderate", frozenset())


def test_pcl5_clusters_and_provisional_diagnosis() -> None:
    """PCL-5 clusters B 1-5, C 6-7, D 8-14, E 15-20; provisional: items >=2, needing 1 B, 1 C, 2 D, 2 E."""
    answers = [2, 0, 0, 0, 0, 3, 0, 2, 4, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 1]
    result = score("PCL-5", answers)
    assert dict(result.domains) == {"cluster_b": 2, "cluster_c": 3, "cluster_d": 6, "cluster_e": 5}
    assert (result.total, result.band, result.flags) == (16, None, frozenset({"provisional_ptsd"}))
    one_d = [*answers[:8], 1, *answers[9:]]  # only one D item >= 2
    assert score("PCL-5", one_d).flags == frozenset()


@pytest.mark.parametrize(
    ("answers", "risk_level", "high_risk"),
    [
        ([0, 0, 0, 0, 0, 0], 0, False),
        ([1, 0, 0, 0, 0, 0], 1, False),
        ([1, 1, 1, 0, 0, 0], 2, False),  # ideation with a method: moderate
        ([1, 1, 1, 1, 0, 0], 3, True),
        ([1, 1, 1, 1, 1, 0], 3, True),
        ([0, 0, 0, 0, 0, 1], 2, False),  # behaviour over 3 months ago: moderate
        ([0, 0, 0, 0, 0, 2], 3, True),  # behaviour in the past 3 months
    ],
)
def test_cssrs_risk(answers: list[int], risk_level: int, high_risk: bool) -> None:
    """C-SSRS screener triage 0-3; high risk if yes to 4, 5 or 6 (past 3 months) (clinical.md §1d)."""
    result = score("C-SSRS", answers)
    assert (result.total, result.band, result.risk_level) == (None, None, risk_level)
    assert ("high_risk" in result.flags) is high_risk


def test_cssrs_skip_rule() -> None:
    """C-SSRS: Q2 = no skips to Q6, so Q3-Q5 cannot be yes (clinical.md §1d)."""
    with pytest.raises(InvalidAnswerError) as info:
        score("C-SSRS", [1, 0, 1, 0, 0, 0])
    assert info.value.field == "answers[2]"


def test_cadss6_total() -> None:
    """CADSS-6 items 0-4 summed (clinical.md §1d CADSS); no bands or flags are given."""
    result = score("CADSS-6", [4, 0, 1, 2, 3, 0])
    assert (result.total, result.band, result.flags, result.risk_level) == (10, None, frozenset(), None)


@pytest.mark.parametrize(
    ("scale_id", "answers", "field", "allowed"),
    [
        ("PHQ-9", [0] * 8, "answers", "9 answers"),
        ("PHQ-9", [0, 0, 0, 4, 0, 0, 0, 0, 0], "answers[3]", "0-3"),
        ("PHQ-9", [0, 0, 0, 0, 0, 0, 0, 0, -1], "answers[8]", "0-3"),
        ("PHQ-9", [0, 0, 0, 1.0, 0, 0, 0, 0, 0], "answers[3]", "0-3"),
        ("PHQ-9", [0, 0, 0, True, 0, 0, 0, 0, 0], "answers[3]", "0-3"),
        ("MADRS", [0] * 9 + [7], "answers[9]", "0-6"),
        ("C-SSRS", [0, 0, 0, 0, 0, 3], "answers[5]", "0-2"),
        ("PHQ-9", "000000000", "answers", None),
        ("HAM-D", [0] * 17, "scale_id", ", ".join(SCALES)),
    ],
)
def test_invalid_answers_name_the_field(scale_id: str, answers: list[int], field: str, allowed: str | None) -> None:
    before = list(answers)
    with pytest.raises(InvalidAnswerError) as info:
        score(scale_id, answers)
    assert (info.value.field, info.value.allowed) == (field, allowed)
    assert str(info.value).startswith(f"{field}: ")
    assert list(answers) == before


def test_error_type_format_and_pickle() -> None:
    error = InvalidAnswerError("answers[8]", "4 is out of range", "0-3")
    assert isinstance(error, ClinicError)
    assert isinstance(error, ValueError)
    assert str(error) == "answers[8]: 4 is out of range (allowed: 0-3)"
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


def test_is_response_at_50_percent() -> None:
    """Response = >=50 % reduction from baseline (clinical.md §1d Response)."""
    assert is_response(30, 15)
    assert not is_response(30, 16)
    assert is_response(21, 10)
    assert not is_response(21, 11)
    with pytest.raises(InvalidAnswerError, match="baseline_total"):
        is_response(0, 0)
    with pytest.raises(InvalidAnswerError, match="current_total"):
        is_response(10, -1)


def test_is_remission_defaults_and_thresholds() -> None:
    """PHQ-9 <5; QIDS-SR16 <=5 (STAR*D); MADRS <10 (Hawley 2002) or <=12 (esketamine trials) (clinical.md §1d)."""
    assert is_remission("PHQ-9", 4)
    assert not is_remission("PHQ-9", 5)
    assert is_remission("QIDS-SR16", 5)
    assert not is_remission("QIDS-SR16", 6)
    assert is_remission("MADRS", 9)
    assert not is_remission("MADRS", 10)
    assert is_remission("MADRS", 12, threshold=MADRS_REMISSION_MAX_ESKETAMINE)
    assert not is_remission("MADRS", 13, threshold=MADRS_REMISSION_MAX_ESKETAMINE)
    with pytest.raises(InvalidAnswerError, match="threshold"):
        is_remission("GAD-7", 3)
    assert is_remission("GAD-7", 3, threshold=4)
    with pytest.raises(InvalidAnswerError, match="total"):
        is_remission("PHQ-9", 28)
    with pytest.raises(InvalidAnswerError, match="no total"):
        is_remission("C-SSRS", 0, threshold=0)


def test_course_summary_madrs() -> None:
    """MADRS course: response >=50 % from baseline, remission <10 (clinical.md §1d)."""
    totals = [
        (date(2025, 1, 22), 14),  # response (<= 17)
        (date(2025, 1, 1), 34),  # baseline
        (date(2025, 1, 8), 16),  # response onset of an earlier run
        (date(2025, 1, 15), 20),  # run broken
        (date(2025, 1, 29), 8),  # best, remission
    ]
    summary = course_summary("MADRS", totals)
    assert summary.baseline == (date(2025, 1, 1), 34)
    assert summary.best == summary.current == (date(2025, 1, 29), 8)
    assert summary.percent_change == pytest.approx(-76.470588, rel=1e-6)
    assert (summary.in_response, summary.in_remission) == (True, True)
    assert summary.response_onset == date(2025, 1, 22)
    assert summary.weeks_in_response == pytest.approx(1.0)


def test_course_summary_edge_cases() -> None:
    not_responding = course_summary("PHQ-9", [(date(2025, 1, 1), 20), (date(2025, 2, 1), 12)])
    assert (not_responding.in_response, not_responding.response_onset, not_responding.weeks_in_response) == (
        False,
        None,
        0.0,
    )
    assert not_responding.in_remission is False
    zero = course_summary("PHQ-9", [(date(2025, 1, 1), 0)])
    assert (zero.percent_change, zero.in_response, zero.in_remission) == (None, None, True)
    gad7 = course_summary("GAD-7", [(date(2025, 1, 1), 12), (date(2025, 1, 8), 4)])
    assert (gad7.in_response, gad7.in_remission, gad7.weeks_in_response) == (None, None, None)
    assert gad7.percent_change == pytest.approx(-66.666667, rel=1e-6)


@pytest.mark.parametrize(
    ("totals", "field"),
    [
        ([], "totals_by_date"),
        ([(date(2025, 1, 1), 10), (date(2025, 1, 1), 9)], "totals_by_date"),
        ([(date(2025, 1, 1), 10), (date(2025, 1, 8), 28)], "totals_by_date[1]"),
        ([(datetime(2025, 1, 1, 9, 0), 10)], "totals_by_date[0]"),  # noqa: DTZ001 - naive on purpose: rejected
    ],
)
def test_course_summary_rejects_bad_input(totals: list[tuple[date, int]], field: str) -> None:
    with pytest.raises(InvalidAnswerError) as info:
        course_summary("PHQ-9", totals)
    assert info.value.field == field


@st.composite
def _scale_and_answers(draw: st.DrawFn) -> tuple[Scale, list[int]]:
    scale = draw(st.sampled_from(list(SCALES.values())))
    answers = [draw(st.integers(item.min, item.max)) for item in scale.items]
    if scale.id == "C-SSRS" and answers[1] == 0:
        answers[2:5] = [0, 0, 0]  # clinical.md §1d: Q2 = no skips to Q6
    return scale, answers


@given(_scale_and_answers())
def test_random_valid_answers_score_in_range(case: tuple[Scale, list[int]]) -> None:
    scale, answers = case
    result = score(scale.id, answers)
    if scale.total_range is None:
        assert result.total is None
    else:
        assert result.total is not None
        assert scale.total_range[0] <= result.total <= scale.total_range[1]
    assert (result.band is not None) is bool(scale.bands)
    assert result.answers == tuple(answers)
