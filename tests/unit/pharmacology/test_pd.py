"""Pharmacodynamics: occupancy sanity, dissociation and haemodynamic model properties, calibration."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketamine_therapy.pharmacology import (
    Dose,
    Regimen,
    Route,
    UnknownNameError,
    iv_acute_series,
    simulate,
)
from ketamine_therapy.pharmacology._data import load
from ketamine_therapy.pharmacology.exceptions import InvalidInputError
from ketamine_therapy.pharmacology.pd import (
    DissociationParameters,
    HemodynamicsParameters,
    dissociation,
    hemodynamics,
    large_bp_rise,
    nmda_occupancy,
    occupancy_to_parent_ng_ml,
    parent_nmda_occupancy,
    session_index,
)
from ketamine_therapy.pharmacology.pd.dissociation import calibrate as calibrate_dissociation
from ketamine_therapy.pharmacology.pd.hemodynamics import calibrate as calibrate_hemodynamics
from ketamine_therapy.pharmacology.pd.hemodynamics import large_rise_share, parent_nmda_load

DRUGS = ("racemic-ketamine", "esketamine", "s-ketamine")
PARENT = {"racemic-ketamine": "ketamine", "esketamine": "esketamine", "s-ketamine": "esketamine"}
TIMES = np.arange(0.0, 4.0 + 1e-9, 5.0 / 60.0)


def _conc(drug: str, parent_ng_ml: np.ndarray) -> dict[str, np.ndarray]:
    """Effect-site concentrations with the metabolite at zero (the PD models ignore it)."""
    c = np.atleast_2d(np.asarray(parent_ng_ml, dtype=np.float64))
    metabolite = "norketamine" if drug == "racemic-ketamine" else "noresketamine"
    return {f"{PARENT[drug]}_effect": c, f"{metabolite}_effect": np.zeros_like(c)}


def _iv(mg_per_kg: float, days: tuple[int, ...] = (1,), times: np.ndarray = TIMES) -> dict[str, np.ndarray]:
    return simulate(iv_acute_series(mg_per_kg, days=days), times, effect_sites=True).conc_ng_ml


# --- occupancy sanity ------------------------------------------------------------------------


def test_occupancy_increases_with_dose() -> None:
    occ = [parent_nmda_occupancy(_iv(dose), "racemic-ketamine").max() for dose in (0.1, 0.25, 0.5, 1.0)]
    assert all(a < b for a, b in itertools.pairwise(occ))
    assert occ[0] > 0.0
    assert occ[-1] < 1.0


def test_s_ketamine_is_more_potent_than_r_ketamine() -> None:
    c = np.array([[50.0, 150.0, 500.0]])
    s_only = nmda_occupancy({"esketamine": c, "noresketamine": 0 * c}, "esketamine")
    racemic = nmda_occupancy({"ketamine": c, "norketamine": 0 * c}, "racemic-ketamine")  # half R-ketamine
    assert np.all(s_only > racemic)
    # Ki: S 0.30 µM, R 1.4 µM; at equal low concentrations the racemate has (0.5/0.3 + 0.5/1.4)/(1/0.3) of S.
    low = np.array([[1e-3]])
    ratio = float(
        (
            nmda_occupancy({"esketamine": low, "noresketamine": 0 * low}, "esketamine")
            / nmda_occupancy({"ketamine": low, "norketamine": 0 * low}, "racemic-ketamine")
        )[0, 0]
    )
    assert ratio == pytest.approx(1.0 / (0.5 + 0.5 * 0.3 / 1.4), rel=1e-3)


def test_parent_occupancy_ignores_the_metabolite_and_inverts() -> None:
    conc = _iv(0.5)
    with_metabolite = nmda_occupancy(
        {"ketamine": conc["ketamine_effect"], "norketamine": conc["norketamine_effect"]}, "racemic-ketamine"
    )
    parent = parent_nmda_occupancy(conc, "racemic-ketamine")
    assert np.all(parent <= with_metabolite + 1e-15)
    o = float(parent.max())
    steady = occupancy_to_parent_ng_ml(o, "racemic-ketamine")
    assert float(
        parent_nmda_occupancy(_conc("racemic-ketamine", np.array([[steady]])), "racemic-ketamine")[0, 0]
    ) == pytest.approx(o)


def test_effect_site_keys_are_preferred_and_missing_ones_raise() -> None:
    c = np.array([[100.0]])
    both = {"ketamine": 10 * c, "ketamine_effect": c}
    plain = {"ketamine": c}
    np.testing.assert_allclose(
        parent_nmda_occupancy(both, "racemic-ketamine"), parent_nmda_occupancy(plain, "racemic-ketamine")
    )
    with pytest.raises(UnknownNameError):
        parent_nmda_occupancy({"esketamine_effect": c}, "racemic-ketamine")
    with pytest.raises(UnknownNameError):
        parent_nmda_occupancy(plain, "no-such-drug")
    with pytest.raises(InvalidInputError):
        parent_nmda_occupancy({"ketamine_effect": np.ones(3)}, "racemic-ketamine")


# --- dissociation ------------------------------------------------------------------------------


@pytest.mark.parametrize("drug", DRUGS)
def test_dissociation_is_zero_without_drug_and_bounded(drug: str) -> None:
    p = DissociationParameters.from_data()
    zero = dissociation(_conc(drug, np.zeros((3, 5))), drug, np.random.default_rng(0))
    assert np.all(zero.change == 0.0)
    assert not zero.meaningful.any()
    huge = dissociation(_conc(drug, np.full((50, 3), 1e7)), drug, np.random.default_rng(1), baseline_cadss=20.0)
    assert np.all(huge.cadss <= p.cadss_max)
    assert np.all(huge.change <= p.cadss_max)


@given(st.lists(st.floats(0.0, 5000.0), min_size=2, max_size=30))
def test_dissociation_is_monotone_in_concentration(values: list[float]) -> None:
    conc = np.sort(np.array(values))[None, :]
    for drug in ("racemic-ketamine", "esketamine"):
        change = dissociation(_conc(drug, conc), drug).change[0]
        assert np.all(np.diff(change) >= -1e-12)


def test_esketamine_dissociates_more_than_racemic_per_ng_ml() -> None:
    c = np.array([[100.0, 200.0]])
    assert np.all(
        dissociation(_conc("esketamine", c), "esketamine").change
        > dissociation(_conc("racemic-ketamine", c), "racemic-ketamine").change
    )


def test_dissociation_shapes_and_reproducibility() -> None:
    conc = {k: np.repeat(v, 7, axis=0) for k, v in _iv(0.5).items()}
    first = dissociation(conc, "racemic-ketamine", np.random.default_rng(42))
    again = dissociation(conc, "racemic-ketamine", np.random.default_rng(42))
    other = dissociation(conc, "racemic-ketamine", np.random.default_rng(43))
    assert first.cadss.shape == first.change.shape == (7, TIMES.size)
    assert first.meaningful.shape == first.peak.shape == first.eta.shape == (7,)
    assert first.meaningful.dtype == np.bool_
    np.testing.assert_array_equal(first.cadss, again.cadss)
    assert not np.array_equal(first.cadss, other.cadss)
    typical = dissociation(conc, "racemic-ketamine")
    assert np.all(typical.eta == 0.0)
    np.testing.assert_allclose(typical.cadss, np.broadcast_to(typical.cadss[:1], typical.cadss.shape))


def test_meaningful_rule_needs_total_above_4_and_a_rise() -> None:
    p = DissociationParameters.from_data()
    none = _conc("racemic-ketamine", np.zeros((1, 4)))
    assert not dissociation(none, "racemic-ketamine", baseline_cadss=10.0).meaningful[0]  # high but no change
    o_thr = p.threshold_occupancy()
    c_thr = occupancy_to_parent_ng_ml(o_thr, "racemic-ketamine")
    below = dissociation(_conc("racemic-ketamine", np.array([[0.98 * c_thr]])), "racemic-ketamine")
    above = dissociation(_conc("racemic-ketamine", np.array([[1.02 * c_thr]])), "racemic-ketamine")
    assert not below.meaningful[0]
    assert above.meaningful[0]
    with_baseline = dissociation(
        _conc("racemic-ketamine", np.array([[0.5 * c_thr]])), "racemic-ketamine", baseline_cadss=3.9
    )
    assert with_baseline.meaningful[0]
    with pytest.raises(InvalidInputError):
        dissociation(none, "racemic-ketamine", baseline_cadss=-1.0)


def test_dissociation_peaks_near_end_of_infusion_and_fades() -> None:
    change = dissociation(_iv(0.5, times=np.arange(0.0, 4.0 + 1e-9, 1.0 / 60.0)), "racemic-ketamine").change[0]
    assert 40 <= int(change.argmax()) <= 55  # minutes: the end of the infusion plus the effect-site lag
    assert change[120] < DissociationParameters.from_data().threshold  # typical patient back below 4 by 2 h
    assert change[240] < 0.25 * change.max()


# --- haemodynamics -----------------------------------------------------------------------------


@pytest.mark.parametrize("drug", DRUGS)
def test_hemodynamics_zero_without_drug_and_bounded(drug: str) -> None:
    p = HemodynamicsParameters.from_data()
    zero = hemodynamics(_conc(drug, np.zeros((4, 6))), drug, np.random.default_rng(0))
    for change in (zero.sbp_change_mmhg, zero.dbp_change_mmhg, zero.hr_change_bpm):
        assert np.all(change == 0.0)
    huge = hemodynamics(_conc(drug, np.full((200, 2), 1e8)), drug, np.random.default_rng(1), baseline_sbp_mmhg=150.0)
    np.testing.assert_allclose(
        huge.sbp_change_mmhg, huge.pressor_sensitivity * p.emax_fraction["sbp"] * 150.0, rtol=1e-6
    )
    np.testing.assert_allclose(
        huge.hr_change_bpm, huge.hr_sensitivity * p.emax_fraction["hr"] * p.baseline["hr"], rtol=1e-6
    )


@given(st.lists(st.floats(0.0, 5000.0), min_size=2, max_size=30))
def test_hemodynamics_monotone_in_concentration(values: list[float]) -> None:
    conc = np.sort(np.array(values))[None, :]
    for drug in ("racemic-ketamine", "esketamine"):
        h = hemodynamics(_conc(drug, conc), drug)
        for change in (h.sbp_change_mmhg, h.dbp_change_mmhg, h.hr_change_bpm):
            assert np.all(np.diff(change[0]) >= -1e-12)


def test_hemodynamics_shapes_reproducibility_and_baselines() -> None:
    conc = {k: np.repeat(v, 5, axis=0) for k, v in _iv(0.5).items()}
    first = hemodynamics(conc, "racemic-ketamine", np.random.default_rng(7))
    again = hemodynamics(conc, "racemic-ketamine", np.random.default_rng(7))
    for a, b in ((first.sbp_change_mmhg, again.sbp_change_mmhg), (first.hr_change_bpm, again.hr_change_bpm)):
        assert a.shape == (5, TIMES.size)
        np.testing.assert_array_equal(a, b)
    assert first.baseline_sbp_mmhg.shape == (5,)
    np.testing.assert_allclose(first.sbp_mmhg, first.baseline_sbp_mmhg[:, None] + first.sbp_change_mmhg)
    mean = hemodynamics(conc, "racemic-ketamine")  # sensitivity 1
    high = hemodynamics(conc, "racemic-ketamine", baseline_sbp_mmhg=np.full(5, 180.0))
    np.testing.assert_allclose(high.sbp_change_mmhg, 1.5 * mean.sbp_change_mmhg)  # proportional to baseline
    with pytest.raises(InvalidInputError):
        hemodynamics(conc, "racemic-ketamine", baseline_dbp_mmhg=0.0)
    with pytest.raises(InvalidInputError):
        hemodynamics(conc, "racemic-ketamine", sessions=np.zeros(3, dtype=np.int64))


def test_sensitivities_have_mean_one() -> None:
    p = HemodynamicsParameters.from_data()
    s = p.sensitivity(np.random.default_rng(3), 200_000, np.zeros(1, dtype=np.int64))
    assert float(s.mean()) == pytest.approx(1.0, rel=0.02)
    assert float(np.log(s).std()) == pytest.approx(p.omega, rel=0.02)


def test_session_index() -> None:
    regimen = iv_acute_series(days=(1, 3, 5))
    times = np.array([0.0, 1.0, 47.9, 48.0, 60.0, 96.0, 200.0])
    np.testing.assert_array_equal(session_index(times, regimen), [0, 0, 0, 1, 1, 2, 2])


def _series_peaks(rng: np.random.Generator | None, params: HemodynamicsParameters | None = None) -> np.ndarray:
    """Largest SBP rise in each of the 6 infusions of the acute series, ``(n, 6)``."""
    regimen = iv_acute_series()
    starts = [d.time_h for d in regimen.doses]
    times = np.unique(np.concatenate([s + np.arange(0.0, 4.0 + 1e-9, 2.0 / 60.0) for s in starts]))
    conc = {k: np.repeat(v, 3, axis=0) for k, v in simulate(regimen, times, effect_sites=True).conc_ng_ml.items()}
    h = hemodynamics(conc, "racemic-ketamine", rng, sessions=session_index(times, regimen), params=params)
    return np.stack([h.sbp_change_mmhg[:, (times >= s) & (times <= s + 4.0)].max(axis=1) for s in starts], axis=1)


def test_no_tolerance_infusion_6_equals_infusion_1() -> None:
    typical = _series_peaks(None)
    np.testing.assert_allclose(typical[:, 5], typical[:, 0], rtol=1e-3)  # carry-over from day 10 is negligible
    patient_only = replace(HemodynamicsParameters.from_data(), session_share=0.0)
    per_patient = _series_peaks(np.random.default_rng(5), patient_only)
    np.testing.assert_allclose(per_patient[:, 5], per_patient[:, 0], rtol=1e-3)
    assert not np.allclose(per_patient[0], per_patient[1])  # patients differ


def test_large_bp_rise_uses_the_label_thresholds() -> None:
    conc = _conc("racemic-ketamine", np.full((1, 3), 150.0))
    h = hemodynamics(conc, "racemic-ketamine")
    times = np.array([0.0, 1.0, 2.0])
    assert not large_bp_rise(h, times)[0]
    big = replace(h, sbp_change_mmhg=np.array([[0.0, 40.0, 0.0]]))
    late = replace(h, dbp_change_mmhg=np.array([[0.0, 0.0, 30.0]]))
    assert large_bp_rise(big, times)[0]
    assert not large_bp_rise(late, times)[0]  # after 1.5 h
    assert large_bp_rise(late, times, session_starts_h=(0.0, 1.9))[0]


def test_closed_form_share_matches_monte_carlo() -> None:
    p = HemodynamicsParameters.from_data()
    times = np.arange(0.0, 1.5 + 1e-9, 2.0 / 60.0)
    conc = simulate(
        Regimen((Dose(0.0, Route.INTRANASAL, amount_mg=84.0),)), times, drug="esketamine", effect_sites=True
    ).conc_ng_ml
    load_ = parent_nmda_load(conc, "esketamine")
    closed = large_rise_share([load_, load_], times, p)
    n = 50_000  # binomial SE of a ~5% share: 0.001
    both = np.concatenate([times, times + 72.0])
    two = {k: np.repeat(np.concatenate([v, v], axis=1), n, axis=0) for k, v in conc.items() if k.endswith("_effect")}
    h = hemodynamics(two, "esketamine", np.random.default_rng(11), sessions=np.repeat([0, 1], times.size))
    simulated = float(large_bp_rise(h, both, (0.0, 72.0)).mean())
    assert simulated == pytest.approx(closed, abs=0.004)


# --- calibration reproduces the packaged values --------------------------------------------------


def test_calibration_reproduces_packaged_dissociation_parameters() -> None:
    fitted = calibrate_dissociation()
    packaged = DissociationParameters.from_data()
    for name in ("o50", "omega", "hill"):
        assert getattr(fitted, name) == pytest.approx(getattr(packaged, name), rel=2e-3), name


def test_calibration_reproduces_packaged_hemodynamic_parameters() -> None:
    fitted = calibrate_hemodynamics()
    packaged = HemodynamicsParameters.from_data()
    assert fitted.hill == pytest.approx(packaged.hill, rel=2e-3)
    assert fitted.omega == pytest.approx(packaged.omega, rel=2e-3)
    for endpoint in ("sbp", "dbp", "hr"):
        assert fitted.l50[endpoint] == pytest.approx(packaged.l50[endpoint], rel=2e-3), endpoint


def test_derived_and_assumed_values_say_how() -> None:
    for section in ("dissociation", "hemodynamics"):
        text = str(load("pd.yaml")[section])
        assert "DERIVED" in text
        assert "source" in text
    for entry in (load("pd.yaml")["dissociation"][k] for k in ("hill", "o50", "omega")):
        assert entry["status"] == "DERIVED"
        assert "derivation" in entry
