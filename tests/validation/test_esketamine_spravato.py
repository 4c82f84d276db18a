"""Esketamine nasal spray (Spravato), Perez-Ruixo 2021 model: label PK and the paper's abstract.

Typical subject: 70 kg, 40 years, non-Asian (Perez-Ruixo's reference subject: below 60 years,
non-Asian; weight is not a covariate). Nasal doses are 28 mg devices 5 min apart.

The abstract's CL, Vss, absolute F and swallowed fraction are derived by the authors from the
same parameter estimates as Table 3 (which the model encodes), so comparing them checks the
implementation against the authors' own numbers. Their tolerance is therefore the printed
precision: the target's half last digit plus the first-order worst case of rounding each Table 3
parameter it depends on by half its last printed digit (``_rounding_tolerance``). No model
parameter is derived from these values, so the rows are ``predicted``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import pytest

from ketamine_therapy.pharmacology import Covariates, Dose, Regimen, Route, get_model, simulate, summary
from ketamine_therapy.pharmacology.models import PerezRuixoModel

from ._table import PREDICTED, Tolerance, ValidationTable

pytestmark = pytest.mark.validation

MODEL_ID = "perez-ruixo-2021"
TIMES = np.arange(0.0, 96.0 + 1e-9, 1.0 / 60.0)  # 96 h > 8 terminal half-lives (~11 h)
PR_SOURCE = "Perez-Ruixo 2021 Clin Pharmacokinet 60:501 (abstract)"
JNJ_SOURCE = "J&J Medical Connect, SPRAVATO plasma levels (label information)"

# Half of the last printed digit of each Table 3 value used by the closed forms below.
PRINTED_HALF_UNIT = {
    "Vc": 0.5,
    "Vp1": 0.5,
    "Vp2": 0.5,
    "Qh": 0.5,
    "Vh": 0.5,
    "kel": 0.005,
    "kmet": 0.005,
    "Fgut": 0.005,
    "FRn": 0.005,
    "FRn_later_device_factor": 0.005,
}

# Label: esketamine Tmax 20-40 min after the last device; terminal half-life 7-12 h. The
# published ranges are the windows.
# Noresketamine half-life "~8 h" has no range; it gets the relative width of the esketamine range
# from the same label (7-12 h = 9.5 h ± 26%): ±25%.
NORESKETAMINE_T_HALF_TOL = Tolerance.rel(0.25)


def _model() -> PerezRuixoModel:
    model = get_model(MODEL_ID)
    assert isinstance(model, PerezRuixoModel)
    return model


def _typical() -> dict[str, float]:
    model = _model()
    p = {k: float(v[0]) for k, v in model.typical_parameters().items()}
    p["FRn_later_device_factor"] = model.published["FRn_later_device_factor"].value
    return p


def _extraction(p: dict[str, float]) -> float:
    clint = (p["kel"] + p["kmet"]) * p["Vh"]
    return clint / (p["Qh"] + clint)


def _cl(p: dict[str, float]) -> float:
    return p["Qh"] * _extraction(p)


def _swallowed_f(p: dict[str, float]) -> float:
    return p["Fgut"] * (1.0 - _extraction(p))


def _nasal_f(devices: int) -> Callable[[dict[str, float]], float]:
    def f(p: dict[str, float]) -> float:
        frn = [p["FRn"] * (1.0 if k == 0 else p["FRn_later_device_factor"]) for k in range(devices)]
        return float(np.mean([x + (1.0 - x) * _swallowed_f(p) for x in frn]))

    return f


def _vss_sum(p: dict[str, float]) -> float:
    return p["Vc"] + p["Vp1"] + p["Vp2"]


def _vss_with_liver(p: dict[str, float]) -> float:
    """Amount in the body / plasma concentration at steady state (liver included)."""
    return _vss_sum(p) + p["Qh"] / (p["Qh"] / p["Vh"] + p["kel"] + p["kmet"])


def _rounding_tolerance(quantity: Callable[[dict[str, float]], float], target_half_unit: float) -> Tolerance:
    p = _typical()
    base = quantity(p)
    spread = sum(abs(quantity({**p, name: p[name] + half}) - base) for name, half in PRINTED_HALF_UNIT.items())
    return Tolerance.absolute(target_half_unit + spread)


@cache
def _simulate(route: Route, dose_mg: float, duration_h: float = 0.0) -> dict[str, np.ndarray]:
    regimen = Regimen((Dose(0.0, route, amount_mg=dose_mg, duration_h=duration_h),))
    return simulate(regimen, TIMES, model=MODEL_ID).conc_ng_ml


def _auc_inf_per_mg(route: Route, dose_mg: float, duration_h: float = 0.0) -> float:
    conc = _simulate(route, dose_mg, duration_h)["esketamine"]
    return float(summary.auc_to_infinity(conc, TIMES)[0]) / dose_mg


def _iv_auc_inf_per_mg() -> float:
    # 28 mg IV (the ESKETINTRD1009 dose) over 40 min; AUC_inf does not depend on the duration.
    return _auc_inf_per_mg(Route.IV, 28.0, 40.0 / 60.0)


@pytest.mark.parametrize("dose_mg", [56.0, 84.0], ids=lambda d: f"{d:g}mg")
def test_label_tmax_and_half_lives(dose_mg: float, validation: ValidationTable) -> None:
    model = _model()
    devices = model.devices(dose_mg)
    last_device_h = (devices - 1) * model.device_interval_h
    conc = _simulate(Route.INTRANASAL, dose_mg)
    esk, nor = conc["esketamine"], conc["noresketamine"]
    tmax_after_last_min = (float(summary.tmax(esk, TIMES)[0]) - last_device_h) * 60.0
    validation.check(
        f"esketamine Tmax after the last device, {dose_mg:g} mg ({devices} devices)",
        published=(20.0, 40.0),
        model=tmax_after_last_min,
        tol=Tolerance.published_range(),
        basis=PREDICTED,
        source=JNJ_SOURCE,
        unit="min",
    )
    fit = (TIMES >= 24.0) & (TIMES <= 48.0)
    n_fit = int(fit.sum())
    validation.check(
        f"esketamine terminal half-life, fit 24-48 h, {dose_mg:g} mg",
        published=(7.0, 12.0),
        model=float(summary.half_life_h(esk[:, fit], TIMES[fit], n_fit)[0]),
        tol=Tolerance.published_range(),
        basis=PREDICTED,
        source=JNJ_SOURCE,
        unit="h",
    )
    validation.check(
        f"noresketamine terminal half-life, fit 24-48 h, {dose_mg:g} mg",
        published=8.0,
        model=float(summary.half_life_h(nor[:, fit], TIMES[fit], n_fit)[0]),
        tol=NORESKETAMINE_T_HALF_TOL,
        basis=PREDICTED,
        source=JNJ_SOURCE,
        unit="h",
        note="label gives '~8 h' without a range",
    )
    validation.conclude()


@pytest.mark.parametrize(("dose_mg", "published"), [(56.0, 0.54), (84.0, 0.51)], ids=["56mg", "84mg"])
def test_absolute_bioavailability(dose_mg: float, published: float, validation: ValidationTable) -> None:
    devices = _model().devices(dose_mg)
    ratio = _auc_inf_per_mg(Route.INTRANASAL, dose_mg) / _iv_auc_inf_per_mg()
    validation.check(
        f"absolute F, AUC_inf nasal/IV per mg, {dose_mg:g} mg",
        published=published,
        model=ratio,
        tol=_rounding_tolerance(_nasal_f(devices), 0.005),
        basis=PREDICTED,
        source=PR_SOURCE,
        note="tolerance: printed precision (module docstring)",
    )
    validation.conclude()


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason=(
        "Table 3 gives CL = Qh*E = 151 * 391.9/(151+391.9) = 109.0 L/h, 4.4% below the abstract's "
        "114 L/h; the abstract's CL and swallowed fraction 0.186 are mutually consistent only with "
        "Qh ~161 L/h (same intrinsic clearance 392 L/h). Table 3 (Qh 151) reproduces the paper's "
        "Table 4 esketamine AUC0-24 within 0.6%, so the model keeps Table 3."
    ),
)
def test_clearance(validation: ValidationTable) -> None:
    validation.check(
        "esketamine clearance, 28 mg IV dose / AUC_inf",
        published=114.0,
        model=1000.0 / _iv_auc_inf_per_mg(),  # mg / (ng·h/mL) = 1000 L/h
        tol=_rounding_tolerance(_cl, 0.5),
        basis=PREDICTED,
        source=PR_SOURCE,
        unit="L/h",
        note=f"closed form Qh*E from Table 3: {_cl(_typical()):.1f} L/h",
    )
    validation.conclude()


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason=(
        "Table 3 gives Fgut*(1-E) = 0.64 * 151/(151+391.9) = 0.178, 4.3% below the abstract's "
        "0.186; same root cause as the clearance miss (the abstract's derived values imply "
        "Qh ~161 L/h, Table 3 prints 151 L/h)."
    ),
)
def test_swallowed_fraction_reaching_circulation(validation: ValidationTable) -> None:
    ratio = _auc_inf_per_mg(Route.ORAL, 84.0) / _iv_auc_inf_per_mg()
    validation.check(
        "swallowed fraction reaching circulation, AUC_inf oral/IV per mg",
        published=0.186,
        model=ratio,
        tol=_rounding_tolerance(_swallowed_f, 0.0005),
        basis=PREDICTED,
        source=PR_SOURCE,
        note="= Fgut*(1-E); the model's oral solution route has exactly this F",
    )
    validation.conclude()


def _nca_vss() -> float:
    """CL x MRT from plasma moments after an IV bolus (tail extrapolated)."""
    conc = _simulate(Route.IV, 28.0)["esketamine"][0]
    lam = float(summary.terminal_rate(conc[None, :], TIMES)[0])
    auc = np.trapezoid(conc, TIMES) + conc[-1] / lam
    aumc = np.trapezoid(conc * TIMES, TIMES) + conc[-1] * TIMES[-1] / lam + conc[-1] / lam**2
    return float(28.0 * 1000.0 / auc * aumc / auc)


def test_vss_as_published(validation: ValidationTable) -> None:
    p = _typical()
    validation.check(
        "esketamine Vss = Vc + Vp1 + Vp2 (typical parameters)",
        published=752.0,
        model=_vss_sum(p),
        tol=_rounding_tolerance(_vss_sum, 0.5),
        basis=PREDICTED,
        source=PR_SOURCE,
        unit="L",
        note="the abstract's 752 L equals 192+143+417 exactly: it leaves out the liver compartment",
    )
    validation.info(
        "esketamine Vss, CL x MRT from plasma moments after IV",
        published=752.0,
        model=_nca_vss(),
        source=PR_SOURCE,
        unit="L",
        note="NCA moments are not the body's steady-state volume when elimination is hepatic",
    )
    validation.info(
        "esketamine Vss incl. liver: Vc+Vp1+Vp2+Qh/(Qh/Vh+kel+kmet)",
        published=752.0,
        model=_vss_with_liver(p),
        source=PR_SOURCE,
        unit="L",
        note="the liver holds ~28 L-equivalents at steady state; the abstract's Vss leaves it out",
    )
    validation.conclude()


# Perez-Ruixo 2021 Table 4 (model-based typical exposures, 18-60 y Caucasian) as transcribed in
# nlmixr2lib vignettes/articles/PerezRuixo_2020_esketamine.Rmd. Not in the shared reference, so
# information only; they show that the encoded Table 3 reproduces the paper's own simulations.
TABLE4 = {
    28.0: {"esk_cmax": 43.8, "esk_auc": 147.3, "nor_cmax": 59.1, "nor_auc": 274.4},
    56.0: {"esk_cmax": 72.5, "esk_auc": 254.7, "nor_cmax": 119.7, "nor_auc": 516.3},
    84.0: {"esk_cmax": 101.0, "esk_auc": 362.2, "nor_cmax": 180.0, "nor_auc": 758.0},
}
TABLE4_SOURCE = "Perez-Ruixo 2021 Table 4 via nlmixr2lib vignette (repo; not in shared reference)"


def test_table4_information(validation: ValidationTable) -> None:
    day = TIMES <= 24.0
    for dose_mg, published in TABLE4.items():
        conc = _simulate(Route.INTRANASAL, dose_mg)
        for analyte, key in (("esketamine", "esk"), ("noresketamine", "nor")):
            c = conc[analyte]
            validation.info(
                f"{analyte} Cmax, {dose_mg:g} mg nasal",
                published=published[f"{key}_cmax"],
                model=float(summary.cmax(c)[0]),
                source=TABLE4_SOURCE,
                unit="ng/mL",
            )
            validation.info(
                f"{analyte} AUC0-24h, {dose_mg:g} mg nasal",
                published=published[f"{key}_auc"],
                model=float(summary.auc(c[:, day], TIMES[day])[0]),
                source=TABLE4_SOURCE,
                unit="ng·h/mL",
                note="known over-prediction 1.38-1.56x (model yaml noresketamine_note)"
                if analyte == "noresketamine"
                else "",
            )
    validation.conclude()


# Perez-Ruixo 2021 Table 4, Caucasian strata, esketamine (Cmax ng/mL, AUC0-24 ng·h/mL): "> 60 y" and "18-60 y".
TABLE4_OLDER = {
    28.0: {"cmax": (44.6, 43.8), "auc": (160.4, 147.3)},
    56.0: {"cmax": (73.8, 72.5), "auc": (275.8, 254.7)},
    84.0: {"cmax": (102.7, 101.0), "auc": (391.2, 362.2)},
}
OLDER_SOURCE = (
    "Perez-Ruixo 2021 Table 4 (> 60 y / 18-60 y, Caucasian) as transcribed in repo nlmixr2/nlmixr2lib "
    "vignettes/articles/PerezRuixo_2020_esketamine.Rmd @dec434ee"
)
OLDER_AGE_Y = 70.0  # Table 4 does not print the age of its "> 60 y" stratum; nlmixr2lib's reproduction uses 70
AGE_RATIO_TOL = Tolerance.rel(0.01)  # ~1 year of that unprinted age: the model's AUC ratio moves ~1.1%/year at 70


@cache
def _esketamine_at_age(dose_mg: float, age_y: float) -> np.ndarray:
    regimen = Regimen((Dose(0.0, Route.INTRANASAL, amount_mg=dose_mg),))
    cov = Covariates.typical(age_y=age_y)
    return simulate(regimen, TIMES, model=MODEL_ID, covariates=cov).conc_ng_ml["esketamine"]


@pytest.mark.parametrize("dose_mg", sorted(TABLE4_OLDER), ids=lambda d: f"{d:g}mg")
def test_older_adult_exposure_ratio(dose_mg: float, validation: ValidationTable) -> None:
    """The age effect (Qh -2.19 L/h per year above 60) against the paper's own older/younger exposures."""
    day = TIMES <= 24.0
    older, younger = _esketamine_at_age(dose_mg, OLDER_AGE_Y), _esketamine_at_age(dose_mg, 40.0)
    published = TABLE4_OLDER[dose_mg]
    for metric, value in (
        ("Cmax", lambda c: float(summary.cmax(c)[0])),
        ("AUC0-24h", lambda c: float(summary.auc(c[:, day], TIMES[day])[0])),
    ):
        key = "cmax" if metric == "Cmax" else "auc"
        validation.check(
            f"esketamine {metric} ratio, age {OLDER_AGE_Y:g} / 40 y, {dose_mg:g} mg nasal",
            published=published[key][0] / published[key][1],
            model=value(older) / value(younger),
            tol=AGE_RATIO_TOL,
            basis=PREDICTED,
            source=OLDER_SOURCE,
            note="the SPRAVATO label's elderly figures were not retrievable (docs/models/pharmacokinetics.md)",
        )
    validation.conclude()
