"""The command starts light: help and version load no numerical or database stack (in a fresh interpreter).

(Typer itself imports pydantic to parse the options of a sub-command, so pydantic is not in the list.)
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import ketamine_therapy

HEAVY = ("numba", "llvmlite", "scipy", "numpy", "matplotlib", "sqlalchemy", "fastapi", "alembic")
PROBE = """
import json, sys
from ketamine_therapy.cli.main import app
try:
    app(sys.argv[1:], prog_name="ketamine-therapy")
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "loaded": sorted({name.split(".")[0] for name in sys.modules})}), file=sys.stderr)
"""


def probe(*args: str) -> tuple[str, dict[str, object]]:
    """Run the command in a new interpreter; its stdout and what it had imported when it exited."""
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60, check=True)
    return done.stdout, json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--version"], ["trial", "--help"], ["trial", "run", "--help"], ["models", "--help"],
     ["simulate", "--help"], ["calibrate", "--help"], ["users", "--help"], ["db", "--help"], ["demo", "--help"]],
    ids=" ".join,
)  # fmt: skip
def test_help_and_version_import_no_numerical_stack(args: list[str]) -> None:
    out, state = probe(*args)
    assert state["code"] == 0
    assert out.strip()
    loaded = state["loaded"]
    assert isinstance(loaded, list)
    assert "typer" in loaded  # the probe sees the command's imports
    assert set(HEAVY).isdisjoint(loaded), set(HEAVY) & set(loaded)


def test_version_is_the_package_version() -> None:
    out, _ = probe("--version")
    assert out.strip() == f"ketamine-therapy {ketamine_therapy.__version__}"


def test_a_command_that_runs_does_load_what_it_needs() -> None:
    """The check above can fail: running a model listing imports the pharmacology (numba, scipy)."""
    out, state = probe("models", "list", "--json")
    assert state["code"] in (0, None)
    assert {"numba", "scipy"} <= set(state["loaded"])  # type: ignore[arg-type]
    assert json.loads(out)["models"]
