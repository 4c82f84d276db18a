"""In-silico trial at scale: 100,000 patients per arm, streamed in chunks, vs a single-patient loop.

Scenario: two arms, IV racemic ketamine 0.5 mg/kg over 40 min three times weekly for 2 weeks
(days 1, 3, 5, 8, 10, 12) vs placebo on the same days, 12 weeks of follow-up; endpoints every week
(response, remission MADRS <= 10, MADRS change on days 7, 14, ..., 84) plus time to relapse after the
last dose (horizon 72 days, within the 12 weeks). Each arm has ``--n`` patients.

It times, end to end (population sampling, PK, occupancy, response model, estimates incl. bootstrap):

* ``run_trial`` in one process (chunks one after another);
* ``run_trial(workers=N)`` on a local ``dask.distributed`` cluster (worker start-up included);
* baseline: the same pipeline one patient at a time (``summarise_chunk`` on a 1-patient population)
  for ``--baseline-patients`` patients per arm, extrapolated to the trial; its per-patient endpoint
  values are compared with the chunked run's for the same patients.

A warm-up run first loads the compiled numba kernels. The last line is machine-readable::

    RESULT trial_scale n=100000 seconds=<x> baseline_patients_per_s=<y>

``n`` is patients per arm and ``seconds`` the single-process wall time. Run:
``python benchmarks/trial_scale.py [--n 100000] [--workers 2] [--baseline-patients 100]``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ketamine_therapy.pharmacology.response import load_parameters, sample_population
from ketamine_therapy.pharmacology.trials import TrialSpec, parse_spec, run_trial
from ketamine_therapy.pharmacology.trials.runner import (
    DEFAULT_CHUNK_SIZE,
    ChunkSummary,
    course_days,
    plan_arm,
    summarise_chunk,
)

DAYS = [1, 3, 5, 8, 10, 12]
WEEKS = range(1, 13)


def spec_mapping(n: int, seed: int) -> dict[str, Any]:
    """The benchmark trial as a spec mapping."""
    endpoints: list[dict[str, Any]] = []
    for week in WEEKS:
        day = 7 * week
        endpoints += [
            {"id": f"response_w{week}", "kind": "response", "day": day},
            {"id": f"remission_w{week}", "kind": "remission", "day": day},
            {"id": f"change_w{week}", "kind": "change", "day": day},
        ]
    endpoints.append({"id": "relapse", "kind": "time_to_relapse", "horizon_days": 72})
    return {
        "name": "trial-scale-benchmark",
        "seed": seed,
        "population": {"n": n},
        "arms": [
            {"name": "ketamine", "drug": "racemic-ketamine", "route": "iv", "dose_mg_per_kg": 0.5, "days": DAYS},
            {"name": "placebo", "drug": "placebo", "route": "iv", "days": DAYS},
        ],
        "endpoints": endpoints,
    }


@contextmanager
def progress_bar(enabled: bool, label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr, as a ``progress(done, total)`` callback."""
    if not enabled:
        yield None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def timed_run(spec: TrialSpec, label: str, show: bool, **kwargs: Any) -> tuple[float, dict[str, Any]]:
    """Wall time (s) and JSON of one ``run_trial``."""
    with progress_bar(show, label) as progress:
        start = time.perf_counter()
        result = run_trial(spec, progress=progress, **kwargs)
        seconds = time.perf_counter() - start
    return seconds, result.to_dict()


