"""Pharmacodynamics: effect-site concentrations, NMDA-receptor occupancy, dissociation, haemodynamics."""

from .dissociation import (
    DissociationParameters,
    DissociationResult,
    dissociation,
    occupancy_to_parent_ng_ml,
    parent_analyte,
    parent_nmda_occupancy,
)
from .effect_site import effect_site_name, t_half_ke0_h, with_effect_sites
from .hemodynamics import (
    HemodynamicsParameters,
    HemodynamicsResult,
    hemodynamics,
    large_bp_rise,
    parent_nmda_load,
    session_index,
)
from .occupancy import nmda_occupancy, receptor_species, unbound_um

__all__ = [
    "DissociationParameters",
    "DissociationResult",
    "HemodynamicsParameters",
    "HemodynamicsResult",
    "dissociation",
    "effect_site_name",
    "hemodynamics",
    "large_bp_rise",
    "nmda_occupancy",
    "occupancy_to_parent_ng_ml",
    "parent_analyte",
    "parent_nmda_load",
    "parent_nmda_occupancy",
    "receptor_species",
    "session_index",
    "t_half_ke0_h",
    "unbound_um",
    "with_effect_sites",
]
