"""Trial specs: YAML aliases and deep nesting are refused before validation, errors never echo unbounded input,
and the published JSON Schema is the code's and accepts every example spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ketamine_therapy.pharmacology.exceptions import InvalidInputError
from ketamine_therapy.pharmacology.trials.example_specs import example_specs
from ketamine_therapy.pharmacology.trials.spec import ENDPOINT_KINDS
from ketamine_therapy.validation.trial_spec import MAX_ECHO, read_trial_spec, trial_spec_schema

from ..integration.api.conftest import Api

ROOT = Path(__file__).resolve().parents[2]
BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)  # ~450 bytes; 9**9 strings once expanded
DEEP_JSON = "[" * 20_000 + "]" * 20_000
DEEP_YAML = "- " * 20_000 + "x"


def test_the_alias_bomb_is_small_and_refused(api: Api) -> None:
    assert len(BOMB) < 600
    r = api.send("researcher", "POST", "/trials", {"spec": BOMB, "format": "yaml"})
    assert r.status_code == 422
    assert r.json()["field"] == "spec"
    assert "alias" in r.json()["detail"]
    assert len(r.content) < 2000


@pytest.mark.parametrize(("text", "fmt"), [(DEEP_JSON, "json"), (DEEP_YAML, "yaml")], ids=["json", "yaml"])
def test_deep_nesting_is_a_4xx(api: Api, text: str, fmt: str) -> None:
    r = api.send("researcher", "POST", "/trials", {"spec": text, "format": fmt})
    assert r.status_code == 422
    assert "nested deeper" in r.json()["detail"]


def test_errors_never_echo_unbounded_input() -> None:
    long_name = "x" * 50_000
    spec = {"name": "t", "population": {"n": 10}, "arms": [{"name": "a", "drug": long_name, "days": [1]}],
            "endpoints": [{"id": "r", "kind": "response", "day": 1}], long_name: 1}  # fmt: skip
    with pytest.raises(InvalidInputError) as raised:
        read_trial_spec(json.dumps(spec), "json")
    assert len(str(raised.value)) < 3 * MAX_ECHO
    days = {**spec, "arms": [{"name": "a", "drug": "placebo", "days": list(range(1000, 0, -1))}]}
    days.pop(long_name)
    with pytest.raises(InvalidInputError) as unordered:
        read_trial_spec(json.dumps(days), "json")
    assert unordered.value.field == "arms[0].days"
    assert len(str(unordered.value)) < 3 * MAX_ECHO


def test_wrong_types_are_errors_not_coerced() -> None:
    base = {"name": "t", "population": {"n": 10}, "arms": [{"name": "a", "drug": "placebo", "days": [1]}],
            "endpoints": [{"id": "r", "kind": "response", "day": 1}]}  # fmt: skip
    for path, value in (("population.n", "10"), ("population.n", True), ("arms[0].days[0]", "1")):
        bad = json.loads(json.dumps(base))
        if path == "population.n":
            bad["population"]["n"] = value
        else:
            bad["arms"][0]["days"] = [value]
        with pytest.raises(InvalidInputError) as raised:
            read_trial_spec(json.dumps(bad), "json")
        assert raised.value.field == path


def test_the_published_schema_is_the_codes_and_fits_the_examples() -> None:
    published = json.loads((ROOT / "docs" / "trial-spec.schema.json").read_text())
    assert published == trial_spec_schema(), "regenerate: ketamine-therapy trial schema > docs/trial-spec.schema.json"
    assert published["$defs"]["EndpointIn"]["properties"]["kind"]["enum"] == list(ENDPOINT_KINDS)
    examples = example_specs()
    assert examples
    for spec in examples.values():
        read_trial_spec(spec.read_text("utf-8"), "yaml")
