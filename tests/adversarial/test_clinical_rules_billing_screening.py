"""Clinical rules found wrong (issue 10): CPT 96366 time rule, 99415/99416 with their E/M code, G2082/G2083 for
established patients, and the Spravato-for-MDSI oral antidepressant precaution."""

from __future__ import annotations

import pytest

from ketamine_therapy.clinic.costs import billing_codes
from ketamine_therapy.clinic.exceptions import InvalidAnswerError
from ketamine_therapy.clinic.screening import AntidepressantTrial, ScreeningInput, screen


def _codes(minutes: int) -> list[str]:
    return [c.code for c in billing_codes("iv", "commercial", infusion_minutes=minutes)]


def test_96366_only_beyond_thirty_minutes_after_the_first_hour() -> None:
    """+96366 needs more than 30 min beyond the first hour: 61-90 min is 96365 alone, 91 min adds 96366."""
    assert {m: _codes(m) for m in (61, 75, 90, 91)} == {
        61: ["96365"],
        75: ["96365"],
        90: ["96365"],
        91: ["96365", "96366"],
    }


def test_96366_units_count_whole_additional_hours() -> None:
    """91-150 min = 1 unit, 151-210 min = 2 units."""
    units = {m: [c.units for c in billing_codes("iv", "commercial", infusion_minutes=m) if c.code == "96366"]
             for m in (150, 151)}  # fmt: skip
    assert units == {150: [1], 151: [2]}


def test_prolonged_services_only_with_their_em_code() -> None:
    """99415/99416 are add-ons: never listed without the E/M visit they add to; a non-E/M code is refused."""
    assert [c.code for c in billing_codes("esketamine-56mg", "commercial")] == ["J0013"]
    with_em = [c.code for c in billing_codes("esketamine-56mg", "commercial", em_code="99214")]
    assert with_em == ["J0013", "99214", "99415", "99416"]
    with pytest.raises(InvalidAnswerError) as info:
        billing_codes("esketamine-56mg", "commercial", em_code="96365")
    assert info.value.field == "em_code"


def test_g_codes_only_for_established_patients() -> None:
    """G2082/G2083 describe an E/M visit of an established patient; a new patient is refused, naming the field."""
    with pytest.raises(InvalidAnswerError) as info:
        billing_codes("esketamine-56mg", "medicare", established_patient=False)
    assert info.value.field == "established_patient"


def _mdsi(oral_ad: bool) -> ScreeningInput:
    failed = AntidepressantTrial("sertraline", "ssri", True, 8, True, "none", True)
    return ScreeningInput(episode_months=6, severity="severe", trials=(failed,), augmentation_used=False,
                          ect_used=False, route="intranasal-esketamine", indication="mdsi",
                          concurrent_oral_antidepressant=oral_ad)  # fmt: skip


def test_spravato_for_mdsi_without_oral_antidepressant_is_a_precaution() -> None:
    """Esketamine for MDSI is given with an oral antidepressant: screening says so when none is recorded."""
    ids = [f.rule_id for f in screen(_mdsi(False)).precautions]
    assert "esk-pr-mdsi-oral-antidepressant" in ids
    assert "esk-pr-mdsi-oral-antidepressant" not in [f.rule_id for f in screen(_mdsi(True)).precautions]
