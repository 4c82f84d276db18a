"""Express simulated MADRS on other scales where a published link exists (``data/scale_links.yaml``)."""

from __future__ import annotations

import numpy as np

from .._data import load
from .._typing import FloatArray
from ..exceptions import InvalidInputError

SCALES = ("madrs", "qids-sr16")


def from_madrs(madrs: FloatArray, scale: str) -> FloatArray:
    """``madrs`` (0-60) on ``scale``: ``madrs`` itself or ``qids-sr16`` (Carmody 2006 linking)."""
    if scale == "madrs":
        return np.asarray(madrs, dtype=np.float64)
    if scale != "qids-sr16":
        raise InvalidInputError("scale", f"no validated link from MADRS to {scale!r}", ", ".join(SCALES))
    link = load("scale_links.yaml")["qids-sr16"]
    slope = float(link["qids_sd"]["value"]) / float(link["madrs_sd"]["value"])
    qids = float(link["qids_mean"]["value"]) + slope * (np.asarray(madrs) - float(link["madrs_mean"]["value"]))
    low, high = link["range"]
    return np.asarray(np.clip(qids, low, high), dtype=np.float64)
