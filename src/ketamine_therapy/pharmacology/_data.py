"""Read the packaged YAML data files (published parameters with their citations)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from .exceptions import ModelDataError


@dataclass(frozen=True)
class Parameter:
    """One published value with its provenance."""

    name: str
    value: float
    unit: str
    source: str
    evidence: str
    ref: str | None = None


@cache
def load(relative_path: str) -> dict[str, Any]:
    """Load ``data/<relative_path>`` from the package as a mapping."""
    text = resources.files(__package__).joinpath("data", relative_path).read_text("utf-8")
    loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict):
        raise ModelDataError(f"{relative_path}: expected a mapping at top level")
    return loaded


def list_files(folder: str) -> list[str]:
    """Names of the YAML files in ``data/<folder>``, sorted."""
    root = resources.files(__package__).joinpath("data", folder)
    return sorted(p.name for p in root.iterdir() if p.name.endswith(".yaml"))


def parameter(name: str, entry: Any) -> Parameter:
    """Turn a ``{value, unit, source, evidence, ref}`` mapping into a :class:`Parameter`."""
    if not isinstance(entry, dict) or "value" not in entry:
        raise ModelDataError(f"parameter {name}: expected a mapping with 'value'")
    return Parameter(
        name=name,
        value=float(entry["value"]),
        unit=str(entry.get("unit", "")),
        source=str(entry.get("source", "")),
        evidence=str(entry.get("evidence", "")),
        ref=entry.get("ref"),
    )


def parameters(entries: dict[str, Any]) -> dict[str, Parameter]:
    """All parameters of a ``parameters:`` mapping."""
    return {name: parameter(name, entry) for name, entry in entries.items()}
