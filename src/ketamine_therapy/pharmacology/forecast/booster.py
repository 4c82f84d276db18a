"""Booster advice from the relapse curve, and the engine's default what-if schedules."""

from __future__ import annotations

import numpy as np

from .._typing import FloatArray
from .contract import BoosterAdvice, Dose, ScheduleCandidate

WHAT_IF_WEEKS = (1, 2, 3, 4)
RACEMIC_MG_PER_KG = (0.5, 0.75)  # the IV doses of the what-if example (the standard 0.5 and a higher one)
ESKETAMINE_MG = (56.0, 84.0)  # the Spravato label doses


def advise(
    visit_h: FloatArray,
    cdf: FloatArray,
    now_h: float,
    alpha: float,
    last_dose: Dose | None,
) -> BoosterAdvice:
    """The latest assessment time whose P(relapse by then) <= ``alpha`` (caller times, h); the same dose as the last
    session is suggested at that time."""
    last_h = last_dose.time_h if last_dose is not None else None
    inputs = f"P(relapse) from {visit_h.size} assessments to the horizon without further sessions, alpha {alpha:g}"
    if cdf.size == 0 or cdf[-1] <= alpha:
        rationale = f"P(relapse) stays <= {alpha:g} until the horizon without another session ({inputs})."
        return BoosterAdvice(None, None, None, alpha, rationale)
    safe = np.flatnonzero(cdf <= alpha)
    if safe.size == 0:
        when = now_h
        rationale = f"P(relapse) exceeds {alpha:g} already at the first assessment: a session is due now ({inputs})."
    else:
        when = float(visit_h[safe[-1]])
        rationale = (
            f"P(relapse) is {cdf[safe[-1]]:.2f} by {(when - now_h) / 24.0:.1f} days from now and "
            f"{cdf[safe[-1] + 1]:.2f} at the next assessment ({inputs})."
        )
    dose = None if last_dose is None else Dose(when, last_dose.drug, last_dose.route, last_dose.amount_mg,
                                               last_dose.duration_min)  # fmt: skip
    interval = None if last_h is None else (when - last_h) / 24.0
    if dose is not None:
        rationale += f" Suggested dose: the last session's, {dose.amount_mg:g} mg {dose.drug} {dose.route}."
    return BoosterAdvice(when, interval, dose, alpha, rationale)


def default_candidates(last_dose: Dose | None, weight_kg: float, weight_known: bool) -> tuple[ScheduleCandidate, ...]:
    """Booster in 1-4 weeks at the last session's drug and route: racemic ketamine at 0.5 and 0.75 mg/kg,
    esketamine at 56 and 84 mg, other forms at the last amount."""
    if last_dose is None:
        return ()
    if last_dose.drug == "racemic-ketamine" and last_dose.route == "iv":
        note = "" if weight_known else f" (weight unknown: {weight_kg:g} kg assumed)"
        amounts = [(round(x * weight_kg, 1), f"{x:g} mg/kg{note}") for x in RACEMIC_MG_PER_KG]
    elif last_dose.drug == "esketamine" and last_dose.route == "intranasal":
        amounts = [(x, f"{x:g} mg") for x in ESKETAMINE_MG]
    else:
        amounts = [(last_dose.amount_mg, f"{last_dose.amount_mg:g} mg")]
    out = []
    for weeks in WHAT_IF_WEEKS:
        for amount, text in amounts:
            dose = Dose(weeks * 168.0, last_dose.drug, last_dose.route, amount, last_dose.duration_min)
            out.append(ScheduleCandidate(f"booster in {weeks} week{'s' if weeks > 1 else ''}, {text}", (dose,)))
    return tuple(out)
