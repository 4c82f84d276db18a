"""Population parameters of the response model, read from the versioned ``data/response_model.yaml``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .._data import load

N_RANDOM_EFFECTS = 4  # ketamine Emax, plasticity decay, non-specific response, background antidepressant


@dataclass(frozen=True)
class ResponseParameters:
    """Population parameters (fractions are of the baseline MADRS; rates per hour unless named)."""

    occupancy50: float  # effect-site NMDA occupancy giving half-maximal plasticity drive
    hill: float  # steepness of the drive
    k_on_per_h: float  # plasticity build-up rate at full drive
    emax_logit_mean: float  # ketamine effect: logit of the maximal fractional MADRS reduction
    emax_logit_sd: float
    k_off_log_mean: float  # plasticity decay: log of the rate (1/h)
    k_off_log_sd: float
    expectancy_acute: float  # transient fractional reduction after each session (any arm)
    expectancy_half_life_h: float
    nonspecific_logit_mean: float  # sustained non-specific (placebo) reduction while in a trial
    nonspecific_logit_sd: float
    nonspecific_onset_days: float
    background_logit_mean: float  # a newly started oral antidepressant (esketamine trials, every arm)
    background_logit_sd: float
    background_onset_days: float

    def as_dict(self) -> dict[str, float]:
        """Parameters by name."""
        return asdict(self)

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> ResponseParameters:
        """Build from a mapping with one entry per field."""
        return cls(**{f.name: float(values[f.name]) for f in fields(cls)})


def load_parameters() -> ResponseParameters:
    """The calibrated parameters shipped with the package."""
    return ResponseParameters.from_mapping(load("response_model.yaml")["parameters"])
