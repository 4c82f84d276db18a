"""Clinical rules found wrong (issue 10): C-SSRS screener triage, MADRS remission default, GAD-7 0-4 band."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ketamine_therapy.clinic.scales import SCALES, course_summary, is_remission, score
from ketamine_therapy.pharmacology.trials.spec import REMISSION_THRESHOLD
from ketamine_therapy.services.dashboard import SAFETY_FLAGS


def test_cssrs_active_ideation_with_method_is_moderate_risk_and_flagged() -> None:
    """Q3 yes (method, no intent) is moderate risk under the Columbia triage and must reach the chart/dashboard."""
    result = score("C-SSRS", [1, 1, 1, 0, 0, 0])
    assert result.risk_level == 2
    assert result.flags & SAFETY_FLAGS == {"moderate_risk"}


def test_cssrs_lifetime_behaviour_is_moderate_risk_and_flagged() -> None:
    """Suicidal behaviour more than 3 months ago (Q6 = 1) is moderate risk, flagged."""
    result = score("C-SSRS", [0, 0, 0, 0, 0, 1])
    assert result.risk_level == 2
    assert result.flags & SAFETY_FLAGS == {"moderate_risk"}


@pytest.mark.parametrize("intent", [[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 0]])
def test_cssrs_risk_level_orders_intent_above_lifetime_behaviour(intent: list[int]) -> None:
    """Lifetime-only behaviour (moderate) must not rank above intent (Q4) or plan (Q5), which are high risk."""
    lifetime_only = score("C-SSRS", [0, 0, 0, 0, 0, 1])
    high = score("C-SSRS", intent)
    assert (high.risk_level or 0) > (lifetime_only.risk_level or 0) > 0
    assert "high_risk" in high.flags


def test_madrs_remission_is_one_default_across_clinic_and_trials() -> None:
    """MADRS < 10 (Hawley 2002): a total of 10 is not remission in the clinic nor in a trial spec's default."""
    assert SCALES["MADRS"].remission_max == REMISSION_THRESHOLD["madrs"] == 9
    assert not is_remission("MADRS", 10)
    day = date(2026, 1, 5)
    assert course_summary("MADRS", [(day, 30), (day + timedelta(days=7), 10)]).in_remission is False


def test_gad7_zero_to_four_is_minimal() -> None:
    """GAD-7 0-4 is 'minimal' (scoring sheet), not an invented 'below mild'."""
    assert score("GAD-7", [0, 1, 1, 1, 1, 0, 0]).band == "minimal"
