"""The exact solver agrees with two independent references to 1e-6 relative, every model and route.

References: closed-form superposition with scipy.linalg.expm, and scipy solve_ivp (Radau,
rtol 1e-11). Relative error is |a - b| / max(|b|, 1e-6 * peak of that curve).
"""

from __future__ import annotations

import numpy as np
import pytest

from ketamine_therapy.pharmacology import (
    Covariates,
    Dose,
    Regimen,
    Route,
    get_model,
    list_models,
    solve,
)
from ketamine_therapy.pharmacology.models import PKModel
from tests.reference import amounts_by_ode, amounts_by_superposition

RTOL = 1e-6

# A dose within each model's validated range per route (mg or mg/kg).
DOSES = {
    Route.IV: {"amount_mg_per_kg": 0.3, "duration_h": 40 / 60},
    Route.IM: {"amount_mg_per_kg": 0.5},
    Route.INTRANASAL: {"amount_mg": 25.0},
    Route.SUBLINGUAL: {"amount_mg": 25.0},
    Route.ORAL: {"amount_mg": 25.0},
    Route.RECTAL: {"amount_mg": 25.0},
}


def _dose(model: PKModel, route: Route, time_h: float) -> Dose:
    kwargs = dict(DOSES[route])
    if model.id == "perez-ruixo-2021":
        kwargs = {Route.INTRANASAL: {"amount_mg": 84.0}, Route.IV: {"amount_mg": 28.0, "duration_h": 0.5},
                  Route.ORAL: {"amount_mg": 84.0}}[route]  # fmt: skip
    if model.id == "fanta-otto-2021" and route is Route.ORAL:
        kwargs = {"amount_mg_per_kg": 0.25}
    return Dose(time_h, route, **kwargs)  # type: ignore[arg-type]


CASES = [(m.id, r) for m in list_models() for r in m.routes]


def _rel_err(actual: np.ndarray, expected: np.ndarray) -> float:
    floor = 1e-6 * np.max(np.abs(expected), axis=0, keepdims=True)
    return float(np.max(np.abs(actual - expected) / np.maximum(np.abs(expected), np.maximum(floor, 1e-300))))


@pytest.mark.parametrize("kernel_choice", ["generic", "generated"])
@pytest.mark.parametrize(("model_id", "route"), CASES)
def test_solver_matches_independent_references(model_id: str, route: Route, kernel_choice: str) -> None:
    model = get_model(model_id)
    low, high = model.weight_range_kg
    cov = Covariates.typical(3, weight_kg=min(max(70.0, low), high), age_y=float(np.clip(40, *model.age_range_y)))
    rng = np.random.default_rng(11)
    params = model.individual_parameters(cov, model.sample_eta(cov.n, rng))
    regimen = Regimen((_dose(model, route, 0.0), _dose(model, route, 7.25)))
    system = model.system(params, regimen.routes)
    events = [e for d in regimen.doses for e in model.dose_events(d, params, cov, system)]
    # irregular grid: includes dose times, mid-infusion and mid-device times, and a long tail
    times = np.unique(np.concatenate([np.linspace(0, 2, 37), [0.05, 0.1, 0.4, 7.25, 7.3], np.geomspace(2.1, 72, 25)]))
    conc, status = solve(system, events, times, kernel_choice=kernel_choice)
    assert np.all(status == 0)
    for s in range(cov.n):
        exact = amounts_by_superposition(system.rate_matrix[s], events, s, times)
        for a, (cmt, volume) in enumerate(system.observed.values()):
            assert _rel_err(conc[a, s], exact[:, cmt] * 1000.0 / volume[s]) < RTOL
    ode = amounts_by_ode(system.rate_matrix[0], events, 0, times)  # one subject: Radau is slow
    for a, (cmt, volume) in enumerate(system.observed.values()):
        assert _rel_err(conc[a, 0], ode[:, cmt] * 1000.0 / volume[0]) < RTOL


def test_bad_subject_gets_a_status_not_an_exception() -> None:
    model = get_model("clements-1981")
    cov = Covariates.typical(3)
    params = model.typical_parameters(cov)
    params["CL"] = np.array([params["CL"][0], np.nan, params["CL"][0]])
    regimen = Regimen((Dose(0.0, Route.IV, amount_mg=35.0, duration_h=0.5),))
    system = model.system(params, regimen.routes)
    events = model.dose_events(regimen.doses[0], params, cov, system)
    conc, status = solve(system, events, np.linspace(0, 4, 9))
    assert status.tolist() == [0, 1, 0]
    assert np.all(np.isnan(conc[:, 1]))
    assert np.all(np.isfinite(conc[:, [0, 2]]))
    np.testing.assert_array_equal(conc[:, 0], conc[:, 2])


def test_output_buffer_is_reused_and_shape_checked() -> None:
    model = get_model("clements-1981")
    cov = Covariates.typical(2)
    params = model.typical_parameters(cov)
    dose = Dose(0.0, Route.IV, amount_mg=35.0, duration_h=0.5)
    system = model.system(params, frozenset({Route.IV}))
    events = model.dose_events(dose, params, cov, system)
    times = np.linspace(0, 4, 9)
    buffer = np.empty((2, 2, 9))
    conc, _ = solve(system, events, times, out=buffer)
    assert conc is buffer
    with pytest.raises(ValueError, match="out"):
        solve(system, events, times, out=np.empty((2, 2, 8)))


@pytest.mark.parametrize("times", [[], [1.0, 0.5], [-1.0, 2.0], [0.0, np.nan]])
def test_bad_time_grids_are_rejected(times: list[float]) -> None:
    model = get_model("clements-1981")
    cov = Covariates.typical()
    params = model.typical_parameters(cov)
    system = model.system(params, frozenset({Route.IV}))
    events = model.dose_events(Dose(0.0, Route.IV, amount_mg=35.0), params, cov, system)
    with pytest.raises(ValueError, match="times_h"):
        solve(system, events, np.array(times))
