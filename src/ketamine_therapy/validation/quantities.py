"""Pydantic types of the clinical quantities, one per definition in :mod:`ketamine_therapy.clinic.quantities`.

Numbers are strict (a JSON ``true``, ``"0.5"`` or ``NaN`` is refused; a form's text is parsed by
:func:`ketamine_therapy.validation.forms.parse_form`). Dates accept only ``YYYY-MM-DD`` (pydantic alone reads
``0`` as 1970-01-01) from 1900 on; times must carry their offset and fall in 1900-9998 (so no offset arithmetic
overflows). Whether a date or time is in the future is a clinic rule checked against the clock port.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from ..clinic import quantities as q
from ..clinic.exceptions import InvalidAnswerError

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LATEST_YEAR = 9998


def _field(quantity: q.Quantity) -> Any:
    """Strict and finite, described (and bounded in the JSON Schema) by ``quantity``."""
    bounds: dict[str, float] = {"exclusiveMinimum" if quantity.low_open else "minimum": quantity.low,
                                "maximum": quantity.high}  # fmt: skip
    return Field(strict=True, allow_inf_nan=False, description=f"{quantity.description}: {quantity.allowed}",
                 json_schema_extra=dict(bounds))  # fmt: skip


def _query(quantity: q.Quantity) -> Any:
    """:func:`_field` for a query parameter: its text is read as a number first (a query has no JSON types)."""
    bounds: dict[str, float] = {"exclusiveMinimum" if quantity.low_open else "minimum": quantity.low,
                                "maximum": quantity.high}  # fmt: skip
    return Field(description=f"{quantity.description}: {quantity.allowed}", json_schema_extra=dict(bounds))


def _checked(quantity: q.Quantity) -> WrapValidator:
    """Validates with ``quantity``'s own check; every error carries ``allowed`` (the problem's ``allowed``)."""

    def check(value: object, handler: ValidatorFunctionWrapHandler) -> object:
        try:
            return quantity.check(handler(value))
        except ValidationError as exc:
            message = exc.errors()[0]["msg"]
        except InvalidAnswerError as exc:
            message = exc.message
        raise PydanticCustomError("quantity", "{message} (allowed: {allowed})",
                                  {"message": message, "allowed": quantity.allowed})  # fmt: skip

    return WrapValidator(check)


def _iso_day(value: object) -> object:
    if isinstance(value, str) and not _ISO_DAY.match(value):
        raise ValueError("a date must be written YYYY-MM-DD")
    if isinstance(value, int | float):
        raise ValueError("a date must be written YYYY-MM-DD, not a number")
    return value


def _day_window(value: date) -> date:
    if value < q.EARLIEST_DAY or value.year > _LATEST_YEAR:
        raise ValueError(f"a date from {q.EARLIEST_DAY} to {_LATEST_YEAR}-12-31")
    return value


def _moment_window(value: datetime) -> datetime:
    if value.year < q.EARLIEST_DAY.year or value.year > _LATEST_YEAR:
        raise ValueError(f"a time from {q.EARLIEST_DAY} to {_LATEST_YEAR}-12-31")
    return value


WeightKg = Annotated[float, _field(q.WEIGHT_KG), _checked(q.WEIGHT_KG)]
Systolic = Annotated[int, _field(q.SYSTOLIC), _checked(q.SYSTOLIC)]
Diastolic = Annotated[int, _field(q.DIASTOLIC), _checked(q.DIASTOLIC)]
HeartRate = Annotated[int, _field(q.HEART_RATE), _checked(q.HEART_RATE)]
SpO2 = Annotated[int, _field(q.SPO2), _checked(q.SPO2)]
RespiratoryRate = Annotated[int, _field(q.RESPIRATORY_RATE), _checked(q.RESPIRATORY_RATE)]
InfusionMinutes = Annotated[float, _field(q.INFUSION_MIN), _checked(q.INFUSION_MIN)]
MgPerKg = Annotated[float, _field(q.MG_PER_KG), _checked(q.MG_PER_KG)]
EsketamineMg = Annotated[int, _field(q.ESKETAMINE_MG), _checked(q.ESKETAMINE_MG)]
Cadss6Total = Annotated[int, _field(q.CADSS6_TOTAL), _checked(q.CADSS6_TOTAL)]
MoaasScore = Annotated[int, _field(q.MOAAS_SCORE), _checked(q.MOAAS_SCORE)]
ScaleAnswer = Annotated[int, _field(q.SCALE_ANSWER), _checked(q.SCALE_ANSWER)]
RelapseRisk = Annotated[float, _field(q.RELAPSE_RISK), _checked(q.RELAPSE_RISK)]
RelapseRiskQuery = Annotated[float, _query(q.RELAPSE_RISK), _checked(q.RELAPSE_RISK)]
HorizonDaysQuery = Annotated[int, _query(q.FORECAST_HORIZON_DAYS), _checked(q.FORECAST_HORIZON_DAYS)]

ClinicDate = Annotated[date, BeforeValidator(_iso_day), AfterValidator(_day_window),
                       Field(description="a calendar date YYYY-MM-DD, from 1900-01-01")]  # fmt: skip
Moment = Annotated[AwareDatetime, AfterValidator(_moment_window),
                   Field(description="an ISO 8601 time with its UTC offset, from 1900")]  # fmt: skip
Reason = Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]
Flag = Annotated[bool, Field(strict=True, description="true or false (not 1, 0 or text)")]
Count = Annotated[int, Field(strict=True, ge=0)]
Amount = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
