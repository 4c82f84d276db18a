"""Racemic ketamine, intravenous disposition: Kamp 2020 pooled clearance and volume, Wang 2019 clearance, half-life.

The IV infusion and bolus exposure rows (Zarate 2006, PMC9118341) are in test_racemic_routes.py with
every other route. Typical 70 kg adult, no random effects.
"""

from __future__ import annotations

import numpy as np
import pytest

from ketamine_therapy.pharmacology import Dose, Regimen, Route, default_model, get_model, list_models, simulate, summary

from ._table import PREDICTED, Tolerance, ValidationTable

pytestmark = pytest.mark.validation

# Kamp 2020 meta-analysis (18 studies): CL 79 L/h (95% CI 69-90), Vd 252 L/70 kg (95% CI 200-304).
# Judged like exposures (CL = dose / AUC): ±30% of the pooled mean; the CI is printed with the row.
KAMP = "Kamp 2020 Anesthesiology meta-analysis (abstract), 18 studies"
KAMP_CL, KAMP_VD = 79.0, 252.0

# Wang 2019 (PMC6902860, abstract): racemic ketamine 1 mg/kg injected in 10 s, one of two arms of 32 Chinese
# gastroscopy patients; S-ketamine CL 18.4 +/- 3.4, R-ketamine CL 15.8 +/- 3.1 mL/min/kg. With half the dose
# as each enantiomer, the racemate's dose/AUC is the harmonic mean of the two:
# 2 / (1/18.4 + 1/15.8) = 17.0 mL/min/kg = 71.4 L/h at 70 kg.
WANG_2019 = "Wang 2019 DDDT 13:4135 (PMC6902860, abstract), racemic arm of 32 patients, 1 mg/kg IV in 10 s"
WANG_CL_L_H = 2.0 / (1.0 / 18.4 + 1.0 / 15.8) * 70.0 * 60.0 / 1000.0

VSS_MISS = (
    "herd-2007's Vss is 141 L, 44% below Kamp's pooled 252 L. Kamp pools 'volume of distribution' over 18 studies "
    "(arterial and venous sampling; steady-state and terminal volumes not separated in the abstract); Herd's "
    "children were sampled for 14-152 min (median 3 samples), too short to inform a deep compartment. Nothing "
    "was fitted to either value."
)


def _iv_clearance_l_h(model_id: str) -> float:
    """CL = dose / AUC_inf after a 25 mg IV bolus over 72 h (0.36 s grid for 30 min, then 1 min)."""
    times = np.concatenate([np.linspace(0.0, 0.5, 5001)[:-1], np.arange(0.5, 72.0 + 1e-9, 1.0 / 60.0)])
    result = simulate(Regimen((Dose(0.0, Route.IV, amount_mg=25.0),)), times, model=model_id, extrapolate=True)
    auc = float(summary.auc_to_infinity(result.conc_ng_ml["ketamine"], times)[0])
    return 25.0 * 1000.0 / auc


def _vss_l(model_id: str) -> float:
    p = get_model(model_id).typical_parameters()
    return float(p["V1"][0] + p["V2"][0] + (p["V3"][0] if "V3" in p else 0.0))


def test_clearance(validation: ValidationTable) -> None:
    default = default_model("racemic-ketamine").id
    validation.check(
        f"ketamine clearance, dose/AUC_inf after IV, 70 kg ({default})",
        published=KAMP_CL,
        model=_iv_clearance_l_h(default),
        tol=Tolerance.rel(0.30),
        basis=PREDICTED,
        source=KAMP,
        unit="L/h",
        note="95% CI 69-90 L/h; no parameter fitted to it",
    )
    validation.check(
        f"ketamine clearance, dose/AUC_inf after IV, 70 kg ({default})",
        published=WANG_CL_L_H,
        model=_iv_clearance_l_h(default),
        tol=Tolerance.rel(0.30),
        basis=PREDICTED,
        source=WANG_2019,
        unit="L/h",
        note="harmonic mean of the published S (18.4 +/- 3.4) and R (15.8 +/- 3.1 mL/min/kg) clearances",
    )
    for model in list_models():
        if model.drug == "racemic-ketamine" and model.id != default:
            validation.info(f"ketamine clearance ({model.id})", published=KAMP_CL, model=_iv_clearance_l_h(model.id),
                            source=KAMP, unit="L/h")  # fmt: skip
    validation.conclude()


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=VSS_MISS)
def test_kamp_2020_volume(validation: ValidationTable) -> None:
    default = default_model("racemic-ketamine").id
    validation.check(
        f"ketamine Vss = V1+V2(+V3), 70 kg ({default})",
        published=KAMP_VD,
        model=_vss_l(default),
        tol=Tolerance.rel(0.30),
        basis=PREDICTED,
        source=KAMP,
        unit="L",
        note="95% CI 200-304 L; Kamp's 'Vd' read as the steady-state volume",
    )
    for model in list_models():
        if model.drug == "racemic-ketamine" and model.id != default:
            validation.info(f"ketamine Vss ({model.id})", published=KAMP_VD, model=_vss_l(model.id), source=KAMP,
                            unit="L")  # fmt: skip
    validation.conclude()


def test_terminal_half_life_information(validation: ValidationTable) -> None:
    """Half-life targets without a usable dispersion: printed, not judged.

    Yanagihara 2003 reports t½β 120 min from n = 3 subjects over 8 h with no dispersion (and the
    injection route is not stated); the 2.5-3 h range is tertiary (Wikipedia). Neither supports a
    defensible tolerance, so both are information rows.
    """
    default = default_model("racemic-ketamine").id
    times = np.arange(0.0, 48.0 + 1e-9, 1.0 / 60.0)
    result = simulate(Regimen((Dose(0.0, Route.IV, amount_mg=20.0),)), times)
    conc = result.conc_ng_ml["ketamine"]
    study = (times >= 2.0) & (times <= 8.0)
    late = times >= 24.0
    t_half_study = float(summary.half_life_h(conc[:, study], times[study], int(study.sum()))[0])
    t_half_late = float(summary.half_life_h(conc[:, late], times[late], int(late.sum()))[0])
    validation.info(
        f"ketamine t½β after 20 mg IV, log-linear fit 2-8 h ({default})",
        published=2.0,
        model=t_half_study,
        source="Yanagihara 2003 Biopharm Drug Dispos (abstract; n=3, 8 h sampling)",
        unit="h",
        note="no dispersion published (n=3): not judged",
    )
    validation.info(
        f"ketamine terminal half-life, fit 24-48 h ({default})",
        published=(2.5, 3.0),
        model=t_half_late,
        source="Wikipedia ketamine infobox (tertiary)",
        unit="h",
    )
    validation.conclude()
