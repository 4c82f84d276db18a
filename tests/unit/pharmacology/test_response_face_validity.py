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
    "single IV: 1.0 mg/kg responders relapse no faster than 0.1 mg/kg responders (by day 28)": (
        "P(relapse by day 28) among day-1 responders 0.49 at 1.0 vs 0.50 at 0.1 mg/kg, difference 0.00 with MC SE "
        "0.04: not separable. The fitted decay-rate spread (log-SD 4.7) makes durability a property of the patient "
        "more than of the dose, and 0.1 mg/kg responders include durable placebo responders."
    ),
    "six infusions: slower relapse than one (by day 28)": (
        "P(relapse by day 28 after the last infusion) 0.53 after six vs 0.49 after one (difference -0.04, MC SE "
        "0.02): the fitted consolidation half-life is 3.7 days, so what a series builds has waned by then, and six "
        "infusions add marginal responders who relapse early. Shiroma 2020 (6 vs 1 infusion, n=54; secondary "
        "summary) also found no difference in time to relapse."
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
