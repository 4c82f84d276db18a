"""Validation-table helpers shared by every module in tests/validation (see conftest.py).

Each validation test compares the model with a published value through the ``validation``
fixture: ``validation.check(...)`` records one row (target, source, model value, tolerance,
calibrated/predicted, result), ``validation.info(...)`` records a row without a verdict, and
``validation.conclude()`` prints the test's rows (visible with ``pytest -s``) and fails the test
if a checked row missed. All rows are also collected for the session and printed as one table in
the terminal summary, so a plain ``pytest`` run ends with the full validation table.

Basis of a row:
- ``calibrated``: the published value was used to derive a model parameter (route F, ka from
  Tmax, first-pass metabolite formation from an AUC ratio); the row checks the derivation.
- ``predicted``: no model parameter was derived from the published value.
- ``info``: printed for context, not judged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

CALIBRATED = "calibrated"
PREDICTED = "predicted"
INFO = "info"


@dataclass(frozen=True)
class Tolerance:
    """Acceptance window around a published value.

    ``kind``: ``rel`` (published x (1 -/+ value)), ``abs`` (published -/+ value), ``factor``
    (published / value .. published x value) or ``range`` (the published value is itself a
    ``(low, high)`` range; ``value`` is unused).
    """

    kind: str
    value: float = 0.0

    @classmethod
    def rel(cls, fraction: float) -> Tolerance:
        return cls("rel", fraction)

    @classmethod
    def absolute(cls, amount: float) -> Tolerance:
        return cls("abs", amount)

    @classmethod
    def factor(cls, factor: float) -> Tolerance:
        return cls("factor", factor)

    @classmethod
    def published_range(cls) -> Tolerance:
        return cls("range")

    def bounds(self, published: float | tuple[float, float]) -> tuple[float, float]:
        if self.kind == "range":
            low, high = published  # type: ignore[misc]
            return float(low), float(high)
        assert isinstance(published, int | float)
        if self.kind == "rel":
            return published * (1 - self.value), published * (1 + self.value)
        if self.kind == "abs":
            return published - self.value, published + self.value
        if self.kind == "factor":
            return published / self.value, published * self.value
        raise ValueError(f"unknown tolerance kind {self.kind!r}")

    def describe(self, published: float | tuple[float, float], unit: str) -> str:
        low, high = self.bounds(published)
        window = f"[{_fmt(low)}, {_fmt(high)}]{_unit(unit)}"
        if self.kind == "rel":
            return f"±{self.value * 100:g}% {window}"
        if self.kind == "abs":
            return f"±{_fmt(self.value)} {window}"
        if self.kind == "factor":
            return f"×/÷{self.value:g} {window}"
        return f"in range {window}"


@dataclass(frozen=True)
class Row:
    module: str
    test: str
    quantity: str
    published: str
    model: str
    tolerance: str
    basis: str
    result: str
    source: str
    note: str


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3e}"
    return f"{value:.4g}"


def _unit(unit: str) -> str:
    return f" {unit}" if unit else ""


def _published_text(published: float | tuple[float, float] | str, unit: str) -> str:
    if isinstance(published, str):
        return published
    if isinstance(published, tuple):
        return f"{_fmt(published[0])}–{_fmt(published[1])}{_unit(unit)}"
    return f"{_fmt(published)}{_unit(unit)}"


ROWS_KEY = pytest.StashKey[list[Row]]()

HEADER = ("quantity", "published", "model", "tolerance", "basis", "result", "source")


def format_rows(rows: Sequence[Row]) -> list[str]:
    """Rows as aligned text lines, a header first, notes on indented lines under their row."""
    cells = [HEADER] + [(r.quantity, r.published, r.model, r.tolerance, r.basis, r.result, r.source) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER) - 1)]

    def line(c: Sequence[str]) -> str:
        return " | ".join([*(c[i].ljust(widths[i]) for i in range(len(widths))), c[-1]])

    lines = [line(HEADER), "-+-".join("-" * w for w in [*widths, len(HEADER[-1])])]
    for row, c in zip(rows, cells[1:], strict=True):
        lines.append(line(c))
        if row.note:
            lines.append(f"    note: {row.note}")
    return lines


class ValidationTable:
    """Rows of one validation test; see the module docstring."""

    def __init__(self, request: pytest.FixtureRequest, session_rows: list[Row]) -> None:
        self._node = request.node
        self._session_rows = session_rows
        self._xfail = request.node.get_closest_marker("xfail") is not None
        self.rows: list[Row] = []
        self.misses: list[str] = []

    def _add(self, row: Row) -> None:
        self.rows.append(row)
        self._session_rows.append(row)

    def _row(self, *cells: str) -> Row:
        """A row of this test from (quantity, published, model, tolerance, basis, result, source,
        note)."""
        return Row(self._node.module.__name__, self._node.name, *cells)

    def check(
        self,
        quantity: str,
        *,
        published: float | tuple[float, float],
        model: float,
        tol: Tolerance,
        basis: str,
        source: str,
        unit: str = "",
        note: str = "",
    ) -> bool:
        """Judge ``model`` against ``published`` within ``tol``; record and return the verdict."""
        if basis not in (CALIBRATED, PREDICTED):
            raise ValueError(f"basis must be {CALIBRATED!r} or {PREDICTED!r}, got {basis!r}")
        low, high = tol.bounds(published)
        ok = bool(math.isfinite(model) and low <= model <= high)
        if ok:
            result = "XPASS (expected miss)" if self._xfail else "pass"
        else:
            result = "MISS (known, xfail)" if self._xfail else "MISS"
            self.misses.append(
                f"{quantity}: model {_fmt(model)}{_unit(unit)} outside "
                f"[{_fmt(low)}, {_fmt(high)}]{_unit(unit)} ({source})"
            )
        self._add(
            self._row(
                quantity,
                _published_text(published, unit),
                f"{_fmt(model)}{_unit(unit)}",
                tol.describe(published, unit),
                basis,
                result,
                source,
                note,
            )
        )
        return ok

    def info(
        self,
        quantity: str,
        *,
        published: float | tuple[float, float] | str,
        model: float | str,
        source: str,
        unit: str = "",
        note: str = "",
    ) -> None:
        """Record a row printed for context only (no verdict)."""
        model_text = model if isinstance(model, str) else f"{_fmt(model)}{_unit(unit)}"
        self._add(
            self._row(
                quantity,
                _published_text(published, unit),
                model_text,
                "-",
                INFO,
                "info",
                source,
                note,
            )
        )

    def conclude(self) -> None:
        """Print this test's rows and fail if any checked row missed."""
        print(f"\nvalidation: {self._node.nodeid}")  # noqa: T201
        for text in format_rows(self.rows):
            print(text)  # noqa: T201
        assert not self.misses, "validation miss:\n" + "\n".join(self.misses)
