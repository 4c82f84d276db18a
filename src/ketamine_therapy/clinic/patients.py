"""Patients: identity, date of birth, sex, contacts, weight history and consent records (plain, validated values)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import date

from .exceptions import InvalidAnswerError
from .quantities import EARLIEST_DAY, WEIGHT_KG, check_day

SEXES = ("female", "male", "other", "unknown")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class WeightRecord:
    """A measured body weight (kg) on a date."""

    measured_on: date
    weight_kg: float

    def __post_init__(self) -> None:
        WEIGHT_KG.check(self.weight_kg)
        if self.measured_on < EARLIEST_DAY:
            raise InvalidAnswerError(
                "measured_on", f"{self.measured_on} is before {EARLIEST_DAY}", f">= {EARLIEST_DAY}"
            )

    def check_on(self, today: date) -> WeightRecord:
        """The record if it is not dated after the clinic's ``today``; raises naming ``measured_on``."""
        check_day("measured_on", self.measured_on, today)
        return self


@dataclass(frozen=True)
class DosingWeight:
    """The weight a dose is computed from: the latest measured weight not in the future, and its age in days;
    ``stale`` when older than the clinic's limit (a warning the nurse acknowledges)."""

    weight_kg: float
    measured_on: date
    age_days: int
    stale: bool


@dataclass(frozen=True)
class ConsentRecord:
    """A signed consent document (e.g. "IV ketamine informed consent v3") on a date, and who filed it."""

    document: str
    signed_on: date
    recorded_by: str

    def __post_init__(self) -> None:
        if not self.document.strip() or len(self.document) > 200:
            raise InvalidAnswerError("document", "must be 1-200 characters", "the consent document's title")
        if self.signed_on < EARLIEST_DAY:
            raise InvalidAnswerError("signed_on", f"{self.signed_on} is before {EARLIEST_DAY}", "today or earlier")
        if not self.recorded_by.strip():
            raise InvalidAnswerError("recorded_by", "is empty", "who filed the signed document")


@dataclass(frozen=True)
class Patient:
    """A patient of the clinic. Corrections make a new value (``corrected``); nothing is deleted."""

    given_name: str
    family_name: str
    date_of_birth: date
    sex: str
    email: str | None = None
    phone: str | None = None
    weights: tuple[WeightRecord, ...] = ()
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    consents: tuple[ConsentRecord, ...] = ()

    def __post_init__(self) -> None:
        for name in ("given_name", "family_name"):
            value = getattr(self, name)
            if not value.strip() or len(value) > 100:
                raise InvalidAnswerError(name, "must be 1-100 characters", "a non-empty name")
        if self.date_of_birth < EARLIEST_DAY:
            raise InvalidAnswerError("date_of_birth", f"got {self.date_of_birth}", "between 1900-01-01 and today")
        if self.sex not in SEXES:
            raise InvalidAnswerError("sex", f"got {self.sex!r}", ", ".join(SEXES))
        if self.email is not None and not _EMAIL.match(self.email):
            raise InvalidAnswerError("email", f"got {self.email!r}", "an e-mail address")

    def age_on(self, day: date) -> int:
        """Age in whole years on ``day``."""
        before_birthday = (day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day)
        return day.year - self.date_of_birth.year - before_birthday

    def with_weight(self, record: WeightRecord) -> Patient:
        """The patient with one more weight measurement."""
        return replace(self, weights=tuple(sorted((*self.weights, record), key=lambda w: w.measured_on)))

    def with_consent(self, record: ConsentRecord) -> Patient:
        """The patient with one more signed consent document on file."""
        return replace(self, consents=(*self.consents, record))

    def check_dates(self, today: date) -> Patient:
        """The patient if no date (birth, weights, consents) is after the clinic's ``today``; raises naming it."""
        check_day("date_of_birth", self.date_of_birth, today)
        for w in self.weights:
            w.check_on(today)
        for c in self.consents:
            check_day("signed_on", c.signed_on, today)
        return self

    def dosing_weight(self, today: date, max_age_days: int) -> DosingWeight | None:
        """The latest weight measured on or before ``today`` (a weight dated later is never used)."""
        measured = [w for w in self.weights if w.measured_on <= today]
        if not measured:
            return None
        latest = measured[-1]
        age = (today - latest.measured_on).days
        return DosingWeight(latest.weight_kg, latest.measured_on, age, age > max_age_days)

    @property
    def latest_weight_kg(self) -> float | None:
        """The most recent weight (kg), if any (for display; doses use :meth:`dosing_weight`)."""
        return self.weights[-1].weight_kg if self.weights else None
