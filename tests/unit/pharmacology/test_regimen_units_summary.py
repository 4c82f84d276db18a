"""Regimens, unit conversions, exposure summaries and simulation entry points."""

from __future__ import annotations

import numpy as np
import pytest

from ketamine_therapy.pharmacology import (
    Covariates,
    Dose,
    InvalidInputError,
    Regimen,
    Route,
    iv_acute_series,
    sample_covariates,
    simulate,
    simulate_chunks,
    spravato_trd_schedule,
    summary,
    units,
)  # fmt: skip


def test_iv_acute_series_is_six_infusions_over_twelve_days() -> None:
    regimen = iv_acute_series()
    assert [d.time_h / 24 + 1 for d in regimen.doses] == [1, 3, 5, 8, 10, 12]
    assert all(d.duration_h == pytest.approx(40 / 60) and d.amount_mg_per_kg == 0.5 for d in regimen.doses)


def test_spravato_label_schedule() -> None:
    """SPRAVATO PI: weeks 1-4 twice weekly (day 1 = 56 mg), weeks 5-8 weekly, then every 2 weeks."""
    regimen = spravato_trd_schedule(dose_mg=84, weeks=12)
    days = [d.time_h / 24 + 1 for d in regimen.doses]
    assert days == [1, 4, 8, 11, 15, 18, 22, 25, 29, 36, 43, 50, 57, 71]
    assert regimen.doses[0].amount_mg == 56
    assert {d.amount_mg for d in regimen.doses[1:]} == {84}
    with pytest.raises(InvalidInputError, match="dose_mg"):
        spravato_trd_schedule(dose_mg=70)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount_mg": -1.0}, "dose_mg"),
        ({"amount_mg": float("nan")}, "dose_mg"),
        ({"amount_mg_per_kg": 0.0}, "dose_mg_per_kg"),
        ({}, "dose"),
        ({"amount_mg": 1.0, "amount_mg_per_kg": 1.0}, "dose"),
        ({"amount_mg": 1.0, "duration_h": -1.0}, "duration"),
    ],
)
def test_bad_doses_name_their_field(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        Dose(0.0, Route.IV, **kwargs)  # type: ignore[arg-type]
    assert exc.value.field == field


def test_only_iv_doses_are_infused() -> None:
    with pytest.raises(InvalidInputError, match="duration"):
        Dose(0.0, Route.ORAL, amount_mg=25.0, duration_h=1.0)


@pytest.mark.parametrize("days", [[], [0, 1], [2, 2]])
def test_bad_days(days: list[int]) -> None:
    with pytest.raises(InvalidInputError, match="days"):
        Regimen.on_days(Dose(0.0, Route.IV, amount_mg=1.0), days)


def test_unit_conversions() -> None:
    assert units.ng_ml_to_um(185.0, "ketamine") == pytest.approx(0.778, abs=1e-3)  # Zanos 2018 Table 1
    assert units.um_to_ng_ml(units.ng_ml_to_um(50.0, "norketamine"), "norketamine") == pytest.approx(50.0)
    assert units.base_to_hcl_mg(100.0) == pytest.approx(115.3)  # Ketalar label
    assert units.hcl_to_base_mg(115.33) == pytest.approx(100.0, rel=1e-3)
    with pytest.raises(InvalidInputError, match="analyte"):
        units.molar_mass_g_per_mol("caffeine")


def test_summaries_of_a_known_curve() -> None:
    times = np.linspace(0, 48, 4801)
    conc = 100.0 * np.exp(-0.25 * times)[None, :]  # C0 100, k 0.25/h: AUCinf 400, t1/2 ln2/0.25
    assert summary.cmax(conc)[0] == 100.0
    assert summary.tmax(conc, times)[0] == 0.0
    assert summary.auc_to_infinity(conc, times)[0] == pytest.approx(400.0, rel=1e-6)
    assert summary.half_life_h(conc, times)[0] == pytest.approx(np.log(2) / 0.25)
    assert summary.time_above(conc, times, 50.0)[0] == pytest.approx(np.log(2) / 0.25, rel=1e-4)
    assert summary.concentration_at(conc, times, 4.0)[0] == pytest.approx(100 * np.exp(-1), rel=1e-4)
    assert summary.percentiles(np.arange(101.0)) == {"p5": 5.0, "p50": 50.0, "p95": 95.0}


def test_dose_above_validated_range_needs_extrapolate() -> None:
    regimen = Regimen((Dose(0.0, Route.IV, amount_mg_per_kg=2.0, duration_h=0.5),))
    with pytest.raises(InvalidInputError, match="dose_mg_per_kg"):
        simulate(regimen, np.linspace(0, 2, 5))
    assert simulate(regimen, np.linspace(0, 2, 5), extrapolate=True).extrapolated


def test_subjects_outside_the_model_population_need_extrapolate() -> None:
    regimen = iv_acute_series(days=[1])
    with pytest.raises(InvalidInputError, match="age_y"):  # a 40-year-old in a paediatric model
        simulate(regimen, np.linspace(0, 2, 5), model="hornik-2018")
    with pytest.raises(InvalidInputError, match="weight_kg"):
        simulate(
            regimen,
            np.linspace(0, 2, 5),
            model="hornik-2018",
            covariates=Covariates.typical(weight_kg=90, age_y=10),
        )
    with pytest.raises(InvalidInputError, match="weight_kg"):  # the default's extrapolated range ends at 150 kg
        simulate(regimen, np.linspace(0, 2, 5), covariates=Covariates.typical(weight_kg=160.0))
    child = Covariates.typical(weight_kg=20.0, age_y=6.0)
    assert simulate(regimen, np.linspace(0, 2, 5), model="hornik-2018", covariates=child).status[0] == 0


def test_unmodelled_route_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="route"):
        simulate(
            Regimen((Dose(0.0, Route.RECTAL, amount_mg=25.0),)),
            np.linspace(0, 2, 5),
            drug="esketamine",
        )


def test_chunks_equal_one_batch_for_the_same_seed() -> None:
    regimen = iv_acute_series(days=[1, 3])
    times = np.linspace(0, 72, 145)
    cov = sample_covariates(50, np.random.default_rng(1))
    whole = simulate(regimen, times, covariates=cov, iiv=True, rng=5)
    parts = [c.conc_ng_ml["ketamine"].copy() for c in simulate_chunks(regimen, times, cov, rng=5, chunk_size=16)]
    np.testing.assert_array_equal(np.concatenate(parts), whole.conc_ng_ml["ketamine"])


def test_residual_error_is_reproducible_and_centred() -> None:
    result = simulate(iv_acute_series(days=[1]), np.linspace(0.5, 4, 8), covariates=Covariates.typical(4000))
    observed = result.observe(np.random.default_rng(3))["ketamine"]
    again = result.observe(np.random.default_rng(3))["ketamine"]
    np.testing.assert_array_equal(observed, again)
    ratio = observed / result.conc_ng_ml["ketamine"]
    assert ratio.mean() == pytest.approx(1.0, abs=0.01)
    assert ratio.std() == pytest.approx(0.236, rel=0.05)  # Otto 2021 proportional SD (borrowed)
