"""Model version and the sha256 of a canonical form of a request (the forecast's identity, a cache key)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Any

from .._data import load
from .contract import ForecastRequest

ENGINE_VERSION = "1"


def model_version() -> str:
    """The response model's calibration version, its posterior draws' version and the engine's version."""
    return (
        f"response-model {load('response_model.yaml')['version']}, "
        f"posterior draws {load('response_posterior.yaml')['version']}, forecast engine {ENGINE_VERSION}"
    )


def _canonical(value: Any) -> Any:
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | float):
        return repr(float(value))  # 20 and 20.0 are the same input
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    raise TypeError(f"cannot hash {type(value).__name__}")


def input_hash(request: ForecastRequest) -> str:
    """sha256 (hex) of the model version and the request, with floats by ``repr`` and keys sorted."""
    document = {"model_version": model_version(), "request": _canonical(asdict(request))}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
