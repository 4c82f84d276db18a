"""Patients: identity, date of birth, sex, contacts, weight history and consent records (plain, validated values)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import date

from .exceptions import InvalidAnswerError

SEXES = ("female", "male", "other", "unknown")
WEIGHT_RANGE_KG = (20.0, 400.0)  # data-entry plausibility, not a clinical threshold
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class WeightRecord:
    """A measured body weight (kg) on a date."""

    measured_on: date
    weight_kg: float

    def __post_init__(self) -> None:
        low, high = WEIGHT_RANGE_KG
        if not low <= self.weight_kg <= high:
            raise InvalidAnswerError("weight_kg", f"got {self.weight_kg:g}", f"{low:g}-{high:g} kg")


@dataclass(frozen=True)
class ConsentRecord:
    """A signed consent document (e.g. "IV ketamine informed consent v3") on a date, and who filed it."""

    document: str
    signed_on: date
    recorded_by: str

    def __post_init__(self) -> None:
        if not self.document.strip() or len(self.document) > 200:
            raise InvalidAnswerError("document", "must be 1-200 characters", "the consent document's title")
        if self.signed_on > date.today():  # noqa: DTZ011 - a calendar date
            raise InvalidAnswerError("signed_on", f"{self.signed_on} is in the future", "today or earlier")
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
        if self.date_of_birth > date.today() or self.date_of_birth.year < 1900:  # noqa: DTZ011 - a calendar date
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

    @property
    def latest_weight_kg(self) -> float | None:
        """The most recent weight (kg), if any."""
        return self.weights[-1].weight_kg if self.weights else None
