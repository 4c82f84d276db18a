"""In-silico trials: a spec (YAML/JSON) of population, arms and endpoints; per-arm estimates with 95% intervals.

See ``docs/trials.md``. Dask is imported only when a run asks for it.
"""

from .costs import default_prices
from .results import ArmResult, Estimate, MeanCourse, TrialResult
from .runner import DEFAULT_CHUNK_SIZE, run_trial
from .spec import ArmSpec, EndpointSpec, Normal, PopulationSpec, TrialSpec, parse_spec

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ArmResult",
    "ArmSpec",
    "EndpointSpec",
    "Estimate",
    "MeanCourse",
    "Normal",
    "PopulationSpec",
    "TrialResult",
    "TrialSpec",
    "default_prices",
    "parse_spec",
    "run_trial",
]
