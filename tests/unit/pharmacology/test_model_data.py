"""Each model's parameters match its data file, and the data files match docs/references/pharmacology.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from ketamine_therapy.pharmacology import Covariates, Dose, Regimen, Route, get_model, list_models, simulate
from ketamine_therapy.pharmacology._data import list_files, load
from ketamine_therapy.pharmacology.exceptions import ModelDataError
from ketamine_therapy.pharmacology.models import MammillaryModel

REFERENCE = Path(__file__).resolve().parents[3] / "docs" / "references" / "pharmacology.yaml"


def _all_entries(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if "value" in node and "ref" in node:
            found.append((path, node))
        for key, value in node.items():
            found += _all_entries(value, f"{path}.{key}" if path else str(key))
    return found


DATA_FILES = [f"models/{f}" for f in list_files("models")] + [
    f"{folder}/{f}" for folder in ("metabolites", "iiv", "routes") for f in list_files(folder)
] + ["drugs.yaml", "pd.yaml"]  # fmt: skip


@pytest.mark.parametrize("data_file", DATA_FILES)
def test_every_referenced_value_matches_the_reference(data_file: str) -> None:
    reference = yaml.safe_load(REFERENCE.read_text())
    entries = _all_entries(load(data_file))
    for path, entry in entries:
        node: Any = reference
        for key in entry["ref"].split("."):
            node = node[key]
        published = node["value"]
        assert node["status"] == "VERIFIED", f"{data_file}:{path} cites an unverified value"
        if isinstance(published, (int, float)):
            assert float(entry["value"]) == pytest.approx(float(published)), f"{data_file}:{path}"
        else:  # e.g. '24 (IQR 17-27)', '0.084, 0.026, 0.023': our value must appear in the text
            text = str(published)
            number = entry["value"]
            values = number if isinstance(number, list) else [number]
            for v in np.ravel(values):
                assert f"{float(v):g}"[:4].rstrip(".") in text or f"{float(v) * 100:g}" in text, f"{data_file}:{path}"


def test_every_parameter_names_a_source() -> None:
    for model in list_models():
        for p in model.published.values():
            assert p.source, f"{model.id}.{p.name}"
            assert p.unit, f"{model.id}.{p.name}"


def test_clements_individual_parameters_follow_from_the_micro_constants() -> None:
    model = get_model("clements-1981")
    p = {k: v.value for k, v in model.published.items()}
    typical = model.typical_parameters(Covariates.typical(weight_kg=80.0))
    v1 = p["V1"] * 80.0
    assert typical["V1"][0] == pytest.approx(v1)
    assert typical["CL"][0] == pytest.approx(p["k10"] * 60 * v1)
    assert typical["Q"][0] / typical["V2"][0] == pytest.approx(p["k21"] * 60)


def test_otto_allometry_scales_central_volume_and_clearance_only() -> None:
    model = get_model("fanta-otto-2021")
    light, heavy = (model.typical_parameters(Covariates.typical(weight_kg=w)) for w in (56.0, 70.0))
    assert heavy["V1"][0] == pytest.approx(133.0)
    assert heavy["CL"][0] == pytest.approx(95.2)
    assert light["V1"][0] == pytest.approx(133.0 * 0.8)
    assert light["CL"][0] == pytest.approx(95.2 * 0.8**0.75)
    assert light["V2"][0] == heavy["V2"][0] == pytest.approx(187.0)


def test_perez_ruixo_covariates() -> None:
    model = get_model("perez-ruixo-2021")
    base = model.typical_parameters(Covariates.typical(age_y=50))
    old = model.typical_parameters(Covariates.typical(age_y=70))
    asian = model.typical_parameters(Covariates.typical(asian=True))
    japanese = model.typical_parameters(Covariates.typical(japanese=True))
    assert base["Qh"][0] - old["Qh"][0] == pytest.approx(21.9)
    assert asian["kel"][0] / base["kel"][0] == pytest.approx(0.36)
    assert asian["CLn"][0] / base["CLn"][0] == pytest.approx(0.81)
    assert japanese["FRn"][0] / base["FRn"][0] == pytest.approx(1.34)


def test_random_effects_follow_the_published_omegas() -> None:
    model = get_model("fanta-otto-2021")
    eta = model.sample_eta(200_000, np.random.default_rng(0))
    np.testing.assert_allclose(np.cov(eta.T), model.omega, atol=3e-3)


EXTRAVASCULAR = [
    (model.id, route) for model in list_models() if isinstance(model, MammillaryModel) for route in model.routes
    if route is not Route.IV
]  # fmt: skip


@pytest.mark.parametrize(("model_id", "route"), EXTRAVASCULAR, ids=[f"{m}-{r.value}" for m, r in EXTRAVASCULAR])
def test_route_pathways_conserve_the_dose(model_id: str, route: Route) -> None:
    model = get_model(model_id)
    assert isinstance(model, MammillaryModel)
    pathways = model.absorption(route)
    for pathway in pathways:
        assert 0 < pathway.to_central <= 1
        assert 0 <= pathway.to_metabolite <= 1 - pathway.to_central
        assert pathway.lag_h >= 0
    assert sum(p.fraction_of_dose for p in pathways) == pytest.approx(1.0)


def test_herd_random_effects_are_its_published_bsv() -> None:
    model = get_model("herd-2007")
    bsv = {name: float(sd) for name, sd in zip(model.eta_names, np.sqrt(np.diag(model.omega)), strict=True)}
    parent = {name: sd for name, sd in bsv.items() if name.startswith("parent.")}
    assert parent == pytest.approx({"parent.V1": 0.64, "parent.V2": 0.517, "parent.CL": 0.381, "parent.Q": 0.19})


def test_a_lag_time_holds_the_dose_back_until_it_has_passed() -> None:
    model = get_model("herd-2007")
    assert isinstance(model, MammillaryModel)
    lag = model.absorption(Route.ORAL)[0].lag_h
    assert lag > 0
    times = np.array([0.0, lag - 1 / 60, lag + 1 / 60, 2.0])
    conc = simulate(Regimen((Dose(0.0, Route.ORAL, amount_mg=25.0),)), times, model=model).conc_ng_ml
    assert conc["ketamine"][0, 1] == 0.0
    assert conc["norketamine"][0, 1] == 0.0
    assert conc["ketamine"][0, 2] > 0.0


def test_a_published_peak_out_of_reach_is_a_data_error() -> None:
    """Clements' 123 L central volume cannot reach the intranasal Cmax at F 0.13: refused, not bent."""
    data = dict(get_model("clements-1981").data)
    data["routes"] = [*data["routes"], "intranasal"]
    with pytest.raises(ModelDataError, match="intranasal Cmax"):
        MammillaryModel(data).absorption(Route.INTRANASAL)
