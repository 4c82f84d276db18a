"""One definition per clinical quantity: its field name, unit and allowed range, and the plausible time window.

Every edge (API bodies and queries, web forms, CLI options) builds its validation from these definitions
(``ketamine_therapy.validation``), and the clinic rules check them again whatever the edge, so a typing slip
cannot reach a dose. The vital-sign and weight ranges are data-entry plausibility checks, NOT clinical
thresholds: deliberately wide, they only catch typing errors and physiologically impossible values (no
clinical.md row). The dose ranges end at the absolute ceilings of :mod:`ketamine_therapy.clinic.sessions`
(label maxima, cited there), which no override can pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .exceptions import InvalidAnswerError

EARLIEST_DAY = date(1900, 1, 1)
"""No weight, score, vital sign, dose or birth is dated before this day."""
CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future a time may be (a device clock a little ahead of the server's); data-entry tolerance."""

SRC_KETALAR_LABEL = (
    "Ketalar (ketamine hydrochloride injection) US label §2.2 'Induction of Anesthesia': initial IV dose 1 to "
    "4.5 mg/kg, initial IM dose 6.5 to 13 mg/kg (drugs.com/dosage/ketalar.html; pfizermedicalinformation.com "
    "ketamine dosage-admin)"
)
SRC_ESKETAMINE_LABEL = "clinical.md §1a 'Induction'/'Maintenance'/'MDSI': 56 mg or 84 mg, 84 mg the highest dose"


@dataclass(frozen=True)
class Quantity:
    """A number a clinician enters: ``field`` name, ``unit``, range ``low``..``high`` (``low`` excluded when
    ``low_open``), and whether it is a whole number."""

    field: str
    unit: str
    low: float
    high: float
    integer: bool = False
    low_open: bool = False
    description: str = ""

    @property
    def allowed(self) -> str:
        """The allowed range as the error messages show it (e.g. ``20-400 kg``, ``> 0-4.5 mg/kg``)."""
        low = f"> {self.low:g}" if self.low_open else f"{self.low:g}"
        kind = "a whole number " if self.integer else ""
        return f"{kind}{low}-{self.high:g} {self.unit}"

    def check(self, value: object, field: str | None = None) -> float:
        """``value`` if it is a finite number in range (bools and non-numbers refused); raises naming the field."""
        name = field or self.field
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidAnswerError(name, f"expected a number, got {value!r}", self.allowed)
        if not math.isfinite(value):
            raise InvalidAnswerError(name, f"{value!r} is not a finite number", self.allowed)
        if self.integer and value != int(value):
            raise InvalidAnswerError(name, f"{value!r} is not a whole number", self.allowed)
        too_low = value <= self.low if self.low_open else value < self.low
        if too_low or value > self.high:
            raise InvalidAnswerError(name, f"{value:g} is out of range", self.allowed)
        return value


WEIGHT_KG = Quantity("weight_kg", "kg", 20, 400, description="measured body weight")
SYSTOLIC = Quantity("systolic", "mmHg", 30, 300, integer=True, description="systolic blood pressure")
DIASTOLIC = Quantity("diastolic", "mmHg", 10, 200, integer=True, description="diastolic blood pressure")
HEART_RATE = Quantity("heart_rate", "/min", 20, 300, integer=True, description="heart rate")
SPO2 = Quantity("spo2", "%", 40, 100, integer=True, description="oxygen saturation by pulse oximetry")
RESPIRATORY_RATE = Quantity("respiratory_rate", "/min", 0, 80, integer=True, description="respiratory rate")
INFUSION_MIN = Quantity("duration_min", "min", 1, 600, description="IV infusion time")
IV_MG_PER_KG = Quantity("mg_per_kg", "mg/kg", 0, 4.5, low_open=True, description="IV ketamine dose (label maximum)")
IM_MG_PER_KG = Quantity("mg_per_kg", "mg/kg", 0, 13, low_open=True, description="IM ketamine dose (label maximum)")
ESKETAMINE_MG = Quantity("total_mg", "mg", 28, 84, integer=True, description="esketamine nasal dose (label maximum)")
MG_PER_KG = Quantity("mg_per_kg", "mg/kg", 0, max(IV_MG_PER_KG.high, IM_MG_PER_KG.high), low_open=True,
                     description="weight-based ketamine dose; the session's route sets the ceiling")  # fmt: skip
CADSS6_TOTAL = Quantity("cadss6", "points", 0, 24, integer=True, description="CADSS-6 total")
MOAAS_SCORE = Quantity("moaas", "points", 0, 5, integer=True, description="MOAA/S sedation score")
SCALE_ANSWER = Quantity("answer", "points", 0, 6, integer=True, description="one scale item's answer")
RELAPSE_RISK = Quantity(
    "alpha",
    "(probability)",
    0.01,
    0.5,
    description="accepted risk of relapse before the next session (the forecast's booster advice)",
)
FORECAST_HORIZON_DAYS = Quantity(
    "horizon_days",
    "days",
    7,
    182,
    integer=True,
    description="how far the forecast looks past the last score or session",
)
BOOSTER_DAYS = Quantity(
    "days", "days", 1, 182, integer=True, description="days from the last score or session to a what-if booster"
)
DAYS_MAX = 3650
"""The longest clinic setting in days (ten years)."""


def check_day(field: str, day: object, today: date) -> date:
    """``day`` if it is a calendar date from 1900-01-01 to the clinic's ``today``; raises naming the field."""
    if isinstance(day, datetime) or not isinstance(day, date):
        raise InvalidAnswerError(field, f"expected a date, got {day!r}", "YYYY-MM-DD")
    if not EARLIEST_DAY <= day <= today:
        raise InvalidAnswerError(field, f"{day.isoformat()} is not plausible", f"{EARLIEST_DAY} to {today} (today)")
    return day


def check_moment(field: str, at: object, now: datetime) -> datetime:
    """``at`` if it is an aware time from 1900 to ``now`` plus :data:`CLOCK_SKEW`; raises naming the field."""
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidAnswerError(field, f"expected a timezone-aware time, got {at!r}", "an ISO time with its offset")
    latest = now + CLOCK_SKEW
    if at.date() < EARLIEST_DAY or at > latest:
        raise InvalidAnswerError(field, f"{at.isoformat()} is not plausible (in the future or before 1900)",
                                 f"1900-01-01 to {latest.isoformat(timespec='minutes')}")  # fmt: skip
    return at
