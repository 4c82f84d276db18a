"""Domain values <-> JSON documents, with pydantic's TypeAdapter over the clinic's frozen dataclasses.

Reading a document re-runs each dataclass's validation, so a stored record that no longer satisfies the
clinic rules fails loudly instead of loading silently.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from pydantic import TypeAdapter

T = TypeVar("T")


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(kind: type[Any]) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(kind)
    if adapter is None:  # building one is slow; a race only builds it twice
        adapter = _ADAPTERS[kind] = TypeAdapter(kind)
    return adapter


def dump(value: object) -> dict[str, object]:
    """A JSON-ready dict of a domain dataclass."""
    return cast("dict[str, object]", _adapter(type(value)).dump_python(value, mode="json"))


def load(kind: type[T], data: object) -> T:
    """Rebuild (and re-validate) a domain dataclass from its document."""
    return cast("T", _adapter(kind).validate_python(data))
