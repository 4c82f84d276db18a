"""Latency of one per-patient forecast (issue 12): 1,000 posterior draws, 20 sessions, 30 MADRS ratings.

The patient (80 kg, 45 y) has the IV acute series (0.5 mg/kg over 40 min, days 0-11) and 14 boosters (weekly, then
every other week), with 30 ratings simulated from the population model (random effects 0, the point parameters,
the rating model's error). Each repetition is one ``forecast()`` call with its own seed (the default what-if set: 8
candidate schedules); the PK stimulus cache is warm after the first call, as it is for repeated chart views. Side
by side: the population-only forecast (the same request without ratings). The last line::

    RESULT forecast_speed p50_ms=<x> p95_ms=<y>

Run: ``nice python benchmarks/forecast_speed.py [--repeats 50] [--draws 1000]``. Other jobs on a shared 2-core
machine slow it down: the header prints the load average.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

import numpy as np

from ketamine_therapy.pharmacology.forecast import Covariates, Dose, ForecastRequest, Rating, forecast
from ketamine_therapy.pharmacology.forecast.prepare import prepare
from ketamine_therapy.pharmacology.response import ETA_NAMES, latent_course, load_parameters

SESSION_DAYS = (0, 2, 4, 7, 9, 11, 18, 25, 32, 39, 46, 53, 67, 81, 95, 109, 123, 137, 151, 165)
RATING_DAYS = tuple(np.linspace(0.0, 168.0, 30).round(1))


def patient(n_draws: int) -> ForecastRequest:
    """The benchmark patient's request, ratings simulated from the model."""
    covariates = Covariates(80.0, 45.0, "female")
    doses = tuple(Dose(24.0 * d, "racemic-ketamine", "iv", 40.0, 40.0) for d in SESSION_DAYS)
    record = prepare(ForecastRequest(covariates, doses, ())).record
    params = load_parameters()
    times = 24.0 * np.array(RATING_DAYS)
    latent = latent_course(np.zeros(len(ETA_NAMES)), record, params, times)
    noise = np.random.default_rng(0).normal(0.0, params.madrs_sigma, times.size)
    values = np.clip(np.floor(latent + noise + 0.5), 0, 60).astype(int)
    ratings = tuple(Rating(float(t), "madrs", int(v)) for t, v in zip(times, values, strict=True))
    return ForecastRequest(covariates, doses, ratings, n_draws=n_draws)


def latencies_ms(request: ForecastRequest, repeats: int) -> tuple[np.ndarray, np.ndarray]:
    """Wall-clock and CPU ms (all threads) of ``repeats`` forecasts (seeds 1..repeats), and per forecast P(relapse
    by the horizon) and the band median 4 weeks ahead (their spread over seeds is the Monte-Carlo error)."""
    out, values = [], []
    for seed in range(1, repeats + 1):
        start, cpu = time.perf_counter(), time.process_time()
        result = forecast(dataclasses.replace(request, seed=seed))
        out.append((1e3 * (time.perf_counter() - start), 1e3 * (time.process_time() - cpu)))
        values.append((result.relapse.probability[-1], result.band.median[28]))
    return np.array(out), np.array(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--draws", type=int, default=1000)
    args = parser.parse_args()
    request = patient(args.draws)
    print(f"Forecast latency: {len(request.doses)} sessions, {len(request.ratings)} ratings, {args.draws} draws, "
          f"{args.repeats} repeats, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    start = time.perf_counter()
    first = forecast(request)  # compiles the kernels, fills the PK cache
    print(f"first call (compilation, PK): {time.perf_counter() - start:.1f} s; warnings: {len(first.warnings)}\n")
    individual, spread = latencies_ms(request, args.repeats)
    population, spread_pop = latencies_ms(dataclasses.replace(request, ratings=()), args.repeats)
    print("| forecast | p50 ms | p95 ms | max ms | CPU ms p50 | P(relapse), mean (SD over seeds) | median at 4 weeks |")
    print("|---|---|---|---|---|---|---|")
    rows = (("individual (30 ratings)", individual, spread), ("population only (no ratings)", population, spread_pop))
    for name, values, mc in rows:
        p50, p95 = np.percentile(values[:, 0], [50, 95])
        mean, sd = mc.mean(axis=0), mc.std(axis=0)
        cpu = np.median(values[:, 1])
        print(f"| {name} | {p50:.0f} | {p95:.0f} | {values[:, 0].max():.0f} | {cpu:.0f} | "
              f"{mean[0]:.3f} ({sd[0]:.3f}) | {mean[1]:.1f} ({sd[1]:.2f}) |")  # fmt: skip
    p50, p95 = np.percentile(individual[:, 0], [50, 95])
    print(f"\nRESULT forecast_speed p50_ms={p50:.0f} p95_ms={p95:.0f}")


if __name__ == "__main__":
    main()
