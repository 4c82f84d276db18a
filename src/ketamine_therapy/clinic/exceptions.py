"""Errors of the clinic rules.

Hierarchy::

    ClinicError
      InvalidAnswerError (also ValueError): a named input (scale id, answer, total) is not allowed
"""

from __future__ import annotations


class ClinicError(Exception):
    """Base class of every error raised by :mod:`ketamine_therapy.clinic`."""


class InvalidAnswerError(ClinicError, ValueError):
    """An input is not allowed; ``field`` names it (e.g. ``answers[8]``), ``allowed`` says what is (e.g. ``0-3``)."""

    def __init__(self, field: str, message: str, allowed: str | None = None) -> None:
        self.field = field
        self.message = message
        self.allowed = allowed
        text = f"{field}: {message}"
        if allowed:
            text += f" (allowed: {allowed})"
        super().__init__(text)

    def __reduce__(self) -> tuple[type[InvalidAnswerError], tuple[str, str, str | None]]:
        return (InvalidAnswerError, (self.field, self.message, self.allowed))
