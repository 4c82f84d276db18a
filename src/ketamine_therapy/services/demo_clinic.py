"""Use case: seed a realistic synthetic clinic (patients on IV and Spravato courses with MADRS histories).

Scale histories come from the calibrated response model (pharmacology.response), one virtual patient
per demo patient, so the demo shows plausible responders, non-responders and relapses. Synthetic data
only: no real person is described. IM courses are not seeded: clinical.md sources no IM dose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from ..clinic.patients import Patient, WeightRecord
from ..pharmacology import get_model
from ..pharmacology.response import Arm, sample_population, simulate_arm
from .patients import record_scale, register_patient
from .ports import UnitOfWork

GIVEN = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn")
FAMILY = ("Rivera", "Chen", "Okafor", "Novak", "Haddad", "Lindqvist", "Moreau", "Tanaka", "Silva", "Kowalski")
COURSES = {
    "iv-acute-series": Arm("iv", "racemic-ketamine", days=(1, 3, 5, 8, 10, 12), dose_mg_per_kg=0.5, duration_min=40),
    "spravato-trd": Arm(
        "esketamine",
        "esketamine",
        days=(1, 4, 8, 11, 15, 18, 22, 25),
        doses_mg=(56, 84, 84, 84, 84, 84, 84, 84),
        background="new-oral-antidepressant",
    ),
}
RECORDED_BY = "demo-seed"


@dataclass(frozen=True)
class SeedSummary:
    """What was created."""

    patients: int
    scales: int
    by_course: dict[str, int]


def _madrs_items(total: int) -> list[int]:
    return [max(0, min(6, total - 6 * i)) for i in range(10)]


def seed_demo_clinic(
    new_uow: Callable[[], UnitOfWork], n_patients: int = 30, seed: int = 7, start: date | None = None
) -> SeedSummary:
    """Register ``n_patients`` synthetic patients and their MADRS histories (baseline, after sessions, weekly)."""
    rng = np.random.default_rng(seed)
    first_day = start or date(2026, 9, 1)
    models = [get_model("clements-1981"), get_model("perez-ruixo-2021")]
    population = sample_population(n_patients, rng, models=models)
    names = list(COURSES)
    by_course = dict.fromkeys(names, 0)
    scales = 0
    for i in range(n_patients):
        course = names[i % len(names)]
        arm = COURSES[course]
        day0 = first_day + timedelta(days=int(rng.integers(0, 60)))
        weeks = 12
        eval_days = sorted({0.0, *(d for d in arm.days), *(7.0 * w for w in range(1, weeks + 1))})
        times_h = np.array(eval_days) * 24.0
        one = population.subset(slice(i, i + 1))
        madrs = simulate_arm(arm, one, times_h).madrs[0]
        age = int(rng.integers(22, 70))
        patient = Patient(GIVEN[i % len(GIVEN)], FAMILY[(i * 7) % len(FAMILY)],
                          date(day0.year - age, 1 + i % 12, 1 + i % 28), "female" if i % 2 else "male")  # fmt: skip
        weight = float(np.clip(round(float(one.covariates.weight_kg[0]), 1), 40.0, 150.0))
        register_patient(new_uow(), patient, WeightRecord(day0, weight))
        for d, total in zip(eval_days, madrs, strict=True):
            record_scale(new_uow(), patient.id, "MADRS", _madrs_items(round(float(total))),
                         day0 + timedelta(days=int(d)), RECORDED_BY)  # fmt: skip
            scales += 1
        by_course[course] += 1
    return SeedSummary(n_patients, scales, by_course)
