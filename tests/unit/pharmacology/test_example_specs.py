"""The example trial specs are package data: found through importlib.resources, as in an installed wheel."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from importlib import resources
from pathlib import Path

from ketamine_therapy.pharmacology.trials.example_specs import example_specs
from ketamine_therapy.validation.trial_spec import read_trial_spec

ROOT = Path(__file__).resolve().parents[3]
CALIBRATION_TRIALS = {"fava_2020_dose_ranging", "han_2016_single_infusion", "murrough_2013_six_infusions",
                      "singh_2016_twice_vs_thrice", "sustain1_maintenance", "synapse_esketamine_dose_response",
                      "transform2_esketamine"}  # fmt: skip


def test_the_examples_are_found_through_importlib_resources() -> None:
    found = example_specs()
    assert set(found) >= CALIBRATION_TRIALS | {"iv_thrice_weekly"}
    assert list(found) == sorted(found)
    package = resources.files("ketamine_therapy.pharmacology.trials")
    for name, spec in found.items():
        assert spec.is_file()
        assert spec.read_text("utf-8") == package.joinpath("examples", f"{name}.yaml").read_text("utf-8")


def test_every_example_is_a_valid_spec() -> None:
    for name, spec in example_specs().items():
        trial = read_trial_spec(spec.read_text("utf-8"), "yaml")
        assert trial.arms, name


def test_the_wheel_ships_the_examples() -> None:
    """pyproject.toml's package data covers every example file (so `pip install` carries them)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["ketamine_therapy.pharmacology.trials"]
    for name in example_specs():
        assert any(fnmatch(f"examples/{name}.yaml", pattern) for pattern in patterns), name
