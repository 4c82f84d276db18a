"""The calibrated antidepressant-response model against published trial results.

Each target of data/calibration_targets.yaml is one test: fitted rows are ``calibrated``, ``held_out`` rows (never
in the fit) are ``predicted``. A row passes when |model - published| <= 2 sqrt(SE^2 + MC^2), SE the published
sampling error and MC the model's Monte-Carlo SE; hazard ratios are compared on the log scale. The virtual
populations are the calibration's own (same size and seed), so the printed values are those of the fit.
"""

from __future__ import annotations

import math

import pytest

from ketamine_therapy.pharmacology._data import load
from ketamine_therapy.pharmacology.response import load_parameters
from ketamine_therapy.pharmacology.response.calibration import Calibration, Row
from tests.validation._table import CALIBRATED, PREDICTED, Tolerance, ValidationTable

pytestmark = pytest.mark.validation

CALIBRATED_WITH = load("response_model.yaml").get("calibrated_with", {})
# Why each known miss happens, by target-id prefix (the numbers are in KNOWN_MISSES).
CAUSES = {
    "synapse_": "SYNAPSE day-8 responder counts (1-5 of 11-33) are below what the day-8 mean changes, which the same "
    "fit matches, imply under the model's between-patient spread",
    "transform1_": "TRANSFORM-1 (held out) had fewer responders than TRANSFORM-2 (fitted) with the same regimen; the "
    "model has no between-trial variability, so it predicts TRANSFORM-1 like TRANSFORM-2",
    "elektd_ket_response_qids": "ELEKT-D (held out): the Carmody linear link of latent MADRS gives fewer QIDS-SR16 "
    "than MADRS responders; the trial found more",
    "hu16_": "Hu 2016 (held out, n=13): 'response by 4 weeks' may be cumulative (a time-to-event outcome); the model "
    "reads response at day 28",
    "han_remission": "Han 2016 pooled remission rises from 24 h to day 7 while response falls; one decaying drug state "
    "cannot do both",
    "escape_": "ESCAPE-TRD (held out, secondary source): flexible doses (84 mg assumed) with an ongoing oral "
    "antidepressant, open label; the model under-predicts week-8 remission and the cause is not established",
    "sustain2_older": "SUSTAIN-2 (held out, open label): older adults improved as much as younger ones; the model's "
    "step at 65, fitted to the double-blind TRANSFORM-3, predicts far less. The two older-adult results conflict "
    "(open label; many transferred from TRANSFORM-3)",
    "sustain2_younger": "SUSTAIN-2 (held out, open label, n=624): the band (+/-0.7 points) is narrower than the "
    "between-trial spread of esketamine trials, which the model does not carry",
}
KNOWN_MISSES: dict[str, str] = {
    "han_remission_7d": "model 0.207 vs published 0.262, band +/-0.047",
    "synapse_28_resp_d8": "model 0.441 vs published 0.09, band +/-0.17",
    "synapse_56_resp_d8": "model 0.451 vs published 0.18, band +/-0.23",
    "transform1_56_response_d28": "model 0.693 vs published 0.541, band +/-0.095",
    "transform1_84_response_d28": "model 0.69 vs published 0.531, band +/-0.095",
    "transform1_56_remission_d28": "model 0.552 vs published 0.36, band +/-0.092",
    "transform1_84_remission_d28": "model 0.552 vs published 0.388, band +/-0.093",
    "escape_esk_remission_w8": "model 0.178 vs published 0.271, band +/-0.051",
    "elektd_ket_response_qids_end": "model 0.414 vs published 0.554, band +/-0.074",
    "hu16_ket_response_d28": "model 0.568 vs published 0.923, band +/-0.15",
    "sustain2_older_change_d28": "model -11 vs published -18.1, band +/-1.5",
    "sustain2_younger_change_d28": "model -19.8 vs published -18, band +/-0.71",
}


@pytest.fixture(scope="module")
def calibration() -> Calibration:
    return Calibration(n_per_arm=int(CALIBRATED_WITH["n_per_arm"]), seed=int(CALIBRATED_WITH["seed"]))


@pytest.fixture(scope="module")
def rows(calibration: Calibration) -> dict[str, Row]:
    return {r.id: r for r in calibration.rows(load_parameters())}


TARGETS = [t["id"] for t in load("calibration_targets.yaml")["targets"]]
ORDERINGS = [o["id"] for o in load("calibration_targets.yaml")["orderings"]]


def _param(target_id: str):  # type: ignore[no-untyped-def]
    if target_id not in KNOWN_MISSES:
        return pytest.param(target_id, id=target_id)
    cause = next(text for prefix, text in CAUSES.items() if target_id.startswith(prefix))
    marks = [pytest.mark.xfail(strict=True, raises=AssertionError, reason=f"{KNOWN_MISSES[target_id]}. {cause}.")]
    return pytest.param(target_id, marks=marks, id=target_id)


@pytest.mark.parametrize("target_id", [_param(t) for t in TARGETS])
def test_target(target_id: str, rows: dict[str, Row], validation: ValidationTable) -> None:
    row = rows[target_id]
    log = row.on_log_scale
    validation.check(
        f"{target_id} (log HR)" if log else target_id,
        published=math.log(row.target) if log else row.target,
        model=math.log(row.model) if log else row.model,
        tol=Tolerance.absolute(row.band),
        basis=PREDICTED if row.held_out else CALIBRATED,
        source=row.source,
        note=f"SE {row.se:.3g}, Monte-Carlo SE {row.mc_se:.3g}",
    )
    validation.conclude()


def test_held_out_share_and_every_row_sourced() -> None:
    """At least a third of the sourced targets are held out, and every row names its source and sampling error."""
    targets = load("calibration_targets.yaml")["targets"]
    held = [t for t in targets if t.get("held_out")]
    assert len(held) >= len(targets) / 3
    for t in targets:
        assert t["source"].strip()
        assert any(key in t for key in ("n", "se", "sd", "log_se")), t["id"]


@pytest.mark.parametrize("ordering_id", ORDERINGS)
def test_ordering(ordering_id: str, calibration: Calibration, validation: ValidationTable) -> None:
    margins = {o[0]: o for o in calibration.orderings_rows(load_parameters())}
    _, margin, se, source = margins[ordering_id]
    validation.check(
        f"{ordering_id}: MADRS change of the worse arm minus the better arm (> 2 MC SE)",
        published=(2 * se, 60.0),
        model=margin,
        tol=Tolerance.published_range(),
        basis=PREDICTED,
        source=source,
        unit="points",
    )
    validation.conclude()
