"""Every face-validity ordering of the response model holds beyond Monte-Carlo error (issue 11).

The scenarios share one virtual population (common random numbers), so most differences are paired and their
Monte-Carlo SE is small; an ordering holds when the difference exceeds 2 SE. 1,500 patients keep this fast.
"""

from __future__ import annotations

import pytest

from ketamine_therapy.pharmacology.response.face_validity import Quantity, difference, face_validity, orderings

N = 1500
# Orderings the calibrated model does not produce, with the measured reason (benchmarks/response_face_validity.py).
KNOWN: dict[str, str] = {
    "single IV: response day 1 grows with dose (0.5 < 1 mg/kg)": (
        "response at day 1 0.504 vs 0.505 (difference 0.001, MC SE 0.0005 at n=4000; not separable at n=1500): the "
        "fitted kick saturates above ~0.2 mg/kg (Hill 9.4, u50 0.48 occupancy x h), as SYNAPSE's flat 24-h changes "
        "over 28-84 mg ask."
    ),
    "single IV: response day 7 grows with dose (0.5 < 1 mg/kg)": (
        "response at day 7 0.373 at both 0.5 and 1.0 mg/kg (difference 0.000, n=4000): the fitted kick saturates above "
        "~0.2 mg/kg (Hill 9.4, u50 0.48 occupancy x h) and the larger consolidation step of 1.0 mg/kg (0.06 vs 0.04) "
        "moves no patient across the response threshold by day 7."
    ),
    "single IV: 1.0 mg/kg responders relapse no faster than 0.1 mg/kg responders (by day 28)": (
        "P(relapse by day 28) among day-1 responders 0.49 at both doses (difference 0.00, MC SE 0.02 at n=4000): the "
        "fitted decay-rate spread (log-SD 4.0) makes durability a property of the patient more than of the dose, and "
        "0.1 mg/kg responders include durable placebo responders."
    ),
    "six infusions: slower relapse than one (by day 28)": (
        "P(relapse by day 28 after the last infusion) 0.54 after six vs 0.49 after one (difference -0.05, MC SE 0.015 "
        "at n=4000): consolidation does build with the course (C up to 0.22 after six vs 0.04 after one at the fitted "
        "scale 43.8 occupancy x h) but six infusions add marginal responders with fast decay, who relapse early. "
        "Shiroma 2020 (6 vs 1 infusion, n=54; secondary summary) also found no difference in time to relapse."
    ),
}


@pytest.fixture(scope="module")
def quantities() -> list[Quantity]:
    return face_validity(N, seed=11)


def _statements() -> list[str]:
    return [statement for statement, _, _ in orderings(face_validity(200, seed=3))]


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(s, marks=[pytest.mark.xfail(strict=True, reason=KNOWN[s])] if s in KNOWN else [])
        for s in _statements()
    ],
)
def test_ordering_holds(statement: str, quantities: list[Quantity]) -> None:
    _, smaller, larger = next(o for o in orderings(quantities) if o[0] == statement)
    diff, se = difference(smaller, larger)
    assert diff > 2 * se
