"""The calibrated antidepressant-response model against published trial results.

Each target of data/calibration_targets.yaml is one test; fitted targets are ``calibrated``,
``held_out`` ones (not fitted) are ``predicted``. The virtual populations are the ones the
calibration used (same seed and size), so the printed values are those of the fit.
"""

from __future__ import annotations

import pytest

from ketamine_therapy.pharmacology._data import load
from ketamine_therapy.pharmacology.response import load_parameters
from ketamine_therapy.pharmacology.response.calibration import Calibration, Row
from tests.validation._table import CALIBRATED, PREDICTED, Tolerance, ValidationTable

pytestmark = pytest.mark.validation

CALIBRATION_N = int(load("response_model.yaml").get("calibrated_with", {}).get("n_per_arm", 600))
KNOWN_MISSES: dict[str, str] = {
    "han_remission_7d": (
        "Han 2016 pooled remission rises from 24 h to day 7 (20.6 -> 26.2%) while response falls (52.2 -> 39.8%); "
        "in this model both follow one decaying plasticity state, so remission falls too (model 17.3%)."
    ),
    "singh_thrice_pbo_d15": (
        "Singh 2016's thrice-weekly placebo arm improved less (-3.1) than its twice-weekly arm (-5.7); the model's "
        "per-session expectancy gives more sessions more placebo effect (-7.3). Small placebo arms (n~8-9 each)."
    ),
    "synapse_28_d8": (
        "SYNAPSE shows an esketamine dose-response at the day-8 visit (-9.8/-12.4/-15.3 for 28/56/84 mg); the model's "
        "plasticity saturates after two doses, so 28 and 56 mg come out like 84 mg (-15.1)."
    ),
    "synapse_56_d8": "Same cause as synapse_28_d8: model -15.6 vs -12.4.",
    # Issue 9 changed the racemic PK default (clements-1981 -> herd-2007) and the intranasal F (0.45 -> 0.13);
    # response_model.yaml was calibrated on the old exposures and is recalibrated by the response-model work.
    "han_remission_72h": "Calibrated on clements-1981 exposures; on herd-2007 the model gives 17.0% against 23.8%.",
    "lapidus_in_response_24h": (
        "Calibrated with intranasal F 0.45; with the patient-study F 0.13 (herd-2007) 50 mg intranasal gives 24% "
        "responders against 44%."
    ),
}


@pytest.fixture(scope="module")
def rows() -> dict[str, Row]:
    calibration = Calibration(n_per_arm=CALIBRATION_N)
    return {r.id: r for r in calibration.rows(load_parameters())}


TARGETS = [t["id"] for t in load("calibration_targets.yaml")["targets"]]
ORDERINGS = [o["id"] for o in load("calibration_targets.yaml")["orderings"]]


def _param(target_id: str):  # type: ignore[no-untyped-def]
    marks = [pytest.mark.xfail(strict=True, raises=AssertionError, reason=KNOWN_MISSES[target_id])] if (
        target_id in KNOWN_MISSES) else []  # fmt: skip
    return pytest.param(target_id, marks=marks, id=target_id)


@pytest.mark.parametrize("target_id", [_param(t) for t in TARGETS])
def test_target(target_id: str, rows: dict[str, Row], validation: ValidationTable) -> None:
    row = rows[target_id]
    validation.check(
        target_id,
        published=row.target,
        model=row.model,
        tol=Tolerance.absolute(row.tolerance),
        basis=PREDICTED if row.held_out else CALIBRATED,
        source=row.source,
    )
    validation.conclude()


@pytest.mark.parametrize("ordering_id", ORDERINGS)
def test_ordering(ordering_id: str, rows: dict[str, Row], validation: ValidationTable) -> None:
    row = rows[ordering_id]
    validation.check(
        f"{ordering_id}: MADRS change of the better arm minus the worse arm >= 0",
        published=(0.0, 60.0),
        model=row.model,
        tol=Tolerance.published_range(),
        basis=PREDICTED,
        source=row.source,
        unit="points",
    )
    validation.conclude()
