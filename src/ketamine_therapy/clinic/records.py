"""Recorded clinical observations: a scored scale for a patient on a date, with who recorded it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from .exceptions import InvalidAnswerError
from .scales import ScaleResult


@dataclass(frozen=True)
class RecordedScale:
    """A scale completed by (or for) a patient on ``taken_on``."""

    patient_id: uuid.UUID
    taken_on: date
    result: ScaleResult
    recorded_at: datetime
    recorded_by: str
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    def __post_init__(self) -> None:
        if self.recorded_at.tzinfo is None:
            raise InvalidAnswerError("recorded_at", "naive datetime", "a timezone-aware UTC datetime")
        if not self.recorded_by.strip():
            raise InvalidAnswerError("recorded_by", "is empty", "the user who recorded it")
