"""Dissociation (CADSS) and haemodynamics against published values (data/pd.yaml targets).

Populations: ``N`` sampled adults per regimen (``sample_covariates``), PK random effects of each
drug's default model, effect sites on, and the PD model's own between-patient (and, for blood
pressure, between-session) variability, all from seeded generators that differ from the
calibration's (``pd.yaml`` ``calibration.seed``). Calibrated rows therefore carry Monte Carlo
noise as well as the published uncertainty; each tolerance says which.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from ketamine_therapy.pharmacology import (
    Dose,
    Regimen,
    Route,
    SimulationResult,
    iv_acute_series,
    sample_covariates,
    simulate,
    spravato_trd_schedule,
)
from ketamine_therapy.pharmacology.pd import (
    DissociationParameters,
    dissociation,
    hemodynamics,
    large_bp_rise,
    occupancy_to_parent_ng_ml,
    session_index,
)

from ._table import CALIBRATED, PREDICTED, Tolerance, ValidationTable

pytestmark = pytest.mark.validation

N = 2000
TIMES = np.arange(0.0, 4.5 + 1e-9, 1.0 / 60.0)  # 1-min grid; index = minutes
STUDY_GRID_MIN = np.arange(0, 71, 10)  # 135-patient study: every 10 min during and 30 min after
SEED = 424242

LABEL = "SPRAVATO US PI (label reprint usmedicine.com 2021)"
JNJ = "J&J Medical Connect, SPRAVATO dissociative effects (2024)"
CADSS_PAPER = "J Affect Disord 2018 doi:10.1016/j.jad.2017.09.023 (abstract; n=110)"
STUDY_135 = "135 patients, 741 infusions (abstract summary)"

# Mean CADSS 7.7 (SD 9.2, n = 110): 95% CI of the mean, 1.96 * 9.2 / sqrt(110).
CADSS_MEAN_TOL = Tolerance.absolute(1.96 * 9.2 / np.sqrt(110))
# Shares per dose: binomial 95% half-width for ~173 patients per dose (346 SPRAVATO patients < 65 y
# in the short-term TRD trials, label Table 6, split over two doses).
SHARE_PER_DOSE_TOL = Tolerance.absolute(1.96 * np.sqrt(0.7 * 0.3 / 173))
# Mean rises: no dispersion was published. Calibrated on another population of the same size, so
# the check is of the derivation; Monte Carlo SE of a mean rise here is ~3% (log-normal
# sensitivity, omega ~1): 10% is ~3 SE.
RISE_TOL = Tolerance.rel(0.10)


def _population(
    regimen: Regimen, drug: str, stream: int, times: np.ndarray = TIMES
) -> tuple[SimulationResult, np.random.Generator]:
    rng = np.random.default_rng([SEED, stream])
    covariates = sample_covariates(N, rng)
    result = simulate(regimen, times, drug=drug, covariates=covariates, iiv=True, rng=rng, effect_sites=True)
    return result, rng


def _spravato(dose_mg: float) -> Regimen:
    return Regimen((Dose(0.0, Route.INTRANASAL, amount_mg=dose_mg),))


@cache
def _racemic() -> tuple[SimulationResult, np.random.Generator]:
    return _population(iv_acute_series(days=[1]), "racemic-ketamine", 1)


@cache
def _esketamine(dose_mg: float) -> tuple[SimulationResult, np.random.Generator]:
    return _population(_spravato(dose_mg), "esketamine", 2)  # same subjects at both doses


def test_dissociation_magnitude_and_spravato_share(validation: ValidationTable) -> None:
    result, rng = _racemic()
    cadss = dissociation(result.conc_ng_ml, "racemic-ketamine", np.random.default_rng([SEED, 10])).cadss
    validation.check(
        "mean CADSS 40 min into IV racemic 0.5 mg/kg over 40 min",
        published=7.7,
        model=float(cadss[:, 40].mean()),
        tol=CADSS_MEAN_TOL,
        basis=CALIBRATED,
        source=CADSS_PAPER,
        unit="points",
        note="ASSUMED 0.5 mg/kg/40 min rated at 40 min and pre-dose 0; tolerance: published 95% CI of the mean",
    )
    validation.info(
        "SD of CADSS at 40 min, same population",
        published=9.2,
        model=float(cadss[:, 40].std()),
        source=CADSS_PAPER,
        unit="points",
        note="published SD also holds rating noise and pre-dose scores; the model has neither",
    )
    shares = {}
    for dose, published in ((56.0, 0.61), (84.0, 0.75)):
        res, _ = _esketamine(dose)
        shares[dose] = float(
            dissociation(res.conc_ng_ml, "esketamine", np.random.default_rng([SEED, 11])).meaningful.mean()
        )
        validation.check(
            f"Spravato {dose:g} mg: share with CADSS > 4 and change > 0",
            published=published,
            model=shares[dose],
            tol=SHARE_PER_DOSE_TOL,
            basis=CALIBRATED,
            source=f"{LABEL} 5.2 (61-75%); criterion {JNJ}",
            note="ASSUMED the label's ends belong to 56 and 84 mg; tolerance: binomial 95% for ~173 patients",
        )
    pooled = (shares[56.0] + shares[84.0]) / 2.0
    validation.check(
        "Spravato 56/84 mg pooled share dissociating",
        published=(0.61, 0.75),
        model=pooled,
        tol=Tolerance.published_range(),
        basis=CALIBRATED,
        source=f"{LABEL} 5.2",
    )
    validation.info(
        "same, against the current label",
        published=(0.61, 0.84),
        model=pooled,
        source=JNJ,
    )
    validation.info(
        "IV racemic 0.5 mg/kg: share dissociating (CADSS > 4)",
        published="-",
        model=float(dissociation(result.conc_ng_ml, "racemic-ketamine", rng).meaningful.mean()),
        source="no published share found",
    )
    validation.conclude()


def test_dissociation_concentration_range(validation: ValidationTable) -> None:
    result, _ = _racemic()
    d = dissociation(result.conc_ng_ml, "racemic-ketamine", np.random.default_rng([SEED, 12]))
    at_peak = result.conc_ng_ml["ketamine"][np.arange(N), d.cadss.argmax(axis=1)][d.meaningful]
    low, median, high = np.percentile(at_peak, [10.0, 50.0, 90.0])
    validation.check(
        "plasma ketamine at the CADSS peak of patients who dissociate, median",
        published=(100.0, 250.0),
        model=float(median),
        tol=Tolerance.published_range(),
        basis=PREDICTED,
        source="Krystal 1994 via Zanos 2018 Pharmacol Rev Table 1",
        unit="ng/mL",
        note=f"10th-90th percentile {low:.0f}-{high:.0f} ng/mL",
    )
    p = DissociationParameters.from_data()
    validation.info(
        "steady-state concentration at which the typical patient's CADSS reaches 4",
        published=(100.0, 250.0),
        model=occupancy_to_parent_ng_ml(p.threshold_occupancy(), "racemic-ketamine"),
        source="Krystal 1994 via Zanos 2018 Table 1",
        unit="ng/mL",
        note="below the range: CADSS > 4 is a low bar, and Krystal's range is where effects were seen at 0.5 mg/kg",
    )
    validation.conclude()


def test_dissociation_time_course(validation: ValidationTable) -> None:
    result, _ = _racemic()
    cadss = dissociation(result.conc_ng_ml, "racemic-ketamine", np.random.default_rng([SEED, 13])).cadss
    mean = cadss.mean(axis=0)
    validation.check(
        "time of the mean CADSS peak, IV racemic 0.5 mg/kg over 40 min",
        published=40.0,
        model=float(TIMES[mean.argmax()] * 60.0),
        tol=Tolerance.absolute(10.0),
        basis=PREDICTED,
        source="end of infusion (shared/DESIGN.md 3; CADSS rated at 40 min, Luckenbaugh 2014)",
        unit="min",
        note="tolerance: one 10-min assessment interval; the effect site lags plasma (t1/2ke0 8.3 min)",
    )
    validation.check(
        "mean CADSS 2 h after the start of the infusion",
        published=(0.0, 4.0),
        model=float(mean[120]),
        tol=Tolerance.published_range(),
        basis=PREDICTED,
        source="Abdallah 2022 Neuropsychopharmacology (abstract): back to baseline within 2 h",
        unit="points",
        note=f"'resolved' read as below the meaningful threshold; {100 * (cadss[:, 120] > 4).mean():.0f}% still > 4",
    )
    validation.conclude()


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason=(
        "J&J: esketamine dissociation peaks at 40 min and has generally resolved by 1.5 h. The model is "
        "driven by effect-site esketamine, which peaks ~55-60 min after the first device and at 1.5 h is "
        "still ~90% of its peak (Perez-Ruixo PK, t1/2ke0 8.3 min), so modelled CADSS has not resolved. "
        "Closing the gap needs acute tolerance or a faster, rate-dependent effect, not in this model."
    ),
)
def test_esketamine_dissociation_resolves_by_90_min(validation: ValidationTable) -> None:
    for dose in (56.0, 84.0):
        res, _ = _esketamine(dose)
        mean = dissociation(res.conc_ng_ml, "esketamine", np.random.default_rng([SEED, 14])).cadss.mean(axis=0)
        validation.info(
            f"Spravato {dose:g} mg: time of the mean CADSS peak",
            published=40.0,
            model=float(TIMES[mean.argmax()] * 60.0),
            source=JNJ,
            unit="min",
        )
        validation.check(
            f"Spravato {dose:g} mg: mean CADSS 1.5 h after the first device",
            published=(0.0, 4.0),
            model=float(mean[90]),
            tol=Tolerance.published_range(),
            basis=PREDICTED,
            source=JNJ,
            unit="points",
            note="'generally resolved' read as below the meaningful threshold",
        )
    validation.conclude()


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason=(
        "Recalibrated on the herd-2007 default (issue 9): least squares over 3 L50 + 1 Hill cannot meet the "
        "four step-1 targets together; the HR peak comes out at 1.49 bpm against 1.71-2.09 (SBP 7.4 and DBP "
        "6.0 mmHg are met). herd-2007 concentrations fall faster after the infusion than clements-1981's, "
        "so the Hill that returns SBP to 20% of peak by 130 min is too shallow for HR."
    ),
)
def test_blood_pressure_rise_after_iv_infusion(validation: ValidationTable) -> None:
    result, _ = _racemic()
    h = hemodynamics(result.conc_ng_ml, "racemic-ketamine", np.random.default_rng([SEED, 20]))
    means = {
        "SBP": (h.sbp_change_mmhg.mean(axis=0), 7.4, "mmHg"),
        "DBP": (h.dbp_change_mmhg.mean(axis=0), 6.0, "mmHg"),
        "HR": (h.hr_change_bpm.mean(axis=0), 1.9, "bpm"),
    }
    for name, (mean, published, unit) in means.items():
        validation.check(
            f"largest mean {name} rise on the study's 10-min grid, IV racemic 0.5 mg/kg/40 min",
            published=published,
            model=float(mean[STUDY_GRID_MIN].max()),
            tol=RISE_TOL,
            basis=CALIBRATED,
            source=STUDY_135,
            unit=unit,
            note="default baselines 120/80 mmHg, 70 bpm; tolerance: Monte Carlo (module docstring)",
        )
    sbp, dbp = means["SBP"][0], means["DBP"][0]
    peak_min = float(STUDY_GRID_MIN[sbp[STUDY_GRID_MIN].argmax()])
    validation.check(
        "time of the largest mean SBP rise on the study's grid",
        published=(20.0, 50.0),
        model=peak_min,
        tol=Tolerance.published_range(),
        basis=PREDICTED,
        source=f"{STUDY_135}: maxima at 30-40 min",
        unit="min",
        note=f"published 30-40 widened by one 10-min sampling step; continuous peak {TIMES[sbp.argmax()] * 60:.0f} min",
    )
    validation.info(
        "mean SBP / DBP rise at 30 min",
        published="+3.28 / +3.17 mmHg",
        model=f"+{sbp[30]:.2f} / +{dbp[30]:.2f} mmHg",
        source="Riva-Posse 2018 J Affect Disord, 684 infusions (abstract)",
        note="not calibrated to: sources disagree (Emory older, 36% hypertensive)",
    )
    validation.info(
        "mean SBP / DBP rise at 40 min",
        published="+16 / +11 mmHg",
        model=f"+{sbp[40]:.1f} / +{dbp[40]:.1f} mmHg",
        source="Yale, 2,342 sessions (docs/references/clinical.md)",
        note="not calibrated to: sources disagree",
    )
    validation.conclude()


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason=(
        "Recalibrated on the herd-2007 default (issue 9): the SBP rise 1.5 h after the infusion is 20% of the "
        "peak against 22-28% (the same least-squares compromise as the HR peak above)."
    ),
)
def test_blood_pressure_returns_to_baseline(validation: ValidationTable) -> None:
    result, _ = _racemic()
    sbp = hemodynamics(result.conc_ng_ml, "racemic-ketamine", np.random.default_rng([SEED, 21])).sbp_change_mmhg
    mean = sbp.mean(axis=0)
    peak = float(mean[STUDY_GRID_MIN].max())
    validation.check(
        "mean SBP rise 1.5 h after the end of the infusion (130 min), fraction of peak",
        published=0.25,
        model=float(mean[130]) / peak,
        tol=Tolerance.absolute(0.03),
        basis=CALIBRATED,
        source="Szarmach 2020 PMC7605942: back to baseline within 1.5 h post infusion",
        note="ASSUMED reading: <= 25% of peak; tolerance: Monte Carlo",
    )
    validation.info(
        "mean SBP rise at 100 min",
        published="not different from baseline",
        model=f"{mean[100]:.1f} mmHg ({mean[100] / peak:.0%} of peak)",
        source="Fang 2019 Chin J Nerv Ment Dis 45:361 (abstract; n=13)",
    )
    res, _ = _esketamine(84.0)
    esk = hemodynamics(res.conc_ng_ml, "esketamine", np.random.default_rng([SEED, 22])).sbp_change_mmhg.mean(axis=0)
    validation.check(
        "Spravato 84 mg: mean SBP rise 4 h after dosing, fraction of peak",
        published=(0.0, 0.25),
        model=float(esk[240] / esk.max()),
        tol=Tolerance.published_range(),
        basis=PREDICTED,
        source=f"{LABEL} 5.6: increases last ~4 h",
        note="same reading of 'back to baseline' as above",
    )
    validation.info(
        "Spravato 84 mg: time of the mean SBP peak",
        published=40.0,
        model=float(TIMES[esk.argmax()] * 60.0),
        source=f"{LABEL} 5.6",
        unit="min",
        note="model later: effect-site esketamine (t1/2ke0 8.3 min) peaks ~55-60 min after the first device",
    )
    validation.conclude()


def _four_weeks(dose_mg: float) -> tuple[float, float]:
    """Share with a large rise in >= 1 of the 8 sessions of weeks 1-4, and in session 1 only."""
    regimen = spravato_trd_schedule(dose_mg, weeks=4)
    starts = [d.time_h for d in regimen.doses]
    times = np.unique(np.concatenate([s + np.arange(0.0, 1.5 + 1e-9, 1.0 / 60.0) for s in starts]))
    result, _ = _population(regimen, "esketamine", 3, times)
    h = hemodynamics(
        result.conc_ng_ml, "esketamine", np.random.default_rng([SEED, 23]), sessions=session_index(times, regimen)
    )
    return float(large_bp_rise(h, times, starts).mean()), float(large_bp_rise(h, times, starts[:1]).mean())


def test_spravato_large_blood_pressure_rise(validation: ValidationTable) -> None:
    arms = {dose: _four_weeks(dose) for dose in (56.0, 84.0)}
    pooled = (arms[56.0][0] + arms[84.0][0]) / 2.0
    validation.check(
        "Spravato weeks 1-4: share with SBP +40 and/or DBP +25 mmHg in 1.5 h, at least once (56/84 mg pooled)",
        published=(0.04, 0.18),
        model=pooled,
        tol=Tolerance.published_range(),
        basis=CALIBRATED,
        source=f"{LABEL} 5.6: 8-19% vs 1-4% placebo",
        note="compared with the excess over placebo (the model has no drug-free BP swings); calibration target 11%",
    )
    validation.info(
        "same, label share including drug-free swings",
        published=(0.08, 0.19),
        model=pooled,
        source=f"{LABEL} 5.6",
    )
    for dose, (four_weeks, first) in arms.items():
        validation.info(
            f"Spravato {dose:g} mg arm (first session 56 mg): share at least once in weeks 1-4",
            published="<65 y: SBP +40 8%, DBP +25 13% (placebo 0.5%, 3%)",
            model=f"{four_weeks:.1%} (first session alone {first:.1%})",
            source=f"{LABEL} Table 6",
        )
    validation.conclude()


def test_no_tolerance_over_an_iv_series(validation: ValidationTable) -> None:
    regimen = iv_acute_series()  # 6 infusions, days 1-12
    starts = [d.time_h for d in regimen.doses]
    times = np.unique(np.concatenate([s + np.arange(0.0, 4.0 + 1e-9, 1.0 / 60.0) for s in starts]))
    result, _ = _population(regimen, "racemic-ketamine", 4, times)
    mean = hemodynamics(result.conc_ng_ml, "racemic-ketamine").sbp_change_mmhg.mean(axis=0)
    window = [(times >= s) & (times <= s + 4.0) for s in starts]
    first, sixth = (float(mean[w].max()) for w in (window[0], window[5]))
    validation.check(
        "largest mean SBP rise, infusion 6 / infusion 1",
        published=1.0,
        model=sixth / first,
        tol=Tolerance.absolute(0.02),
        basis=PREDICTED,
        source=f"{STUDY_135}; Riva-Posse 2018: no tolerance between infusions 1 and 6",
        note="no tolerance term; the 2% allows ketamine carried over from 2-3 days earlier (none to speak of)",
    )
    validation.conclude()
