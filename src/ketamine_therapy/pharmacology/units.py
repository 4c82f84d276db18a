"""Units and conversions: molar masses, salt/base, ng/mL <-> µM.

Internal units: mg, L, h; concentrations in ng/mL (= µg/L). Doses are ketamine base unless a
function says otherwise.
"""

from __future__ import annotations

from typing import TypeVar

from ._data import load
from ._typing import FloatArray
from .exceptions import UnknownNameError

T = TypeVar("T", float, FloatArray)


def molar_mass_g_per_mol(analyte: str) -> float:
    """Molar mass of an analyte (g/mol), e.g. ``ketamine`` 237.725, ``norketamine`` 223.7."""
    analytes = load("drugs.yaml")["analytes"]
    if analyte not in analytes:
        raise UnknownNameError("analyte", analyte, analytes)
    return float(analytes[analyte]["molar_mass_g_per_mol"]["value"])


def hcl_per_base_mass_factor() -> float:
    """mg of ketamine hydrochloride per mg of ketamine base (1.153, Ketalar label)."""
    return float(load("drugs.yaml")["salts"]["hcl_per_base_mass_factor"]["value"])


def base_to_hcl_mg(base_mg: T) -> T:
    """Convert a dose of ketamine base (mg) to the hydrochloride salt (mg)."""
    return base_mg * hcl_per_base_mass_factor()


def hcl_to_base_mg(hcl_mg: T) -> T:
    """Convert a dose of ketamine hydrochloride (mg) to ketamine base (mg)."""
    return hcl_mg / hcl_per_base_mass_factor()


def ng_ml_to_um(conc_ng_ml: T, analyte: str) -> T:
    """Convert a concentration in ng/mL to µM (µmol/L) for ``analyte``."""
    return conc_ng_ml / molar_mass_g_per_mol(analyte)


def um_to_ng_ml(conc_um: T, analyte: str) -> T:
    """Convert a concentration in µM (µmol/L) to ng/mL for ``analyte``."""
    return conc_um * molar_mass_g_per_mol(analyte)
