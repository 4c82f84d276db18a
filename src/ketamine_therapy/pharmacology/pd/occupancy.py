"""NMDA-receptor occupancy from unbound concentrations of every active species.

Competitive binding at one site (Gaddum): occupancy = sum(Cu_i/Ki_i) / (1 + sum(Cu_i/Ki_i)),
with Cu_i the unbound concentration (µM) of species i (S-/R-ketamine, S-/R-norketamine) and Ki_i
from Ebert 1997. Racemic analytes split 50:50 into enantiomers.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._data import load
from .._typing import FloatArray
from ..exceptions import UnknownNameError
from ..units import molar_mass_g_per_mol


def receptor_species(drug: str) -> dict[str, dict[str, float]]:
    """For ``drug``: plasma analyte -> {receptor species: fraction of that analyte}."""
    species = load("pd.yaml")["species"]
    if drug not in species:
        raise UnknownNameError("drug", drug, species)
    return {a: {s: float(f) for s, f in parts.items()} for a, parts in species[drug].items()}


def unbound_um(conc_ng_ml: FloatArray, analyte: str, fraction: float = 1.0) -> FloatArray:
    """Unbound concentration in µM of ``fraction`` of an analyte given in ng/mL."""
    fu = float(load("pd.yaml")["unbound_fraction"]["value"])
    return np.asarray(conc_ng_ml * fraction * fu / molar_mass_g_per_mol(analyte))


def nmda_occupancy(conc_ng_ml: Mapping[str, FloatArray], drug: str) -> FloatArray:
    """Fraction of NMDA receptors occupied (0-1), same shape as each concentration array.

    ``conc_ng_ml`` maps plasma analyte names (``ketamine``, ``norketamine``, ``esketamine``,
    ``noresketamine``) to concentrations; pass effect-site concentrations for the biophase.
    """
    ki = {name: float(entry["value"]) for name, entry in load("pd.yaml")["nmda_ki_um"].items()}
    load_ratio: FloatArray | None = None
    for analyte, parts in receptor_species(drug).items():
        if analyte not in conc_ng_ml:
            raise UnknownNameError("analyte", analyte, conc_ng_ml)
        for species, fraction in parts.items():
            term = unbound_um(np.asarray(conc_ng_ml[analyte], dtype=np.float64), analyte, fraction) / ki[species]
            load_ratio = term if load_ratio is None else load_ratio + term
    assert load_ratio is not None
    return np.asarray(load_ratio / (1.0 + load_ratio))
