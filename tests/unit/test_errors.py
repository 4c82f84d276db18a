"""One field-error base for the clinic rules and the pharmacology core (``ketamine_therapy.errors``)."""

from __future__ import annotations

import pickle

import pytest

from ketamine_therapy.clinic.exceptions import ClinicError, InvalidAnswerError
from ketamine_therapy.errors import FieldError
from ketamine_therapy.pharmacology.exceptions import InvalidInputError, PharmacologyError, UnknownNameError


@pytest.mark.parametrize(
    ("error", "family"),
    [(InvalidAnswerError("answers[8]", "4 is out of range", "0-3"), ClinicError),
     (InvalidInputError("dose_mg", "-1 is below 0", ">= 0"), PharmacologyError)],
)  # fmt: skip
def test_both_field_errors_share_the_base_and_survive_pickling(error: FieldError, family: type[Exception]) -> None:
    assert isinstance(error, FieldError)
    assert isinstance(error, family)
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert (copy.field, copy.message, copy.allowed, str(copy)) == (
        error.field,
        error.message,
        error.allowed,
        str(error),
    )


def test_an_unknown_name_unpickles_as_an_invalid_input_with_the_same_text() -> None:
    error = UnknownNameError("model", "nope", ["b", "a"])
    assert str(error) == "model: unknown value 'nope' (allowed: a, b)"
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is InvalidInputError
    assert str(copy) == str(error)
