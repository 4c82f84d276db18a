"""Patient values validate their fields and change only by making new values."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ketamine_therapy.clinic.exceptions import InvalidAnswerError
from ketamine_therapy.clinic.patients import ConsentRecord, Patient, WeightRecord


def test_patient_validates_and_keeps_weight_history_in_date_order() -> None:
    p = Patient("Ada", "Byron", date(1980, 5, 17), "female", email="ada@example.org")
    later = p.with_weight(WeightRecord(date(2026, 11, 2), 71.0)).with_weight(WeightRecord(date(2026, 10, 1), 73.0))
    assert [w.weight_kg for w in later.weights] == [73.0, 71.0]
    assert later.latest_weight_kg == 71.0
    assert p.weights == ()  # the original is unchanged
    assert p.age_on(date(2026, 5, 16)) == 45
    assert p.age_on(date(2026, 5, 17)) == 46


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"given_name": " "}, "given_name"),
        ({"date_of_birth": date(1899, 12, 31)}, "date_of_birth"),
        ({"sex": "x"}, "sex"),
        ({"email": "not-an-address"}, "email"),
    ],
)
def test_bad_patient_fields_are_named(changes: dict[str, object], field: str) -> None:
    values: dict[str, object] = {"given_name": "Ada", "family_name": "Byron", "date_of_birth": date(1980, 5, 17),
                                 "sex": "female"}  # fmt: skip
    with pytest.raises(InvalidAnswerError) as exc:
        Patient(**{**values, **changes})  # type: ignore[arg-type]
    assert exc.value.field == field


def test_implausible_weight_is_refused() -> None:
    with pytest.raises(InvalidAnswerError, match="weight_kg"):
        WeightRecord(date(2026, 1, 1), 2.0)


def test_consent_records_are_validated_and_kept() -> None:
    patient = Patient("Ada", "Lovelace", date(1985, 12, 10), "female")
    consent = ConsentRecord("IV ketamine informed consent v3", date(2026, 11, 20), "dr.lee")
    assert patient.with_consent(consent).consents == (consent,)
    today = date(2026, 11, 20)
    tomorrow = ConsentRecord("IV ketamine informed consent v3", today + timedelta(days=1), "dr.lee")
    with pytest.raises(InvalidAnswerError) as exc:
        patient.with_consent(tomorrow).check_dates(today)  # the clinic's today comes from the clock port
    assert exc.value.field == "signed_on"
    with pytest.raises(InvalidAnswerError) as exc:
        ConsentRecord(" ", date(2026, 11, 20), "dr.lee")
    assert exc.value.field == "document"
