"""Pharmacology core: exact, vectorised PK of ketamine, esketamine and their metabolites.

Numbers only (numpy/scipy/numba). Units: mg, L, h; concentrations ng/mL.

>>> import numpy as np
>>> from ketamine_therapy.pharmacology import Dose, Regimen, Route, simulate, summary
>>> spravato = Regimen((Dose(0.0, Route.INTRANASAL, amount_mg=56.0),))
>>> result = simulate(spravato, np.linspace(0, 24, 289), drug="esketamine")
>>> result.analytes
('esketamine', 'noresketamine')
"""

from . import summary, units
from .exceptions import InvalidInputError, ModelDataError, PharmacologyError, UnknownNameError
from .models import PKModel, default_model, drugs, get_model, list_models
from .population import Covariates, sample_covariates
from .regimen import Dose, Regimen, Route, iv_acute_series, parse_route, spravato_trd_schedule
from .simulate import SimulationResult, simulate, simulate_chunks
from .solver import SubjectStatus, solve

__all__ = [
    "Covariates",
    "Dose",
    "InvalidInputError",
    "ModelDataError",
    "PKModel",
    "PharmacologyError",
    "Regimen",
    "Route",
    "SimulationResult",
    "SubjectStatus",
    "UnknownNameError",
    "default_model",
    "drugs",
    "get_model",
    "iv_acute_series",
    "list_models",
    "parse_route",
    "sample_covariates",
    "simulate",
    "simulate_chunks",
    "solve",
    "spravato_trd_schedule",
    "summary",
    "units",
]
