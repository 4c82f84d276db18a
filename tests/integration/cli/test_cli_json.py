"""``--json`` on every command that prints a result: one JSON object on stdout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ketamine_therapy.cli.main import app
from ketamine_therapy.pharmacology import list_models
from ketamine_therapy.pharmacology.trials.example_specs import example_specs


def run_json(*args: str) -> Any:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_models_list_and_show() -> None:
    listed = run_json("models", "list")["models"]
    assert [m["id"] for m in listed] == [m.id for m in list_models()]
    assert all(m["routes"] and m["drug"] for m in listed)
    shown = run_json("models", "show", "herd-2007")
    assert shown["id"] == "herd-2007"
    assert shown["parameters"]
    assert all(p["source"] and p["unit"] for p in shown["parameters"])


def test_trial_examples() -> None:
    examples = run_json("trial", "examples")["examples"]
    assert [e["name"] for e in examples] == list(example_specs())
    han = next(e for e in examples if e["name"] == "han_2016_single_infusion")
    assert "Han 2016" in han["summary"]


def test_trial_run_by_example_name_and_unknown_name() -> None:
    unknown = CliRunner().invoke(app, ["trial", "run", "no_such_trial"])
    assert unknown.exit_code == 2
    assert "spec:" in unknown.stderr
    assert "han_2016_single_infusion" in unknown.stderr


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    monkeypatch.setenv("KETAMINE_THERAPY_DATABASE_URL", url)
    return url


def test_db_and_users(database: str) -> None:
    up = run_json("db", "upgrade")
    assert up["revision"] is not None
    assert up["database"].endswith("clinic.db")
    created = run_json("users", "create", "dr.lee", "--role", "prescriber")
    assert (created["username"], created["role"], created["active"]) == ("dr.lee", "prescriber", True)
    assert len(created["password"]) >= 12
    users = run_json("users", "list")["users"]
    assert [u["username"] for u in users] == ["dr.lee"]
    assert "password" not in users[0]
    assert run_json("users", "deactivate", "dr.lee")["active"] is False
    assert run_json("users", "activate", "dr.lee")["active"] is True
    admin = run_json("users", "ensure-admin")
    assert admin["created"] is True
    assert admin["password"]
    assert run_json("users", "ensure-admin") == {"created": False, "username": None, "password": None}
    down = run_json("db", "downgrade", "base")
    assert down["revision"] is None


def test_demo_seed(database: str) -> None:
    seeded = run_json("demo", "seed", "--patients", "3", "--seed", "1")
    assert seeded["patients"] == 3
    assert sum(seeded["by_course"].values()) == 3
    assert seeded["database"].endswith("clinic.db")


def test_demo_simulation(tmp_path: Path) -> None:
    report = run_json("demo", "--n", "20", "--plot", str(tmp_path / "demo.png"))
    assert len(report["regimen"]) == 6
    assert report["plot"] == str(tmp_path / "demo.png")
    assert (tmp_path / "demo.png").read_bytes()[:4] == b"\x89PNG"


def test_calibrate_without_writing() -> None:
    """A tiny seeded run (not a real fit): the targets with published and model values, nothing written."""
    result = run_json("calibrate", "--n", "20", "--max-evaluations", "1", "--no-write")
    assert result["written_to"] is None
    assert result["evaluations"] >= 1
    ids = {t["id"] for t in result["targets"]}
    assert "han_response_24h" in ids
    assert all(t["band"] > 0 and t["source"] for t in result["targets"])
    assert any(t["held_out"] for t in result["targets"])
