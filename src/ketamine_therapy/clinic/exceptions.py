"""Errors of the clinic rules.

Hierarchy::

    ClinicError
      InvalidAnswerError (also errors.FieldError, a ValueError): a named input (scale id, answer, total) is not
        allowed
"""

from __future__ import annotations

from ..errors import FieldError


class ClinicError(Exception):
    """Base class of every error raised by :mod:`ketamine_therapy.clinic`."""


class InvalidAnswerError(ClinicError, FieldError):
    """An input is not allowed; ``field`` names it (e.g. ``answers[8]``), ``allowed`` says what is (e.g. ``0-3``)."""
