"""Hypothesis strategies shared by property tests."""

from __future__ import annotations

from hypothesis import strategies as st

from ketamine_therapy.pharmacology import Dose, Regimen, Route

iv_doses = st.builds(
    Dose,
    time_h=st.floats(0, 48, allow_nan=False).map(lambda t: round(t, 3)),
    route=st.just(Route.IV),
    amount_mg=st.floats(1, 70, allow_nan=False),
    duration_h=st.sampled_from([0.0, 0.25, 40 / 60, 1.0]),
)
oral_doses = st.builds(
    Dose,
    time_h=st.floats(0, 48, allow_nan=False).map(lambda t: round(t, 3)),
    route=st.sampled_from([Route.ORAL, Route.SUBLINGUAL, Route.IM, Route.INTRANASAL]),
    amount_mg=st.floats(1, 25, allow_nan=False),
)
regimens = st.lists(st.one_of(iv_doses, oral_doses), min_size=1, max_size=4).map(lambda ds: Regimen(tuple(ds)))
