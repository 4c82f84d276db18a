"""Screening: TRD status, Maudsley and Thase–Rush staging, hard stops and precautions per route.

Sources are rows of docs/references/clinical.md, cited in each test's docstring.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ketamine_therapy.clinic.exceptions import InvalidAnswerError
from ketamine_therapy.clinic.screening import (
    CONDITIONS,
    MEDICATIONS,
    AntidepressantTrial,
    Response,
    Route,
    ScreeningInput,
    Severity,
    maudsley_stage,
    screen,
    thase_rush_stage,
    trd_status,
)


def trial(
    drug_class: str = "ssri",
    response: Response = "none",
    *,
    dose_adequate: bool = True,
    adequate_duration: bool = True,
    current: bool = True,
) -> AntidepressantTrial:
    return AntidepressantTrial(
        drug=f"a {drug_class}",
        drug_class=drug_class,
        dose_adequate=dose_adequate,
        weeks=8,
        adequate_duration=adequate_duration,
        response=response,
        in_current_episode=current,
    )


def patient(
    *trials: AntidepressantTrial,
    route: Route = "intranasal-esketamine",
    conditions: frozenset[str] = frozenset(),
    medications: frozenset[str] = frozenset(),
) -> ScreeningInput:
    return ScreeningInput(
        episode_months=6,
        severity="moderate",
        trials=trials or (trial(), trial("snri")),
        augmentation_used=False,
        ect_used=False,
        route=route,
        conditions=conditions,
        medications=medications,
    )


# --- TRD -------------------------------------------------------------------------------------------------


def test_trd_needs_two_failed_adequate_trials_in_current_episode() -> None:
    """clinical.md §1c 'TRD (operational)': failure of ≥2 antidepressants of adequate dose and duration in the
    current episode; §1d 'Response': ≥50% reduction, so "partial" is a failure."""
    assert trd_status([trial(), trial("snri", "partial")]) == (True, 2)
    assert trd_status([trial()]) == (False, 1)
    assert trd_status([trial(), trial(current=False)]) == (False, 1)
    assert trd_status([trial(), trial(dose_adequate=False)]) == (False, 1)
    assert trd_status([trial(), trial(adequate_duration=False)]) == (False, 1)
    assert trd_status([trial(), trial("snri", "response"), trial("tca", "remission")]) == (False, 1)


# --- Maudsley --------------------------------------------------------------------------------------------


def test_maudsley_minimum_and_maximum() -> None:
    """clinical.md §1c 'Maudsley Staging Method' (Fekadu 2018, Table 3): total 3–15."""
    low = replace(patient(trial()), episode_months=12, severity="subsyndromal")
    assert maudsley_stage(low) == (3, "mild", 1, 1, 1, 0, 0)
    high = ScreeningInput(25, "severe-psychotic", (trial(),) * 11, True, True, "iv")
    assert maudsley_stage(high) == (15, "severe", 3, 5, 5, 1, 1)


@pytest.mark.parametrize(("months", "points"), [(0, 1), (12, 1), (13, 2), (24, 2), (25, 3)], ids=lambda v: str(v))
def test_maudsley_duration_points(months: int, points: int) -> None:
    """clinical.md §1c Maudsley: duration ≤12 months = 1, 13–24 = 2, >24 = 3."""
    stage = maudsley_stage(replace(patient(trial()), episode_months=months))
    assert stage is not None
    assert stage.duration_points == points


@pytest.mark.parametrize(
    ("severity", "points"),
    [("subsyndromal", 1), ("mild", 2), ("moderate", 3), ("severe", 4), ("severe-psychotic", 5)],
)
def test_maudsley_severity_points(severity: Severity, points: int) -> None:
    """clinical.md §1c Maudsley: subsyndromal 1, mild 2, moderate 3, severe 4, severe with psychosis 5."""
    stage = maudsley_stage(replace(patient(trial()), severity=severity))
    assert stage is not None
    assert stage.severity_points == points


@pytest.mark.parametrize(
    ("failures", "points"), [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (6, 3), (7, 4), (10, 4), (11, 5)]
)
def test_maudsley_failure_points(failures: int, points: int) -> None:
    """clinical.md §1c Maudsley: antidepressants 1–2 = 1, 3–4 = 2, 5–6 = 3, 7–10 = 4, >10 = 5."""
    stage = maudsley_stage(patient(*(trial(),) * failures))
    assert stage is not None
    assert stage.failure_points == points


def test_maudsley_no_failed_trial_is_not_scored() -> None:
    """clinical.md §1c Maudsley gives failure points only from 1 failed antidepressant."""
    assert maudsley_stage(patient(trial(response="response"))) is None


@pytest.mark.parametrize(
    ("months", "severity", "augmentation", "ect", "score", "band", "above_cutoff"),
    [
        (6, "moderate", True, False, 6, "mild", False),
        (6, "moderate", True, True, 7, "moderate", False),
        (6, "severe", True, True, 8, "moderate", True),
        (25, "severe-psychotic", False, True, 10, "moderate", True),
        (25, "severe-psychotic", True, True, 11, "severe", True),
    ],
)
def test_maudsley_band_edges(
    months: int, severity: Severity, augmentation: bool, ect: bool, score: int, band: str, above_cutoff: bool
) -> None:
    """clinical.md §1c Maudsley: mild 3–6, moderate 7–10, severe 11–15; TRD vs non-TRD cut-off 7.5;
    augmentation +1, ECT +1 (one failed trial = 1 point)."""
    data = ScreeningInput(months, severity, (trial(),), augmentation, ect, "iv")
    stage = maudsley_stage(data)
    assert stage is not None
    assert (stage.score, stage.band, stage.above_trd_cutoff) == (score, band, above_cutoff)


# --- Thase–Rush ------------------------------------------------------------------------------------------

FOUR_CLASSES = (trial("ssri"), trial("snri"), trial("tca"), trial("maoi"))


@pytest.mark.parametrize(
    ("trials", "ect", "stage"),
    [
        ((), False, None),
        ((trial(dose_adequate=False),), False, None),
        ((trial(response="response"),), False, 0),
        ((trial(), trial()), False, 1),
        ((trial("ssri"), trial("snri")), False, 2),
        ((trial("ssri"), trial("tca")), False, 2),
        ((trial("ssri"), trial("snri"), trial("tca")), False, 3),
        ((trial("ssri"), trial("snri"), trial("maoi")), False, 2),
        (FOUR_CLASSES, False, 4),
        (FOUR_CLASSES, True, 5),
        ((trial("ssri"), trial("snri"), trial("tca")), True, 3),
    ],
)
def test_thase_rush_stages(trials: tuple[AntidepressantTrial, ...], ect: bool, stage: int | None) -> None:
    """clinical.md §1c 'Thase–Rush': 0 responded; I ≥1 class failed; II + a distinctly different class;
    III + a TCA; IV + an MAOI; V + a failed course of bilateral ECT (each stage adds a further failure)."""
    assert thase_rush_stage(trials, ect) == stage


# --- Esketamine (intranasal) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "rule_id"),
    [
        ("aneurysmal-vascular-disease", "esk-ci-aneurysm"),
        ("arteriovenous-malformation", "esk-ci-avm"),
        ("intracerebral-haemorrhage", "esk-ci-ich"),
        ("hypersensitivity-ketamine", "esk-ci-hypersensitivity"),
        ("bp-or-icp-rise-serious-risk", "esk-ci-bp-icp"),
    ],
)
def test_esketamine_hard_stops(condition: str, rule_id: str) -> None:
    """clinical.md §1a 'Contraindications (label)' (usmedicine 30.html) and 'Hard contraindication for BP'
    (2019 label §5.6): aneurysmal vascular disease or AVM, intracerebral haemorrhage, hypersensitivity, and
    a BP or intracranial-pressure rise posing a serious risk."""
    report = screen(patient(conditions=frozenset({condition})))
    assert [f.rule_id for f in report.hard_stops] == [rule_id]
    assert report.precautions == report.unassessed == ()
    assert condition in report.hard_stops[0].message
    assert "clinical.md §1a" in report.hard_stops[0].source


@pytest.mark.parametrize(
    ("name", "rule_id", "source"),
    [
        ("psychosis", "esk-pr-psychosis", "§5.2"),
        ("pregnancy", "esk-pr-pregnancy", "§17"),
        ("breastfeeding", "esk-pr-breastfeeding", "§17"),
        ("uncontrolled-hypertension", "esk-pr-hypertension", "§5.6"),
        ("benzodiazepine", "esk-med-cns-depressant", "Interactions to flag"),
        ("sedative-hypnotic", "esk-med-cns-depressant", "Interactions to flag"),
        ("psychostimulant", "esk-med-psychostimulant", "Interactions to flag"),
        ("maoi", "esk-med-maoi", "Interactions to flag"),
    ],
)
def test_esketamine_precautions(name: str, rule_id: str, source: str) -> None:
    """clinical.md §1a: psychosis (label §5.2), pregnancy / do not breastfeed (label §17), BP (label §5.6),
    CNS depressants, psychostimulants and MAOIs ('Interactions to flag', label §7; REMS PMF fields)."""
    given = frozenset({name})
    report = screen(patient(medications=given) if name in MEDICATIONS else patient(conditions=given))
    assert report.hard_stops == report.unassessed == ()
    assert [f.rule_id for f in report.precautions] == [rule_id]
    assert source in report.precautions[0].source


# --- Racemic ketamine (IV, IM) ---------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["iv", "im"])
def test_racemic_precautions_and_no_label_hard_stops(route: Route) -> None:
    """clinical.md §1b 'Typical exclusion list' (PMC10812090, one protocol) and 'Consumer-program exclusions'
    (Better U) are documented decisions, not contraindications: clinical.md has no racemic-ketamine label."""
    names = frozenset({"psychosis", "pregnancy", "uncontrolled-hypertension", "substance-use-disorder"})
    report = screen(patient(route=route, conditions=names, medications=frozenset({"benzodiazepine"})))
    assert report.hard_stops == ()
    assert {f.rule_id for f in report.precautions} == {
        "rk-pr-psychosis",
        "rk-pr-pregnancy",
        "rk-pr-hypertension",
        "rk-pr-substance",
        "rk-med-benzodiazepine",
    }
    benzo = next(f for f in report.precautions if f.rule_id == "rk-med-benzodiazepine")
    assert "3 mg" in benzo.message
    assert "PMC10812090" in benzo.source


def test_racemic_aneurysm_is_a_precaution_not_a_hard_stop() -> None:
    """clinical.md §1b Better U lists aneurysmal vascular disease among unstable conditions it excludes;
    only the esketamine label (§1a) makes it a contraindication."""
    report = screen(patient(route="iv", conditions=frozenset({"aneurysmal-vascular-disease"})))
    assert [f.rule_id for f in report.precautions] == ["rk-pr-unstable-medical"]
    assert report.hard_stops == ()


def test_items_without_a_source_for_the_route_are_unassessed() -> None:
    """clinical.md is silent on AVM, intracerebral haemorrhage and MAOIs for IV ketamine and on substance use
    and mania for esketamine: they are reported for review, never silently dropped."""
    iv = screen(
        patient(
            route="iv",
            conditions=frozenset({"arteriovenous-malformation", "intracerebral-haemorrhage"}),
            medications=frozenset({"maoi"}),
        )
    )
    assert iv.hard_stops == iv.precautions == ()
    assert [f.rule_id for f in iv.unassessed] == [
        "unassessed-arteriovenous-malformation",
        "unassessed-intracerebral-haemorrhage",
        "unassessed-maoi",
    ]
    esk = screen(patient(conditions=frozenset({"substance-use-disorder", "mania"})))
    assert {f.rule_id for f in esk.unassessed} == {"unassessed-substance-use-disorder", "unassessed-mania"}


def test_report_carries_trd_and_stages() -> None:
    """clinical.md §1c: TRD, Maudsley and Thase–Rush on one report."""
    report = screen(patient())
    assert report.route == "intranasal-esketamine"
    assert report.trd == (True, 2)
    assert report.maudsley is not None
    assert report.maudsley.score == 1 + 3 + 1
    assert report.thase_rush == 2


def test_vocabularies_are_disjoint() -> None:
    """Conditions and medications share one rule table, so their names must not overlap."""
    assert not CONDITIONS.keys() & MEDICATIONS.keys()


# --- Errors name the field -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "allowed"),
    [
        ({"conditions": frozenset({"headache"})}, "ScreeningInput.conditions", "psychosis"),
        ({"medications": frozenset({"opioid"})}, "ScreeningInput.medications", "psychostimulant"),
        ({"route": "oral"}, "ScreeningInput.route", "intranasal-esketamine"),
        ({"severity": "extreme"}, "ScreeningInput.severity", "severe-psychotic"),
        ({"episode_months": -1}, "ScreeningInput.episode_months", ">= 0"),
        ({"episode_months": 1.5}, "ScreeningInput.episode_months", ">= 0"),
        ({"bilateral_ect_failed": True}, "ScreeningInput.bilateral_ect_failed", None),
    ],
)
def test_input_errors_name_the_field(changes: dict[str, Any], field: str, allowed: str | None) -> None:
    """Unknown names and out-of-range inputs raise a ValueError naming the field and the allowed values."""
    with pytest.raises(InvalidAnswerError) as info:
        replace(patient(), **changes)
    assert isinstance(info.value, ValueError)
    assert info.value.field == field
    assert str(info.value).startswith(field)
    if allowed is not None:
        assert info.value.allowed is not None
        assert allowed in info.value.allowed


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"drug_class": "herbal"}, "AntidepressantTrial.drug_class"),
        ({"response": "good"}, "AntidepressantTrial.response"),
        ({"weeks": -2}, "AntidepressantTrial.weeks"),
        ({"drug": " "}, "AntidepressantTrial.drug"),
    ],
)
def test_trial_errors_name_the_field(changes: dict[str, Any], field: str) -> None:
    """Trial inputs are validated like screening inputs."""
    with pytest.raises(InvalidAnswerError, match=f"^{field}"):
        replace(trial(), **changes)
