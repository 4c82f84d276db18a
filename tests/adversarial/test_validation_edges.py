"""One validation layer (issue 10): the edges refuse wrong types instead of coercing them, and every edge takes
each quantity's range from the same definition (``clinic.quantities``), naming the field and the allowed range."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from ketamine_therapy.clinic.exceptions import InvalidAnswerError
from ketamine_therapy.clinic.quantities import IM_MG_PER_KG, WEIGHT_KG
from ketamine_therapy.clinic.sessions import ImDose, IvDose
from ketamine_therapy.services import treatment
from ketamine_therapy.web.runner_forms import STEPS

from .clinic_harness import (
    CHECKS,
    NURSE,
    Clinic,
    sqlite_clinic_fixture,  # noqa: F401 - the fixture ``sqlite_clinic``
)


def _checked_in(clinic: Clinic) -> treatment.SessionRecord:
    record = clinic.session(clinic.patient())
    return treatment.check_in_session(clinic.new_uow(), NURSE, record.id, record.version, CHECKS,
                                      datetime.now(UTC))  # fmt: skip


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e3", "0x1"])
def test_runner_form_refuses_non_numbers_as_dose(sqlite_clinic: Clinic, text: str) -> None:
    """The runner's dose form read "nan" and "inf" as numbers (its own ``_float``); they name the field now."""
    record = _checked_in(sqlite_clinic)
    step, _ = STEPS["dose"]
    form = {"mg_per_kg": text, "duration_min": "40", "weight_kg": "70"}
    with pytest.raises(InvalidAnswerError) as info:
        step(_Ctx(sqlite_clinic), NURSE, record.id, record.version, form, datetime.now(UTC))  # type: ignore[arg-type]
    assert info.value.field == "mg_per_kg"


class _Ctx:
    """The part of the web app's context a runner step uses."""

    def __init__(self, clinic: Clinic) -> None:
        self.new_uow = clinic.new_uow


def test_api_and_web_share_the_dose_range(sqlite_clinic: Clinic) -> None:
    """The API capped mg/kg at 10 and the web form not at all: both now stop at the same definition."""
    schema = sqlite_clinic.client().get("/api/openapi.json").json()["components"]["schemas"]["DoseIn"]
    mg_per_kg = next(s for s in schema["properties"]["mg_per_kg"]["anyOf"] if s.get("type") == "number")
    assert mg_per_kg["maximum"] == IM_MG_PER_KG.high  # the highest ceiling of any route (the route then decides)
    record = _checked_in(sqlite_clinic)
    step, _ = STEPS["dose"]
    form = {"mg_per_kg": "20", "duration_min": "40", "weight_kg": "70"}
    with pytest.raises(InvalidAnswerError) as info:
        step(_Ctx(sqlite_clinic), NURSE, record.id, record.version, form, datetime.now(UTC))  # type: ignore[arg-type]
    assert (info.value.field, info.value.allowed) == ("mg_per_kg", f"> 0-{IM_MG_PER_KG.high:g} mg/kg")


def test_one_weight_range_everywhere(sqlite_clinic: Clinic) -> None:
    """Five weight ranges disagreed (10-500 in a dose, 20-400 in the record, 0-500 in the API): one now."""
    low, high = WEIGHT_KG.low, WEIGHT_KG.high
    for weight in (low - 5, high + 50):
        with pytest.raises(InvalidAnswerError, match="weight_kg"):
            IvDose(weight, 0.5, timedelta(minutes=40))
        with pytest.raises(InvalidAnswerError, match="weight_kg"):
            ImDose(weight, 0.5)
    patient = sqlite_clinic.patient()
    record = _checked_in(sqlite_clinic)
    r = sqlite_clinic.api(
        "nurse",
        "POST",
        f"/sessions/{record.id}/dose",
        {"mg_per_kg": 0.5, "duration_min": 40, "weight_kg": high + 50},
        version=record.version,
    )
    assert r.status_code == 422
    assert (r.json()["field"], r.json()["allowed"]) == ("weight_kg", f"{low:g}-{high:g} kg")
    r = sqlite_clinic.api("nurse", "POST", f"/patients/{patient}/weights", {"measured_on": "2026-01-05",
                          "weight_kg": high + 50}, version=1)  # fmt: skip
    assert (r.status_code, r.json()["allowed"]) == (422, f"{low:g}-{high:g} kg")


@pytest.mark.parametrize("answer", [True, "0", 1.0])
def test_scale_answers_are_whole_numbers_not_booleans_or_text(sqlite_clinic: Clinic, answer: object) -> None:
    """``true`` and ``"0"`` were accepted as scale answers; a JSON answer must be a whole number."""
    patient = sqlite_clinic.patient()
    body = {"scale_id": "PHQ-9", "answers": [answer, *[0] * 8], "taken_on": date.today().isoformat()}  # noqa: DTZ011
    r = sqlite_clinic.api("nurse", "POST", f"/patients/{patient}/scales", body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "answers.0"


@pytest.mark.parametrize("day", ["0", "20261205", "9999-12-31", "1899-12-31"])
def test_a_date_is_written_as_a_date(sqlite_clinic: Clinic, day: str) -> None:
    """``day=0`` was read as 1970-01-01; dates are YYYY-MM-DD from 1900, and never a 500."""
    r = sqlite_clinic.api("nurse", "GET", "/sessions", params={"day": day})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "day"


def test_numbers_in_json_are_not_text(sqlite_clinic: Clinic) -> None:
    """A dose sent as the text "0.5" was coerced; wrong types are errors naming the field."""
    record = _checked_in(sqlite_clinic)
    r = sqlite_clinic.api(
        "nurse",
        "POST",
        f"/sessions/{record.id}/dose",
        {"mg_per_kg": "0.5", "duration_min": 40, "weight_kg": 70},
        version=record.version,
    )
    assert r.status_code == 422
    assert r.json()["field"] == "mg_per_kg"
    assert re.search(r"valid number", r.json()["detail"])


@pytest.mark.parametrize("consent", [1, "yes", "true"])
def test_yes_no_answers_are_booleans_not_numbers_or_text(sqlite_clinic: Clinic, consent: object) -> None:
    """A pre-check sent as 1 or "yes" was coerced to true; only JSON true/false is a yes/no answer."""
    record = sqlite_clinic.session(sqlite_clinic.patient())
    body = {"consent": consent, "ride_home": True, "pregnancy_test": "not_applicable",
            "bp": {"systolic": 124, "diastolic": 80}}  # fmt: skip
    r = sqlite_clinic.api("nurse", "POST", f"/sessions/{record.id}/check-in", body, version=record.version)
    assert (r.status_code, r.json()["field"]) == (422, "consent")
