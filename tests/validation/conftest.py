"""Validation tests: the ``validation`` fixture and the validation table in the terminal summary.

The helpers live in ``_table.py`` (rows, tolerances, formatting); see its docstring.
"""

from __future__ import annotations

import pytest

from ._table import ROWS_KEY, ValidationTable, format_rows


@pytest.fixture
def validation(request: pytest.FixtureRequest) -> ValidationTable:
    """Recorder of validation rows for the current test."""
    return ValidationTable(request, request.config.stash.setdefault(ROWS_KEY, []))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    rows = config.stash.get(ROWS_KEY, [])
    if not rows:
        return
    terminalreporter.section("validation table: published targets vs model")
    modules = list(dict.fromkeys(r.module for r in rows))
    for module in modules:
        terminalreporter.write_line("")
        terminalreporter.write_line(f"[{module}]")
        for text in format_rows([r for r in rows if r.module == module]):
            terminalreporter.write_line(text)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.result] = counts.get(r.result, 0) + 1
    terminalreporter.write_line("")
    terminalreporter.write_line(
        "validation rows: " + ", ".join(f"{n} {result}" for result, n in sorted(counts.items()))
    )
