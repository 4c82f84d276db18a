"""The ``ketamine-therapy`` command run as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "ketamine_therapy.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, check=False)


def test_simulate_json_for_the_typical_subject() -> None:
    result = run("simulate", "--drug", "racemic-ketamine", "--route", "iv", "--dose-mg-per-kg", "0.5",
                 "--duration-min", "40", "--weight-kg", "70", "--hours", "24", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    ketamine = data["analytes"]["ketamine"]
    assert set(data["analytes"]) == {"ketamine", "norketamine"}
    assert ketamine["cmax_ng_ml"] == pytest.approx(253.4, abs=0.5)  # herd-2007, the default
    assert ketamine["tmax_h"] == pytest.approx(40 / 60, abs=1 / 60)
    assert ketamine["auc_ng_h_ml"] > 0
    assert "not a medical device" in data["disclaimer"]


def test_simulate_population_percentiles_and_plot(tmp_path: Path) -> None:
    plot = tmp_path / "curves.png"
    result = run("simulate", "--drug", "esketamine", "--dose-mg", "84", "--days", "1,4", "--n", "300",
                 "--seed", "7", "--plot", str(plot), "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for analyte in ("esketamine", "noresketamine"):
        p = data["analytes"][analyte]["percentiles"]["cmax_ng_ml"]
        assert p["p5"] < p["p50"] < p["p95"]
    assert plot.stat().st_size > 10_000
    assert plot.read_bytes()[:4] == b"\x89PNG"
    again = json.loads(run("simulate", "--drug", "esketamine", "--dose-mg", "84", "--days", "1,4", "--n", "300",
                           "--seed", "7", "--json").stdout)  # fmt: skip
    assert again["analytes"] == data["analytes"]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--dose-mg", "-5"], "dose_mg"),
        (["--drug", "esketamine", "--route", "rectal"], "route"),
        (["--dose-mg-per-kg", "3"], "dose_mg_per_kg"),
        (["--drug", "esketamine", "--dose-mg", "70"], "dose_mg"),
        (["--drug", "aspirin"], "drug"),
        (["--model", "unknown"], "model"),
        (["--days", "1,x"], "days"),
        (["--route", "topical"], "route"),
        (["--weight-kg", "-3"], "weight_kg"),
    ],
)
def test_bad_input_exits_2_naming_the_field(args: list[str], field: str) -> None:
    result = run("simulate", *args)
    assert result.returncode == 2
    assert f"{field}:" in result.stderr
    assert "allowed" in result.stderr
    assert result.stdout == ""


def test_readable_table_models_and_help() -> None:
    table = run("simulate", "--days", "1,3", "--n", "50")
    assert table.returncode == 0
    assert "Cmax" in table.stdout
    assert "not a medical device" in table.stdout
    models = run("models", "list")
    assert models.returncode == 0
    assert "perez-ruixo-2021" in models.stdout
    show = run("models", "show", "clements-1981")
    assert show.returncode == 0
    assert "k10" in show.stdout
    assert run("simulate", "--help").returncode == 0
