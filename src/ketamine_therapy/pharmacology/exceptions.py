"""Errors of the pharmacology core.

Hierarchy::

    PharmacologyError
      InvalidInputError (also errors.FieldError, a ValueError): a named input is outside what is allowed
        UnknownNameError: a model, drug, route or analyte name that does not exist
      ModelDataError: a packaged data file is inconsistent (a bug, not user input)

Vectorised simulation never raises for one bad subject: it returns a per-subject
:class:`~ketamine_therapy.pharmacology.solver.SubjectStatus` instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import FieldError


class PharmacologyError(Exception):
    """Base class of every error raised by :mod:`ketamine_therapy.pharmacology`."""


class InvalidInputError(PharmacologyError, FieldError):
    """An input is outside its allowed range; ``field`` names it, ``allowed`` says what is."""


class UnknownNameError(InvalidInputError):
    """A name (model, drug, route, analyte) that is not registered."""

    def __init__(self, field: str, name: str, choices: Iterable[str]) -> None:
        super().__init__(field, f"unknown value {name!r}", ", ".join(sorted(choices)))

    def __reduce__(self) -> tuple[type[InvalidInputError], tuple[str, str, str | None]]:
        return (InvalidInputError, (self.field, self.message, self.allowed))  # unpickles as its base, as it always did


class ModelDataError(PharmacologyError):
    """A packaged model data file is inconsistent."""
