"""Properties every linear PK solution must have: linearity, superposition, positivity, mass balance."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ketamine_therapy.pharmacology import Covariates, Regimen, Route, default_model, get_model, simulate, solve
from ketamine_therapy.pharmacology._linear import LinearSystem
from tests.strategies import regimens

TIMES = np.linspace(0, 72, 289)
MODEL = default_model("racemic-ketamine")


def _conc(regimen: Regimen) -> np.ndarray:
    result = simulate(regimen, TIMES, model=MODEL, extrapolate=True)
    return np.stack([result.conc_ng_ml[a][0] for a in result.analytes])


@given(regimens, st.floats(0.1, 10))
def test_concentrations_scale_with_dose(regimen: Regimen, factor: float) -> None:
    scaled = Regimen(tuple(replace(d, amount_mg=d.amount_mg * factor) for d in regimen.doses))  # type: ignore[operator]
    np.testing.assert_allclose(_conc(scaled), factor * _conc(regimen), rtol=1e-9, atol=1e-12)


@given(regimens, regimens)
def test_doses_superpose(first: Regimen, second: Regimen) -> None:
    both = Regimen(first.doses + second.doses)
    np.testing.assert_allclose(_conc(both), _conc(first) + _conc(second), rtol=1e-9, atol=1e-9)


@given(regimens)
def test_concentrations_are_never_negative(regimen: Regimen) -> None:
    conc = _conc(regimen)
    assert np.all(conc >= -1e-12 * max(1.0, float(conc.max())))


@given(regimens, st.sampled_from(["herd-2007", "clements-1981", "domino-1982", "fanta-otto-2021"]))
def test_mass_balance(regimen: Regimen, model_id: str) -> None:
    """Drug in the body plus drug eliminated equals drug given, at every time (to 1e-9)."""
    model = get_model(model_id)
    kept = tuple(d for d in regimen.doses if d.route in model.routes)
    regimen = Regimen(kept or (replace(regimen.doses[0], route=Route.IV, duration_h=0.0),))
    cov = Covariates.typical()
    params = model.typical_parameters(cov)
    system = model.system(params, regimen.routes)
    n = len(system.compartments)
    matrix = np.zeros((1, n + 1, n + 1))
    matrix[:, :n, :n] = system.rate_matrix
    matrix[:, n, :n] = -system.rate_matrix.sum(axis=1)  # what leaves the system goes to a sink
    one = np.ones(1)
    closed = LinearSystem(
        (*system.compartments, "sink"), matrix, {f"c{i}": (i, one * 1000.0) for i in range(n + 1)}
    )  # concentration in ng/mL with V = 1000 L equals the amount in mg
    events = [e for d in regimen.doses for e in model.dose_events(d, params, cov, system)]
    amounts, status = solve(closed, events, TIMES)
    given_by = np.zeros(TIMES.size)
    for e in events:
        if e.duration_h == 0:
            given_by += np.where(e.time_h <= TIMES, e.amount_mg[0], 0.0)
        else:
            given_by += e.amount_mg[0] * np.clip((TIMES - e.time_h) / e.duration_h, 0.0, 1.0)
    assert status[0] == 0
    np.testing.assert_allclose(amounts[:, 0].sum(axis=0), given_by, rtol=1e-9, atol=1e-9)
