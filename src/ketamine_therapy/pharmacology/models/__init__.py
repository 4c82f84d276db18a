"""Registry of published PK models: ``get_model(id)``, ``list_models()``, ``default_model(drug)``."""

from __future__ import annotations

from functools import cache

from .._data import list_files, load
from ..exceptions import UnknownNameError
from ._base import ParameterSet, PKModel, Residual
from ._mammillary import MammillaryModel, Pathway
from ._perez_ruixo import PerezRuixoModel

__all__ = [
    "MammillaryModel",
    "PKModel",
    "ParameterSet",
    "Pathway",
    "PerezRuixoModel",
    "Residual",
    "default_model",
    "drugs",
    "get_model",
    "list_models",
]


@cache
def _registry() -> dict[str, PKModel]:
    models: dict[str, PKModel] = {}
    for name in list_files("models"):
        data = load(f"models/{name}")
        cls = PerezRuixoModel if data["id"] == "perez-ruixo-2021" else MammillaryModel
        models[data["id"]] = cls(data)
    return models


def list_models() -> list[PKModel]:
    """Every registered model, sorted by id."""
    return [m for _, m in sorted(_registry().items())]


def get_model(model_id: str) -> PKModel:
    """The model registered as ``model_id``."""
    registry = _registry()
    if model_id not in registry:
        raise UnknownNameError("model", model_id, registry)
    return registry[model_id]


def drugs() -> dict[str, dict[str, object]]:
    """Drugs and their analytes and default models (``data/drugs.yaml``)."""
    return dict(load("drugs.yaml")["drugs"])


def default_model(drug: str) -> PKModel:
    """The default model of ``drug`` (``racemic-ketamine``, ``esketamine``, ``s-ketamine``)."""
    known = drugs()
    if drug not in known:
        raise UnknownNameError("drug", drug, known)
    return get_model(str(known[drug]["default_model"]))