def baseline(spec: TrialSpec, patients: int) -> tuple[float, list[ChunkSummary], list[ChunkSummary]]:
    """Seconds per patient of the one-at-a-time loop, with its summaries and the chunked ones (same patients)."""
    params = load_parameters()
    days = course_days(spec)
    seeds = np.random.SeedSequence(spec.seed).spawn(len(spec.arms))
    p = spec.population
    elapsed = 0.0
    looped: list[ChunkSummary] = []
    chunked: list[ChunkSummary] = []
    for i, arm_spec in enumerate(spec.arms):
        arm = arm_spec.arm
        models = [arm.pk_model()] if arm.is_active else []
        rng = np.random.default_rng(seeds[i].spawn(2)[0])  # the runner's population stream for this arm
        population = sample_population(
            p.n, rng, baseline_madrs=(p.baseline_madrs.mean, p.baseline_madrs.sd),
            weight_kg=(p.weight_kg.mean, p.weight_kg.sd), age_y=(p.age.mean, p.age.sd), models=models,
        )  # fmt: skip
        plan = plan_arm(arm, spec.endpoints, days)
        start = time.perf_counter()
        looped += [summarise_chunk(plan, population.subset(slice(k, k + 1)), params) for k in range(patients)]
        elapsed += time.perf_counter() - start
        chunked.append(summarise_chunk(plan, population.subset(slice(0, patients)), params))
    return elapsed / (patients * len(spec.arms)), looped, chunked


def max_difference(looped: list[ChunkSummary], chunked: list[ChunkSummary], patients: int) -> float:
    """Largest |difference| of per-patient endpoint values between the loop and the chunked run."""
    worst = 0.0
    for arm, chunk in enumerate(chunked):
        own = looped[arm * patients : (arm + 1) * patients]
        for key, values in chunk.values.items():
            for k, value in enumerate(values):  # relapse holds responders only: same set, same order
                single = np.concatenate([s.values[key][k] for s in own])
                gap = np.inf if single.shape != value.shape else float(np.max(np.abs(single - value), initial=0.0))
                worst = max(worst, gap)
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="patients per arm")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes (0: skip the Dask run)")
    parser.add_argument("--baseline-patients", type=int, default=100, help="patients per arm in the loop baseline")
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    show = not args.no_progress
    console = Console()
    load1, load5, _ = os.getloadavg()
    console.print(f"trial_scale: {args.n:,} patients x 2 arms, 12 weeks, chunk {args.chunk_size}; "
                  f"{os.cpu_count()} CPUs, load average {load1:.2f} / {load5:.2f}")  # fmt: skip

    spec = parse_spec(spec_mapping(args.n, args.seed))
    run_trial(parse_spec(spec_mapping(200, args.seed)), chunk_size=100)  # warm-up: numba kernels, model set-up
    total = 2 * args.n
    rows = []
    seconds, single = timed_run(spec, "single process", show, chunk_size=args.chunk_size)
    rows.append(("single process", seconds))
    identical = None
    if args.workers > 0:
        dask_seconds, distributed = timed_run(spec, f"dask x{args.workers}", show, workers=args.workers,
                                              chunk_size=args.chunk_size)  # fmt: skip
        rows.append((f"dask LocalCluster, {args.workers} worker processes", dask_seconds))
        identical = json.dumps(distributed) == json.dumps(single)
    per_patient_s, looped, chunked = baseline(spec, args.baseline_patients)
    baseline_rate = 1.0 / per_patient_s
    rows.append((f"single-patient loop (extrapolated from {2 * args.baseline_patients} patients)",
                 per_patient_s * total))  # fmt: skip

    table = Table(title=f"{total:,} patients (2 arms x {args.n:,}), 12 weeks, {len(spec.endpoints)} endpoints")
    for column in ("mode", "seconds", "patients/s", "x loop"):
        table.add_column(column, justify="right" if column != "mode" else "left")
    for mode, secs in rows:
        table.add_row(mode, f"{secs:,.1f}", f"{total / secs:,.0f}", f"{total / secs / baseline_rate:,.1f}")
    console.print(table)
    if identical is not None:
        console.print(f"dask JSON identical to single process: {identical}")
    difference = max_difference(looped, chunked, args.baseline_patients)
    console.print(f"loop vs chunked, same {2 * args.baseline_patients} patients: max |difference| {difference:.3g}")
    for name, arm in single["arms"].items():
        e = arm["endpoints"]
        console.print(f"  {name}: response w1 {e['response_w1']['estimate']:.3f}, change w12 "
                      f"{e['change_w12']['estimate']:.2f}, relapse median {e['relapse']['estimate']} d")  # fmt: skip
    print(f"RESULT trial_scale n={args.n} seconds={seconds:.2f} baseline_patients_per_s={baseline_rate:.1f}")


if __name__ == "__main__":
    main()
