"""``ketamine-therapy trial run`` as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ketamine_therapy.pharmacology.trials.example_specs import example_specs

CLI = [sys.executable, "-m", "ketamine_therapy.cli", "trial", "run"]
EXAMPLES = example_specs()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, check=False)


def test_example_json_shape_and_plot(tmp_path: Path) -> None:
    plot = tmp_path / "course.png"
    result = run("murrough_2013_six_infusions", "--json", "--plot", str(plot), "--chunk-size", "500")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"arms"}
    arm = data["arms"]["ketamine"]
    assert arm["n"] == 2000
    assert set(arm["endpoints"]) == {"response_study_end", "relapse_median_days", "cost_per_responder_study_end"}
    for value in arm["endpoints"].values():
        low, high = value["ci95"]
        assert isinstance(value["estimate"], float)
        assert low <= value["estimate"] <= high
    assert 0 <= arm["endpoints"]["response_study_end"]["estimate"] <= 1
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_readable_table(tmp_path: Path) -> None:
    spec = yaml.safe_load(EXAMPLES["han_2016_single_infusion"].read_text("utf-8"))
    spec["population"]["n"] = 200
    path = tmp_path / "han.json"
    path.write_text(json.dumps(spec))
    result = run(str(path))
    assert result.returncode == 0, result.stderr
    assert "response_24h" in result.stdout
    assert "%" in result.stdout
    assert "not a medical device" in result.stdout


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"arms": [{"name": "k", "drug": "aspirin", "days": [1]}]}, "arms[0].drug"),
        ({"arms": [{"name": "k", "drug": "racemic-ketamine", "dose_mg_per_kg": -0.5, "days": [1]}]},
         "arms[0].dose_mg_per_kg"),
        ({"arms": [{"name": "k", "drug": "placebo", "days": [1], "colour": "blue"}]}, "arms[0].colour"),
        ({"endpoints": [{"id": "x", "kind": "survival", "day": 1}]}, "endpoints[0].kind"),
    ],
)  # fmt: skip
def test_bad_spec_exits_2_naming_the_field(tmp_path: Path, change: dict[str, object], field: str) -> None:
    spec = {**yaml.safe_load(EXAMPLES["iv_thrice_weekly"].read_text("utf-8")), **change}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec))
    result = run(str(path), "--json")
    assert result.returncode == 2
    assert f"{field}:" in result.stderr
    assert result.stdout == ""


def test_unreadable_spec_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("arms: [unclosed")
    result = run(str(path))
    assert result.returncode == 2
    assert "spec:" in result.stderr


def test_parameter_uncertainty_widens_the_intervals(tmp_path: Path) -> None:
    spec = yaml.safe_load(EXAMPLES["han_2016_single_infusion"].read_text("utf-8"))
    spec["population"]["n"] = 400
    path = tmp_path / "han.json"
    path.write_text(json.dumps(spec))
    sampling, parameters = (json.loads(run(str(path), "--json", "--uncertainty", mode).stdout)
                            for mode in ("sampling", "parameters"))  # fmt: skip
    assert set(parameters["arms"]) == set(sampling["arms"])
    for name, arm in parameters["arms"].items():
        assert "posterior draws" in arm["response_model_version"]
        for key, value in arm["endpoints"].items():
            low, high = value["ci95"]
            plain_low, plain_high = sampling["arms"][name]["endpoints"][key]["ci95"]
            assert low <= value["estimate"] <= high
            assert high - low >= plain_high - plain_low
    bad = run(str(path), "--uncertainty", "everything")
    assert bad.returncode == 2
    assert "uncertainty:" in bad.stderr


def test_calibrate_writes_parameters_and_draws_to_the_chosen_directory(tmp_path: Path) -> None:
    """A tiny, seeded calibration run end to end (not a real fit: 40 patients, a few evaluations)."""
    command = [sys.executable, "-m", "ketamine_therapy.cli", "calibrate", "--n", "40", "--max-evaluations", "3",
               "--draws", "5", "--output", str(tmp_path / "out")]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    parameters = yaml.safe_load((tmp_path / "out" / "response_model.yaml").read_text())
    draws = yaml.safe_load((tmp_path / "out" / "response_posterior.yaml").read_text())
    assert parameters["calibrated_with"]["n_per_arm"] == 40
    assert len(draws["draws"]) == 5
    assert all(len(row) == len(draws["names"]) for row in draws["draws"])
    assert "han_response_24h" in result.stdout
