"""The response model's fit table (docs/models/response.md): every target of data/calibration_targets.yaml.

Recomputes each target with the shipped parameters on the calibration's own virtual populations (same n and
seed as ``response_model.yaml``'s ``calibrated_with``) and prints a Markdown table: target, published value with
its SE (and n where published), model value with its Monte-Carlo SE, acceptance band (2 sqrt(SE^2 + MC^2); log
scale for hazard ratios), fitted or held out, pass or miss, source. The last line::

    RESULT response_calibration fitted_pass=<a>/<b> held_out_pass=<c>/<d> seconds=<s>

Run: ``python benchmarks/response_calibration_table.py``.
"""

from __future__ import annotations

import time

from ketamine_therapy.pharmacology._data import load
from ketamine_therapy.pharmacology.response import load_parameters
from ketamine_therapy.pharmacology.response.calibration import Calibration


def main() -> None:
    start = time.perf_counter()
    document = load("response_model.yaml")
    settings = document["calibrated_with"]
    calibration = Calibration(n_per_arm=int(settings["n_per_arm"]), seed=int(settings["seed"]))
    rows = calibration.rows(load_parameters())
    n_of = {t["id"]: t.get("n") for t in calibration.targets}
    print(f"Response model {document['version']}: {settings['n_per_arm']} virtual patients per arm, seed "
          f"{settings['seed']}.\n")  # fmt: skip
    print("| target | published (SE; n) | model (MC SE) | band | set | result | source |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        n = f"; n={n_of[r.id]}" if n_of[r.id] else ""
        band = f"±{r.band:.2g}" + (" (log HR)" if r.on_log_scale else "")
        kind = "held out" if r.held_out else "fitted"
        verdict = "pass" if r.passed else "**miss**"
        print(f"| {r.id} | {r.target:.3g} ({r.se:.2g}{n}) | {r.model:.3g} ({r.mc_se:.2g}) | {band} | {kind} | "
              f"{verdict} | {r.source} |")  # fmt: skip
    print("\n| ordering (held out, qualitative) | margin (points) | MC SE | holds (> 2 SE) |")
    print("|---|---|---|---|")
    for name, margin, se, _ in calibration.orderings_rows(load_parameters()):
        print(f"| {name} | {margin:.3g} | {se:.2g} | {'yes' if margin > 2 * se else '**no**'} |")
    fitted = [r for r in rows if not r.held_out]
    held = [r for r in rows if r.held_out]
    seconds = time.perf_counter() - start
    print(f"\nRESULT response_calibration fitted_pass={sum(r.passed for r in fitted)}/{len(fitted)} "
          f"held_out_pass={sum(r.passed for r in held)}/{len(held)} seconds={seconds:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
