"""Face-validity table of the response model (issue 11), for docs/models/response.md.

Simulates one virtual population (``--n`` patients, the same patients, random effects and rating errors in every
scenario) through single IV infusions of 0.1/0.2/0.5/1.0 mg/kg, one vs six IV infusions, esketamine 28/56/84 mg
twice weekly, oral racemic 50 mg once, midazolam and saline single sessions, esketamine maintenance continued vs
stopped at week 16, and esketamine at age 30 vs 70; prints each quantity with its Monte-Carlo SE as a Markdown
table, then every ordering of ``face_validity.orderings`` with the paired difference and its SE. The last line::

    RESULT response_face_validity n=<n> orderings_held=<k>/<m> seconds=<s>

Run: ``python benchmarks/response_face_validity.py [--n 4000] [--seed 11]``.
"""

from __future__ import annotations

import argparse
import math
import time

from ketamine_therapy.pharmacology._data import load
from ketamine_therapy.pharmacology.response.face_validity import difference, face_validity, orderings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=4000, help="virtual patients (shared by every scenario)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    start = time.perf_counter()
    quantities = face_validity(args.n, args.seed)
    seconds = time.perf_counter() - start
    version = load("response_model.yaml")["version"]
    print(f"Response model {version}, {args.n} virtual patients, seed {args.seed}.\n")
    print("| scenario | quantity | model | MC SE |")
    print("|---|---|---|---|")
    for q in quantities:
        shown = "not reached" if math.isinf(q.value) else f"{q.value:.3g}"
        se = "–" if math.isnan(q.se) else f"{q.se:.2g}"
        print(f"| {q.scenario} | {q.measure} | {shown} | {se} |")
    print("\n| ordering | difference | MC SE | holds (> 2 SE) |")
    print("|---|---|---|---|")
    held = 0
    checks = orderings(quantities)
    for statement, smaller, larger in checks:
        diff, se = difference(smaller, larger)
        ok = diff > 2 * se
        held += ok
        print(f"| {statement} | {diff:.3g} | {se:.2g} | {'yes' if ok else '**no**'} |")
    print(f"\nRESULT response_face_validity n={args.n} orderings_held={held}/{len(checks)} seconds={seconds:.1f}")


if __name__ == "__main__":
    main()
