"""Racemic ketamine, every route: published Cmax, Tmax, AUC and norketamine against the default model.

The rows live in ``_racemic_targets.py`` (fitted or held out, with n, spread and tolerance). A second
test scores every registered racemic model on the held-out rows: the model choice of
docs/models/pharmacokinetics.md, and the check that the default is the best of them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ketamine_therapy.pharmacology import Dose, Regimen, Route, default_model, list_models, simulate, summary

from ._racemic_targets import MODEL_CHOICE_KEYS, TARGETS, Target, candidate, model_value, within
from ._table import Tolerance, ValidationTable

pytestmark = pytest.mark.validation

KNOWN_MISSES = {
    "zarate_peak": (
        "herd-2007 peaks at 253 ng/mL, +37% over Zarate 2006's 185 (no dispersion published, via a review); the "
        "same model is within 2% of the IV AUC and 32% low at 2 min after a bolus: no registered model meets the "
        "infusion peak and the bolus level together (model-choice table)."
    ),
    "bolus_2min": (
        "herd-2007 gives 200 ng/mL 2 min after 10 mg IV, 32% below the published 296 (GSD 1.71, n=9; the 95% CI "
        "of the geometric mean is 209-420); clements-1981 gives 77 (-74%)."
    ),
}


def _row(target: Target) -> object:
    marks = [pytest.mark.xfail(strict=True, raises=AssertionError, reason=KNOWN_MISSES[target.key])] if (
        target.key in KNOWN_MISSES
    ) else []  # fmt: skip
    return pytest.param(target, id=target.key, marks=marks)


@pytest.mark.parametrize("target", [_row(t) for t in TARGETS])
def test_published_exposure(target: Target, validation: ValidationTable) -> None:
    model = default_model("racemic-ketamine")
    validation.check(
        f"{target.analyte} {target.label} ({model.id})",
        published=target.published,
        model=model_value(model, target),
        tol=target.tol,
        basis=target.basis,
        source=f"{target.source}; n={target.n}, {target.spread}",
        unit=target.unit,
        note=target.note,
    )
    validation.conclude()


def _score(model_id: str) -> tuple[int, float]:
    """(rows within tolerance, mean |log(model / published)|) over the held-out rows; missing routes count as misses."""
    model = candidate(model_id)
    values = [(t, model_value(model, t)) for t in TARGETS if t.key in MODEL_CHOICE_KEYS]
    errors = [abs(math.log(v / t.published)) if math.isfinite(v) and v > 0 else math.inf for t, v in values]
    return sum(within(t, v) for t, v in values), float(np.mean(errors))


def test_default_is_the_best_registered_racemic_model(validation: ValidationTable) -> None:
    candidates = [m.id for m in list_models() if m.drug == "racemic-ketamine"]
    scores = {m: _score(m) for m in candidates}
    for model_id in candidates:
        hits, error = scores[model_id]
        validation.info(
            f"model choice: held-out rows within tolerance ({model_id})",
            published=f"{len(MODEL_CHOICE_KEYS)} rows",
            model=f"{hits} (mean |log error| {error:.2f})",
            source="held-out rows, every route offered to every model; an unreachable peak is a miss",
        )
    best = max(candidates, key=lambda m: (scores[m][0], -scores[m][1]))
    validation.check(
        "held-out rows within tolerance, default minus best",
        published=0.0,
        model=float(scores[default_model("racemic-ketamine").id][0] - scores[best][0]),
        tol=Tolerance.absolute(0.0),
        basis="predicted",
        source=f"best: {best}",
    )
    validation.conclude()


def test_norketamine_exposure_yanagihara_information(validation: ValidationTable) -> None:
    """Yanagihara 2003 (n = 3, no dispersion) norketamine AUCs: printed, not judged.

    Only the oral value is stated per enantiomer (500 ng·h/mL each, so ~1000 racemic); whether the
    others are per enantiomer is not stated. With n = 3 and no dispersion there is no defensible
    tolerance.
    """
    model = default_model("racemic-ketamine")
    for route, dose, end_h, published, note in (
        (Route.ORAL, 50.0, 8.0, 1000.0, "500 per enantiomer x 2"),
        (Route.SUBLINGUAL, 50.0, 8.0, (280.0, 460.0), "per enantiomer or racemic: not stated"),
        (Route.RECTAL, 50.0, 8.0, (280.0, 460.0), "per enantiomer or racemic: not stated"),
        (Route.INTRANASAL, 25.0, 6.0, 100.0, "per enantiomer or racemic: not stated"),
    ):
        times = np.arange(0.0, end_h + 1e-9, 1.0 / 60.0)
        result = simulate(Regimen((Dose(0.0, route, amount_mg=dose),)), times)
        validation.info(
            f"racemic norketamine AUC0-{end_h:g}h, {dose:g} mg {route.value} ({model.id})",
            published=published,
            model=float(summary.auc(result.conc_ng_ml["norketamine"], times)[0]),
            source="Yanagihara 2003 (abstract; n=3)",
            unit="ng·h/mL",
            note=note,
        )
    times = np.arange(0.0, 4.0 + 1e-9, 1.0 / 360.0)
    im = simulate(Regimen((Dose(0.0, Route.IM, amount_mg_per_kg=1.0),)), times).conc_ng_ml["ketamine"]
    validation.info(
        f"ketamine Cmax, 1.0 mg/kg IM ({model.id})",
        published=474.0,
        model=float(summary.cmax(im)[0]),
        source="Anaesthesist 1984 (PMID 6476334), median at 15 min",
        unit="ng/mL",
        note="3.2x the 0.5 mg/kg group's median for 2x the dose: not dose-proportional, so not judged",
    )
    validation.conclude()
