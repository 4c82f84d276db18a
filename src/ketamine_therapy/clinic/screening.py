"""Screening before ketamine / esketamine treatment: TRD status, staging, hard stops and precautions.

Every rule cites its row in ``docs/references/clinical.md`` (``SRC_*`` constants and the ``_RULES``
table). Where clinical.md is silent or UNVERIFIED for a route, no rule is encoded: the condition or
medication is reported in :attr:`ScreeningReport.unassessed` so a clinician reviews it by hand.
Decision support only: the clinician makes the decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, get_args

from ketamine_therapy.clinic.exceptions import InvalidAnswerError

Response = Literal["none", "partial", "response", "remission"]
Severity = Literal["subsyndromal", "mild", "moderate", "severe", "severe-psychotic"]
Route = Literal["intranasal-esketamine", "iv", "im"]
MaudsleyBand = Literal["mild", "moderate", "severe"]
Indication = Literal["trd", "mdsi"]
"""Treatment-resistant depression, or MDD with acute suicidal ideation or behaviour (esketamine's two indications)."""

SRC_TRD = (
    "clinical.md §1c 'TRD (operational)' (SUSTAIN-3, Springer 10.1007/s40263-023-01026-3; PMC11193313) and §1b "
    "'Public-sector TRD definition' (PMC11193313), VERIFIED"
)
SRC_RESPONSE = "clinical.md §1d 'Response': ≥50% reduction from baseline (Talati 2019; PMC10439056), VERIFIED"
SRC_MAUDSLEY = "clinical.md §1c 'Maudsley Staging Method' (Fekadu 2018 BMC Psychiatry, Table 3), VERIFIED"
SRC_THASE_RUSH = (
    "clinical.md §1c 'Thase–Rush' (medicalalgorithms.com/treatment-resistant-depression-strategies), VERIFIED"
)
SRC_ESK_CI = "clinical.md §1a 'Contraindications (label)' (usmedicine.com 2021online-dir 30.html), VERIFIED"
SRC_ESK_BP_CI = "clinical.md §1a 'Hard contraindication for BP' (2019 Spravato label §5.6; MIMS Malaysia), VERIFIED"
SRC_ESK_BP_GATE = "clinical.md §1a 'BP threshold, exact wording' (2019 Spravato label §5.6), VERIFIED"
SRC_ESK_PSYCHOSIS = "clinical.md §1a 'Contraindications (label)': psychosis row (2019 Spravato label §5.2), VERIFIED"
SRC_ESK_PREGNANCY = "clinical.md §1a 'Contraindications (label)': pregnancy row (Spravato label §17), VERIFIED"
SRC_ESK_INTERACTIONS = (
    "clinical.md §1a 'Interactions to flag' (label §7 via mdedge) and REMS PMF 'Concomitant meds' fields, VERIFIED"
)
SRC_EXCLUSIONS_TRIAL = (
    "clinical.md §1b 'Typical exclusion list (trial example)' (PMC10812090 Table 1), VERIFIED (one protocol, not a "
    "guideline)"
)
SRC_EXCLUSIONS_BETTERU = "clinical.md §1b 'Consumer-program exclusions (Better U)' (betterucare.com), VERIFIED"
SRC_SUBSTANCE = (
    "clinical.md §1b 'Sanacora content' (baseline urine toxicology if substance use is suspected; VERIFIED "
    "(secondary)), 'ASKP3 starting dose' (substance-use history; VERIFIED) and the exclusion lists (PMC10812090; "
    "Better U)"
)
SRC_ESK_MDSI_ORAL_AD = (
    "clinical.md §1a 'MDD with acute suicidal ideation/behaviour' (spravatohcp.com/mdsi) and 'Adjunct vs "
    "monotherapy': given with an oral antidepressant; the Jan 2025 monotherapy approval is for TRD only, VERIFIED "
    "(secondary)"
)
SRC_HTN_SURGES = "clinical.md §1b 'BP monitoring frequency' (Yale: history of hypertension predicts surges), VERIFIED"

ESKETAMINE: frozenset[Route] = frozenset({"intranasal-esketamine"})
# Racemic ketamine: clinical.md §1b is titled "IV (and other route) ketamine", so its rules apply to IV and IM.
RACEMIC: frozenset[Route] = frozenset({"iv", "im"})

DRUG_CLASSES: Mapping[str, str] = {
    "ssri": "selective serotonin reuptake inhibitor",
    "snri": "serotonin-noradrenaline reuptake inhibitor",
    "tca": "tricyclic antidepressant (Thase–Rush stage III)",
    "maoi": "monoamine oxidase inhibitor (Thase–Rush stage IV)",
    "ndri": "noradrenaline-dopamine reuptake inhibitor (bupropion)",
    "nassa": "noradrenergic and specific serotonergic antidepressant (mirtazapine)",
    "sari": "serotonin antagonist and reuptake inhibitor (trazodone, nefazodone)",
    "serotonin-modulator": "multimodal serotonergic (vortioxetine, vilazodone)",
    "melatonergic": "melatonin agonist (agomelatine)",
}

CONDITIONS: Mapping[str, str] = {
    "aneurysmal-vascular-disease": "aneurysmal vascular disease (thoracic/abdominal aorta, intracranial, peripheral)",
    "arteriovenous-malformation": "arteriovenous malformation",
    "intracerebral-haemorrhage": "history of intracerebral haemorrhage",
    "hypersensitivity-ketamine": "hypersensitivity to esketamine, ketamine or excipients",
    "bp-or-icp-rise-serious-risk": "a rise in blood pressure or intracranial pressure would pose a serious risk",
    "psychosis": "psychosis (current or history)",
    "mania": "current mania or bipolar disorder with severe mania",
    "pregnancy": "pregnancy",
    "breastfeeding": "breastfeeding / lactation",
    "uncontrolled-hypertension": "uncontrolled hypertension",
    "significant-arrhythmia": "significant arrhythmia",
    "unstable-cerebrovascular-disease": "unstable cerebrovascular disease",
    "unstable-cardiac-disease": "unstable cardiac disease",
    "unstable-respiratory-illness": "unstable respiratory illness",
    "substance-use-disorder": "substance use disorder or suspected substance use",
}

MEDICATIONS: Mapping[str, str] = {
    "benzodiazepine": "benzodiazepine",
    "sedative-hypnotic": "non-benzodiazepine sedative-hypnotic",
    "psychostimulant": "psychostimulant",
    "maoi": "monoamine oxidase inhibitor",
}

_FAILED: frozenset[Response] = frozenset({"none", "partial"})  # not a ≥50% response (SRC_RESPONSE)


def _choice(name: str, value: str, allowed: Iterable[str]) -> None:
    options = tuple(allowed)
    if value not in options:
        raise InvalidAnswerError(name, f"unknown value {value!r}", ", ".join(options))


def _names(name: str, values: frozenset[str], allowed: Mapping[str, str]) -> None:
    unknown = sorted(values - allowed.keys())
    if unknown:
        raise InvalidAnswerError(name, f"unknown name(s) {', '.join(map(repr, unknown))}", ", ".join(allowed))


@dataclass(frozen=True, slots=True)
class AntidepressantTrial:
    """One antidepressant trial. Adequacy of dose and duration is the clinician's ATHF/MGH-ATRQ judgement:
    ``weeks`` is recorded, not scored, because clinical.md's ">4 weeks" (ATHF) is VERIFIED (secondary) only."""

    drug: str
    drug_class: str
    dose_adequate: bool
    weeks: float
    adequate_duration: bool
    response: Response
    in_current_episode: bool

    def __post_init__(self) -> None:
        if not self.drug.strip():
            raise InvalidAnswerError("AntidepressantTrial.drug", "must not be empty")
        _choice("AntidepressantTrial.drug_class", self.drug_class, DRUG_CLASSES)
        _choice("AntidepressantTrial.response", self.response, get_args(Response))
        if not self.weeks >= 0:
            raise InvalidAnswerError("AntidepressantTrial.weeks", f"{self.weeks!r} is not allowed", ">= 0")

    @property
    def adequate(self) -> bool:
        """Adequate dose and adequate duration (SRC_TRD)."""
        return self.dose_adequate and self.adequate_duration

    @property
    def failed(self) -> bool:
        """An adequate trial without a response (SRC_TRD, SRC_RESPONSE)."""
        return self.adequate and self.response in _FAILED


@dataclass(frozen=True, slots=True)
class ScreeningInput:
    """What screening needs; ``conditions`` and ``medications`` use :data:`CONDITIONS` and :data:`MEDICATIONS`."""

    episode_months: int
    severity: Severity
    trials: tuple[AntidepressantTrial, ...]
    augmentation_used: bool
    ect_used: bool
    route: Route
    conditions: frozenset[str] = field(default_factory=frozenset)
    medications: frozenset[str] = field(default_factory=frozenset)
    bilateral_ect_failed: bool = False
    indication: Indication = "trd"
    concurrent_oral_antidepressant: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.episode_months, bool) or not isinstance(self.episode_months, int) or self.episode_months < 0:
            raise InvalidAnswerError(
                "ScreeningInput.episode_months", f"{self.episode_months!r} is not allowed", "whole months >= 0"
            )
        _choice("ScreeningInput.severity", self.severity, get_args(Severity))
        _choice("ScreeningInput.route", self.route, get_args(Route))
        _choice("ScreeningInput.indication", self.indication, get_args(Indication))
        _names("ScreeningInput.conditions", self.conditions, CONDITIONS)
        _names("ScreeningInput.medications", self.medications, MEDICATIONS)
        if self.bilateral_ect_failed and not self.ect_used:
            raise InvalidAnswerError("ScreeningInput.bilateral_ect_failed", "needs ect_used=True")


