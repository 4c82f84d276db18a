"""Checks of the numbers in protocol steps and booster rules."""

from __future__ import annotations

import math

from ..exceptions import InvalidAnswerError


def positive(value: object) -> bool:
    """Whether ``value`` is a finite number above 0 (not a bool)."""
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def check_int(name: str, value: object, minimum: int) -> None:
    """Refuse ``value`` unless it is an integer >= ``minimum`` (:class:`InvalidAnswerError` naming ``name``)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidAnswerError(name, f"got {value!r}", f"integer >= {minimum}")
