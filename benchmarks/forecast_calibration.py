"""Calibration of the per-patient forecast (issue 12) on virtual patients simulated from the population model.

Each virtual patient draws a population parameter set from the shipped calibration draws (the parameter
uncertainty), covariates from the default trial population, standard-normal random effects and their own rating
errors. They get the IV acute series (0.5 mg/kg over 40 min on days 0, 2, 4, 7, 9, 11; typical PK for their
covariates, as the engine assumes) and nothing after it. The engine sees their covariates and the first 2 weeks:
the doses and MADRS on days 0, 1, 3, 5, 8, 10, 12 and 14; it forecasts weeks 3-12 (horizon 70 days from day 14).
Then, against what the patient really does:

* coverage of the 50% and 90% bands for the weekly MADRS of weeks 3-12 (each score jittered by U(-1/2, 1/2), the
  same continuous relaxation the bands use; nominal 0.50 and 0.90);
* relapse (MADRS >= 22 at two consecutive twice-weekly assessments from day 14, the engine's definition) by the
  horizon: Brier score of the engine's P(relapse by the horizon) and a reliability table by decile of it;
* MAE of the band median at week 6 (day 42) for the individual forecast and for the population-only forecast (the
  same request without ratings).

The last line::

    RESULT forecast_calibration n=<n> cover50=<x> cover90=<y> brier=<b> mae_individual=<m1> mae_population=<m0>

Run: ``nice python benchmarks/forecast_calibration.py [--n 1000] [--draws 1000] [--seed 12]``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from rich.progress import Progress

from ketamine_therapy.pharmacology.forecast import Covariates, Dose, ForecastRequest, Rating, ScheduleCandidate
from ketamine_therapy.pharmacology.forecast import forecast as run_forecast
from ketamine_therapy.pharmacology.forecast.predict import relapse_visit
from ketamine_therapy.pharmacology.forecast.prepare import POPULATION, prepare
from ketamine_therapy.pharmacology.population import sample_covariates
from ketamine_therapy.pharmacology.response import ETA_NAMES, latent_course
from ketamine_therapy.pharmacology.response.calibration import RELAPSE_VISIT_DAYS, load_draws

SERIES_DAYS = (0, 2, 4, 7, 9, 11)
MG_PER_KG = 0.5
INFUSION_MIN = 40.0
SEEN_DAYS = (0, 1, 3, 5, 8, 10, 12, 14)
LAST_SEEN_DAY = 14.0
LATER_DAYS = tuple(float(7 * w) for w in range(3, 13))  # weekly, weeks 3-12
MAE_DAY = 42.0
HORIZON_DAYS = 84.0 - LAST_SEEN_DAY


def madrs(latent: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Observed MADRS (the rating model: round(latent + e), e ~ N(0, sigma), clipped to 0-60)."""
    return np.clip(np.floor(latent + rng.normal(0.0, sigma, latent.shape) + 0.5), 0, 60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="virtual patients")
    parser.add_argument("--draws", type=int, default=1000, help="posterior draws per forecast")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    draws = load_draws()
    covariates = sample_covariates(
        args.n, rng, weight_kg=tuple(POPULATION["weight_kg"]), age_y=tuple(POPULATION["age_y"])
    )
    print(f"Forecast calibration: {args.n} virtual patients, {args.draws} draws each, seed {args.seed}, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    cover50, cover90, brier_p, brier_y, errors_ind, errors_pop, well = [], [], [], [], [], [], []
    start = time.perf_counter()
    with Progress() as progress:
        task = progress.add_task("patients", total=args.n)
        for i in range(args.n):
            theta = draws[int(rng.integers(len(draws)))]
            eta = rng.standard_normal(len(ETA_NAMES))
            cov = Covariates(
                round(float(covariates.weight_kg[i]), 1),
                round(float(covariates.age_y[i]), 1),
                "female" if covariates.female[i] else "male",
            )
            assert cov.weight_kg is not None
            amount = round(MG_PER_KG * cov.weight_kg, 1)
            doses = tuple(Dose(24.0 * d, "racemic-ketamine", "iv", amount, INFUSION_MIN) for d in SERIES_DAYS)
            record = prepare(ForecastRequest(cov, doses, ())).record
            visits = LAST_SEEN_DAY + np.arange(RELAPSE_VISIT_DAYS, HORIZON_DAYS + 1e-9, RELAPSE_VISIT_DAYS)
            days = np.unique(np.concatenate([SEEN_DAYS, LATER_DAYS, [MAE_DAY], visits]))
            latent = latent_course(eta, record, theta, 24.0 * days)
            observed = madrs(latent, theta.madrs_sigma, rng)
            score = dict(zip(days.tolist(), observed.tolist(), strict=True))
            ratings = tuple(Rating(24.0 * d, "madrs", int(score[d])) for d in SEEN_DAYS)
            booster = Dose(336.0, "racemic-ketamine", "iv", amount, INFUSION_MIN)  # what-ifs: one, to save time
            candidate = (ScheduleCandidate("booster in 2 weeks", (booster,)),)
            request = ForecastRequest(cov, doses, ratings, horizon_days=HORIZON_DAYS, n_draws=args.draws,
                                      candidates=candidate, seed=i)  # fmt: skip
            individual = run_forecast(request)
            population = run_forecast(ForecastRequest(cov, doses, (), horizon_days=HORIZON_DAYS, n_draws=args.draws,
                                                      candidates=candidate, seed=i))  # fmt: skip
            band = individual.band
            for d in LATER_DAYS:
                k = int(np.argmin(np.abs(band.times_h - 24.0 * d)))
                y = score[d] + rng.random() - 0.5
                cover50.append(band.p25[k] <= y <= band.p75[k])
                cover90.append(band.p05[k] <= y <= band.p95[k])
            k = int(np.argmin(np.abs(band.times_h - 24.0 * MAE_DAY)))
            errors_ind.append(abs(band.median[k] - score[MAE_DAY]))
            errors_pop.append(abs(population.band.median[k] - score[MAE_DAY]))
            truth = relapse_visit(np.array([[score[v] for v in visits.tolist()]]))
            well.append(score[LAST_SEEN_DAY] < 22)
            brier_p.append(float(individual.relapse.probability[-1]))
            brier_y.append(float(np.isfinite(truth[0])))
            progress.advance(task)
    seconds = time.perf_counter() - start
    p, y = np.array(brier_p), np.array(brier_y)
    brier = float(np.mean((p - y) ** 2))
    climatology = float(np.mean((y.mean() - y) ** 2))
    print(f"\n{args.n} patients in {seconds:.0f} s ({seconds / args.n:.2f} s per patient, both forecasts)\n")
    print("| measure | value | target |")
    print("|---|---|---|")
    print(
        f"| 50% band coverage, weekly MADRS weeks 3-12 ({len(cover50)} scores) | {np.mean(cover50):.3f} | 0.45-0.55 |"
    )
    print(f"| 90% band coverage | {np.mean(cover90):.3f} | 0.85-0.95 |")
    print(f"| Brier score, relapse by week 12 (base rate {y.mean():.3f}) | {brier:.3f} | < {climatology:.3f} "
          "(base rate alone) |")  # fmt: skip
    w = np.array(well)
    if w.any():
        print(f"| Brier score among the {w.sum()} patients below 22 on day 14 (base rate {y[w].mean():.3f}) | "
              f"{np.mean((p[w] - y[w]) ** 2):.3f} | < {np.mean((y[w].mean() - y[w]) ** 2):.3f} |")  # fmt: skip
    print(f"| MAE of MADRS at week 6, individual | {np.mean(errors_ind):.2f} | < population |")
    print(f"| MAE of MADRS at week 6, population-only | {np.mean(errors_pop):.2f} | |")
    print("\n| decile of P(relapse) | n | mean predicted | observed |")
    print("|---|---|---|---|")
    edges = np.quantile(p, np.linspace(0, 1, 11))
    bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, 9)
    for b in range(10):
        chosen = bins == b
        if chosen.any():
            print(f"| {b + 1} | {chosen.sum()} | {p[chosen].mean():.3f} | {y[chosen].mean():.3f} |")
    print(
        f"\nRESULT forecast_calibration n={args.n} cover50={np.mean(cover50):.3f} cover90={np.mean(cover90):.3f} "
        f"brier={brier:.3f} mae_individual={np.mean(errors_ind):.2f} mae_population={np.mean(errors_pop):.2f}"
    )


if __name__ == "__main__":
    main()