class TrdStatus(NamedTuple):
    """Treatment-resistant depression by the operational definition."""

    is_trd: bool
    failed_adequate_trials: int


class MaudsleyStage(NamedTuple):
    """Maudsley Staging Method total, its band and the points of each dimension."""

    score: int
    band: MaudsleyBand
    duration_points: int
    severity_points: int
    failure_points: int
    augmentation_points: int
    ect_points: int

    @property
    def above_trd_cutoff(self) -> bool:
        """Total above the TRD vs non-TRD cut-off of 7.5 (SRC_MAUDSLEY)."""
        return self.score > 7.5


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule that fired: its id, why, and the clinical.md row it comes from."""

    rule_id: str
    message: str
    source: str


@dataclass(frozen=True, slots=True)
class ScreeningReport:
    """Outcome of :func:`screen`. ``hard_stops`` bar treatment; ``precautions`` need a documented decision."""

    route: Route
    trd: TrdStatus
    maudsley: MaudsleyStage | None
    thase_rush: int | None
    hard_stops: tuple[Finding, ...]
    precautions: tuple[Finding, ...]
    unassessed: tuple[Finding, ...]


def trd_status(trials: Iterable[AntidepressantTrial]) -> TrdStatus:
    """TRD = failure of ≥2 antidepressants of adequate dose and duration in the current episode (SRC_TRD)."""
    failed = sum(1 for t in trials if t.in_current_episode and t.failed)
    return TrdStatus(failed >= 2, failed)


def _failure_points(failures: int) -> int:
    # SRC_MAUDSLEY: antidepressants 1–2 = 1, 3–4 = 2, 5–6 = 3, 7–10 = 4, >10 = 5.
    for upper, points in ((2, 1), (4, 2), (6, 3), (10, 4)):
        if failures <= upper:
            return points
    return 5


def maudsley_stage(data: ScreeningInput) -> MaudsleyStage | None:
    """Maudsley Staging Method (SRC_MAUDSLEY); ``None`` with no failed adequate trial in the current episode.

    clinical.md gives treatment-failure points only from 1 failed antidepressant, so 0 failures is not scored.
    """
    failures = trd_status(data.trials).failed_adequate_trials
    if failures == 0:
        return None
    # SRC_MAUDSLEY: duration ≤12 months = 1, 13–24 = 2, >24 = 3.
    duration = 1 if data.episode_months <= 12 else 2 if data.episode_months <= 24 else 3
    # SRC_MAUDSLEY: subsyndromal 1, mild 2, moderate 3, severe without psychosis 4, severe with psychosis 5.
    severity = get_args(Severity).index(data.severity) + 1
    failure = _failure_points(failures)
    augmentation, ect = int(data.augmentation_used), int(data.ect_used)  # SRC_MAUDSLEY: +1 each
    score = duration + severity + failure + augmentation + ect
    band: MaudsleyBand = "mild" if score <= 6 else "moderate" if score <= 10 else "severe"  # 3–6, 7–10, 11–15
    return MaudsleyStage(score, band, duration, severity, failure, augmentation, ect)


def thase_rush_stage(trials: Iterable[AntidepressantTrial], bilateral_ect_failed: bool) -> int | None:
    """Thase–Rush stage 0–V as 0–5 (SRC_THASE_RUSH); ``None`` when no trial was adequate.

    Each stage adds one further failure: II needs two distinct classes, III a failed TCA on top of two other
    distinct classes, IV a failed MAOI on top of III, V a failed bilateral ECT course on top of IV.
    All supplied trials count (clinical.md does not restrict Thase–Rush to the current episode).
    """
    adequate = [t for t in trials if t.adequate]
    failed = {t.drug_class for t in adequate if t.failed}
    if not failed:
        return 0 if adequate else None  # stage 0: responded to an adequate trial
    others = failed - {"tca", "maoi"}
    stage = 1 if len(failed) < 2 else 2
    if stage == 2 and len(others) >= 2 and "tca" in failed:
        stage = 3
        if "maoi" in failed:
            stage = 4
            if bilateral_ect_failed:
                stage = 5
    return stage


class _Rule(NamedTuple):
    rule_id: str
    routes: frozenset[Route]
    hard_stop: bool
    triggers: frozenset[str]  # names from CONDITIONS or MEDICATIONS (the two vocabularies are disjoint)
    message: str
    source: str


def _rule(rule_id: str, routes: frozenset[Route], hard_stop: bool, triggers: str, message: str, source: str) -> _Rule:
    return _Rule(rule_id, routes, hard_stop, frozenset(triggers.split()), message, source)


# fmt: off
_RULES: tuple[_Rule, ...] = (
    # Esketamine label contraindications → hard stops.
    _rule("esk-ci-aneurysm", ESKETAMINE, True, "aneurysmal-vascular-disease",
          "label contraindication", SRC_ESK_CI),
    _rule("esk-ci-avm", ESKETAMINE, True, "arteriovenous-malformation",
          "label contraindication", SRC_ESK_CI),
    _rule("esk-ci-ich", ESKETAMINE, True, "intracerebral-haemorrhage",
          "label contraindication", SRC_ESK_CI),
    _rule("esk-ci-hypersensitivity", ESKETAMINE, True, "hypersensitivity-ketamine",
          "label contraindication (esketamine, ketamine or excipients)", SRC_ESK_CI),
    _rule("esk-ci-bp-icp", ESKETAMINE, True, "bp-or-icp-rise-serious-risk",
          "do not give when an increase in blood pressure or intracranial pressure poses a serious risk",
          SRC_ESK_BP_CI),
    # Esketamine label precautions → documented decisions.
    _rule("esk-pr-psychosis", ESKETAMINE, False, "psychosis",
          "carefully assess; initiate only if benefit outweighs risk", SRC_ESK_PSYCHOSIS),
    _rule("esk-pr-pregnancy", ESKETAMINE, False, "pregnancy",
          "esketamine may cause fetal harm", SRC_ESK_PREGNANCY),
    _rule("esk-pr-breastfeeding", ESKETAMINE, False, "breastfeeding",
          "the label says do not breastfeed", SRC_ESK_PREGNANCY),
    _rule("esk-pr-hypertension", ESKETAMINE, False, "uncontrolled-hypertension",
          "decide whether a BP rise poses a serious risk (then contraindicated); "
          "pre-dose BP >140/90 is a general guide for a benefit/risk decision to delay",
          f"{SRC_ESK_BP_CI}; {SRC_ESK_BP_GATE}"),
    _rule("esk-med-cns-depressant", ESKETAMINE, False, "benzodiazepine sedative-hypnotic",
          "CNS depressant, may increase sedation; record on the REMS Patient Monitoring Form", SRC_ESK_INTERACTIONS),
    _rule("esk-med-psychostimulant", ESKETAMINE, False, "psychostimulant",
          "may increase blood pressure; record on the REMS Patient Monitoring Form",
          SRC_ESK_INTERACTIONS),
    _rule("esk-med-maoi", ESKETAMINE, False, "maoi",
          "may increase blood pressure; record on the REMS Patient Monitoring Form", SRC_ESK_INTERACTIONS),
    # Racemic ketamine (IV/IM): exclusions of one trial protocol and one consumer program → documented decisions.
    _rule("rk-pr-psychosis", RACEMIC, False, "psychosis",
          "excluded by a trial protocol and a consumer program", f"{SRC_EXCLUSIONS_TRIAL}; "
          f"{SRC_EXCLUSIONS_BETTERU}"),
    _rule("rk-pr-mania", RACEMIC, False, "mania",
          "excluded by a trial protocol and a consumer program", f"{SRC_EXCLUSIONS_TRIAL}; "
          f"{SRC_EXCLUSIONS_BETTERU}"),
    _rule("rk-pr-pregnancy", RACEMIC, False, "pregnancy breastfeeding",
          "excluded by a trial protocol and a consumer program",
          f"{SRC_EXCLUSIONS_TRIAL}; {SRC_EXCLUSIONS_BETTERU}"),
    _rule("rk-pr-hypertension", RACEMIC, False, "uncontrolled-hypertension",
          "excluded by a trial protocol; a history of hypertension predicts BP surges",
          f"{SRC_EXCLUSIONS_TRIAL}; {SRC_EXCLUSIONS_BETTERU}; {SRC_HTN_SURGES}"),
    _rule("rk-pr-arrhythmia", RACEMIC, False, "significant-arrhythmia",
          "excluded by a trial protocol", SRC_EXCLUSIONS_TRIAL),
    _rule("rk-pr-cerebrovascular", RACEMIC, False, "unstable-cerebrovascular-disease",
          "excluded by a trial protocol", SRC_EXCLUSIONS_TRIAL),
    _rule("rk-pr-unstable-medical", RACEMIC, False,
          "aneurysmal-vascular-disease unstable-cardiac-disease unstable-respiratory-illness",
          "unstable medical condition, excluded by a consumer program", SRC_EXCLUSIONS_BETTERU),
    _rule("rk-pr-substance", RACEMIC, False, "substance-use-disorder",
          "take a substance-use history; baseline urine toxicology if use is suspected; "
          "a trial protocol excluded more than rare recreational ketamine/PCP/opioid use", SRC_SUBSTANCE),
    _rule("rk-med-benzodiazepine", RACEMIC, False, "benzodiazepine",
          "document the lorazepam-equivalent daily dose; a trial protocol excluded >3 mg/day",
          SRC_EXCLUSIONS_TRIAL),
)
# fmt: on


def screen(data: ScreeningInput) -> ScreeningReport:
    """Screen one patient for one route: TRD status, stages, hard stops, precautions and unassessed items."""
    hard_stops: list[Finding] = []
    precautions: list[Finding] = []
    given = data.conditions | data.medications
    covered: set[str] = set()
    for rule in _RULES:
        if data.route not in rule.routes:
            continue
        for name in sorted(rule.triggers & given):
            covered.add(name)
            (hard_stops if rule.hard_stop else precautions).append(
                Finding(rule.rule_id, f"{name}: {rule.message}", rule.source)
            )
    if data.route in ESKETAMINE and data.indication == "mdsi" and not data.concurrent_oral_antidepressant:
        precautions.append(Finding("esk-pr-mdsi-oral-antidepressant", "esketamine for MDD with acute suicidal "
                                   "ideation is given with an oral antidepressant: none is recorded",
                                   SRC_ESK_MDSI_ORAL_AD))  # fmt: skip
    unassessed = [
        Finding(
            f"unassessed-{name}",
            f"{name}: clinical.md has no sourced rule for route {data.route!r}; review by hand",
            "clinical.md (silent for this route)",
        )
        for name in sorted(given - covered)
    ]
    return ScreeningReport(
        route=data.route,
        trd=trd_status(data.trials),
        maudsley=maudsley_stage(data),
        thase_rush=thase_rush_stage(data.trials, data.bilateral_ect_failed),
        hard_stops=tuple(hard_stops),
        precautions=tuple(precautions),
        unassessed=tuple(unassessed),
    )
