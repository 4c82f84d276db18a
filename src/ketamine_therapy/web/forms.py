"""Reading posted forms: the form dependencies and field parsers (through the validation layer) whose errors name
the field (``InvalidAnswerError``), and the error values the templates show next to it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from starlette.datastructures import FormData

from ..clinic.exceptions import ClinicError, InvalidAnswerError
from ..validation.forms import parse_text
from ..validation.quantities import ClinicDate


async def read_form(request: Request) -> FormData:
    """The posted form (read in the event loop, so that the page handlers themselves can be plain functions)."""
    return await request.form()


FormDep = Annotated[FormData, Depends(read_form)]


async def read_text_form(request: Request) -> dict[str, str]:
    """The posted form's text fields (read in the event loop, so that the handlers can be plain functions)."""
    data = await request.form()
    return {key: value for key, value in data.items() if isinstance(value, str)}


TextFormDep = Annotated[dict[str, str], Depends(read_text_form)]


def field_text(form: Mapping[str, Any], name: str) -> str:
    """The field's text, stripped ("" when it is absent or not text)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def parse_date(value: str, name: str) -> date:
    """A ``YYYY-MM-DD`` date from 1900 (the validation layer's ``ClinicDate``)."""
    return cast("date", parse_text(ClinicDate, value, name, "YYYY-MM-DD"))


def parse_float(value: str, name: str, allowed: str) -> float:
    """A finite decimal number (``nan``, ``inf`` and exponents are not numbers)."""
    return cast("float", parse_text(float, value, name, allowed))


def parse_int(value: str, name: str, allowed: str) -> int:
    """A whole number."""
    return cast("int", parse_text(int, value, name, allowed))


def is_checked(form: Mapping[str, Any], name: str) -> bool:
    """Whether a checkbox was ticked."""
    return field_text(form, name) in ("on", "1", "true", "yes")


def error_values(exc: InvalidAnswerError | ClinicError) -> dict[str, str | None]:
    """A refusal as the templates show it: the field (if any), the message, what is allowed, the whole text."""
    if isinstance(exc, InvalidAnswerError):
        return {"field": exc.field, "message": exc.message, "allowed": exc.allowed, "text": str(exc)}
    return {"field": None, "message": str(exc), "allowed": None, "text": str(exc)}
