"""Web forms through the validation layer: posted text parsed into a pydantic model, errors naming the field.

A form sends only text. A field's text becomes a JSON number when it is written as one (a decimal comma is read
as a point) and a JSON string otherwise, and the model validates that JSON strictly: ``nan``, ``inf``, ``true``
or ``1e999`` are never numbers, ``0`` is never a date.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from ..clinic.exceptions import InvalidAnswerError

M = TypeVar("M", bound=BaseModel)
_NUMBER = re.compile(r"^-?(0|[1-9][0-9]{0,8})([.,][0-9]{1,9})?$")


def _described(annotation: object) -> str | None:
    """The description of a field's type, looking through ``X | None`` and ``Annotated``."""
    for part in get_args(annotation):
        if isinstance(part, FieldInfo) and part.description:
            return part.description
        found = _described(part)
        if found:
            return found
    return None


def _json_value(text: str) -> object:
    """A number when ``text`` is written as a plain decimal number, else the text itself."""
    if _NUMBER.match(text):
        number = text.replace(",", ".")
        return float(number) if "." in number else int(number)
    return text


def parse_form(model: type[M], form: Mapping[str, object]) -> M:
    """``model`` from a form's text fields (blank fields are absent).

    Raises :class:`InvalidAnswerError` naming the first wrong field and what is allowed.
    """
    data = {}
    for name in model.model_fields:
        value = form.get(name)
        if isinstance(value, str) and value.strip():
            data[name] = _json_value(value.strip())
    try:
        return model.model_validate_json(json.dumps(data))
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "form"
        field = model.model_fields.get(name)
        ctx = error.get("ctx") or {}
        allowed = ctx.get("allowed")
        if allowed is None and field is not None:
            allowed = field.description or _described(field.annotation)
        given = form.get(name)
        message = "missing" if given is None or given == "" else f"{given!r}: {ctx.get('message', error['msg'])}"
        raise InvalidAnswerError(name, message, allowed) from None


_ADAPTERS: dict[object, TypeAdapter[object]] = {}


def parse_text(kind: Any, text: str, name: str, allowed: str | None = None) -> object:
    """One form field's ``text`` validated as ``kind`` (a validation-layer type, ``int``, ``float`` or ``date``),
    strictly, as :func:`parse_form` does; raises :class:`InvalidAnswerError` naming ``name``."""
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(kind)
    text = text.strip()
    if not text:
        raise InvalidAnswerError(name, "is missing", allowed or _described(kind))
    try:
        return adapter.validate_json(json.dumps(_json_value(text)), strict=kind in (int, float) or None)
    except ValidationError as exc:
        error = exc.errors()[0]
        ctx = error.get("ctx") or {}
        raise InvalidAnswerError(name, f"{text!r}: {ctx.get('message', error['msg'])}",
                                 allowed or ctx.get("allowed") or _described(kind)) from None  # fmt: skip
