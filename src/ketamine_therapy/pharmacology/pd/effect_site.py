"""Effect-site (biophase) concentrations, added exactly to the linear PK system.

dCe/dt = ke0 (Cp - Ce) is linear, so each observed analyte gets one more compartment whose
"amount" is Ce in mg/L: d(Ce)/dt = (ke0 / V) x_central - ke0 Ce. The exact solver then returns
Ce alongside Cp, with no interpolation or extra integration error.
"""

from __future__ import annotations

import numpy as np

from .._data import load
from .._linear import LinearSystem


def t_half_ke0_h() -> float:
    """Equilibration half-life of the effect site (h), from ``data/pd.yaml``."""
    return float(load("pd.yaml")["effect_site"]["t_half_ke0_min"]["value"]) / 60.0


def effect_site_name(analyte: str) -> str:
    """Name of the effect-site output of ``analyte``."""
    return f"{analyte}_effect"


def with_effect_sites(system: LinearSystem, t_half_h: float | None = None) -> LinearSystem:
    """``system`` with an effect compartment for every observed analyte (outputs ``<analyte>_effect``)."""
    ke0 = np.log(2.0) / (t_half_h if t_half_h is not None else t_half_ke0_h())
    n_subjects, n, _ = system.rate_matrix.shape
    k = len(system.observed)
    matrix = np.zeros((n_subjects, n + k, n + k))
    matrix[:, :n, :n] = system.rate_matrix
    observed = dict(system.observed)
    names = list(system.compartments)
    for i, (analyte, (cmt, volume)) in enumerate(system.observed.items()):
        j = n + i
        matrix[:, j, cmt] = ke0 / volume
        matrix[:, j, j] = -ke0
        names.append(f"effect_{analyte}")
        observed[effect_site_name(analyte)] = (j, np.ones(n_subjects))
    return LinearSystem(tuple(names), matrix, observed)
