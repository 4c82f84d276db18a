"""Mammillary parent (two or three compartments) with a two-compartment metabolite.

Used for racemic ketamine (Clements, Domino, Hijazi, Herd, Hornik + racemic norketamine) and for
S-ketamine (Fanta 2015 + Otto 2021 S-norketamine). A fraction ``fm`` of the parent's clearance
forms the metabolite. Extravascular doses enter a depot per route after a lag time; the depot
empties at ``ka``: a fraction ``F`` reaches the central compartment, a fraction ``g`` forms
metabolite before reaching the circulation (first pass), the rest leaves. ``g`` is solved from the
published metabolite/parent AUC ratio (to infinity or over a window); ``ka`` from the published Tmax, or,
where the route also has a
published Cmax, ``ka`` from the Cmax and the lag from the Tmax (docs/models/pharmacokinetics.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np

from .._data import load
from .._linear import CompartmentGraph, InputEvent, LinearSystem
from .._typing import FloatArray
from ..exceptions import ModelDataError
from ..population import Covariates
from ..regimen import Dose, Route
from ..solver import solve
from ._base import ParameterSet, PKModel, Residual

REFERENCE_WEIGHT_KG = 70.0


@dataclass(frozen=True)
class Pathway:
    """One absorption pathway of a route: a depot and where what leaves it goes."""

    depot: str
    fraction_of_dose: float
    ka_per_h: float
    to_central: float  # F of this pathway
    to_metabolite: float  # presystemic metabolite formation, g
    lag_h: float = 0.0  # absorption lag time


def _file_id(name: str) -> str:
    return name.replace("-", "_") + ".yaml"


def _resolve(entry: Any, folder: str) -> dict[str, Any]:
    """An inline mapping, or the id of a shared file in ``data/<folder>``."""
    if isinstance(entry, str):
        return load(f"{folder}/{_file_id(entry)}")
    if not isinstance(entry, dict):
        raise ModelDataError(f"expected a mapping or a file id in {folder}, got {entry!r}")
    return entry


class MammillaryModel(PKModel):
    """Parent + metabolite mammillary model with route depots (see module docstring)."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.parameterisation: str = data["parameterisation"]
        self.metabolite = _resolve(data["metabolite"], "metabolites")
        self.iiv = _resolve(data["iiv"], "iiv")
        residual = data["residual"]
        self.parent_residual: dict[str, Any] = (
            load(f"iiv/{_file_id(residual)}")["residual"] if isinstance(residual, str) else residual
        )
        p = {k: v.value for k, v in self.published.items()}
        self._p = p
        self._m = {k: float(v["value"]) for k, v in self.metabolite["parameters"].items()}
        self._parent_analyte = "ketamine" if self.drug == "racemic-ketamine" else "esketamine"
        self._metabolite_analyte: str = self.metabolite["analyte"]
        if self.drug == "racemic-ketamine":
            self._route_data: dict[str, Any] = load("routes/racemic_ketamine.yaml")["routes"]
        else:
            self._route_data = {"oral": data["oral"]} if "oral" in data else {}

    # -- structure ---------------------------------------------------------------------------
    @property
    def analytes(self) -> tuple[str, ...]:
        return (self._parent_analyte, self._metabolite_analyte)

    @cached_property
    def _eta_blocks(self) -> list[tuple[str, list[str], FloatArray]]:
        blocks = [("parent", list(self.iiv["parameters"]), np.array(self.iiv["omega"], dtype=float))]
        m_iiv = self.metabolite.get("iiv")
        if m_iiv:
            blocks.append(("metabolite", list(m_iiv["parameters"]), np.array(m_iiv["omega"], dtype=float)))
        return blocks

    @property
    def eta_names(self) -> tuple[str, ...]:
        return tuple(f"{scope}.{name}" for scope, names, _ in self._eta_blocks for name in names)

    @property
    def omega(self) -> FloatArray:
        size = len(self.eta_names)
        omega = np.zeros((size, size))
        i = 0
        for _, names, block in self._eta_blocks:
            omega[i : i + len(names), i : i + len(names)] = block
            i += len(names)
        return omega

    def _scale(self, allometry: dict[str, Any], name: str, weight: FloatArray) -> FloatArray:
        exponent = float(allometry.get(name, 0.0))
        reference = float(allometry.get("reference_weight_kg", REFERENCE_WEIGHT_KG))
        return np.asarray((weight / reference) ** exponent)

    def individual_parameters(self, covariates: Covariates, eta: FloatArray) -> ParameterSet:
        w = covariates.weight_kg
        p = self._p
        out: ParameterSet = {}
        if self.parameterisation == "micro_per_kg":
            v1 = p["V1"] * w
            out["V1"] = v1
            out["CL"] = p["k10"] * 60.0 * v1
            out["Q"] = p["k12"] * 60.0 * v1
            out["V2"] = out["Q"] / (p["k21"] * 60.0)
            if "k13" in p:
                out["Q3"] = p["k13"] * 60.0 * v1
                out["V3"] = out["Q3"] / (p["k31"] * 60.0)
        elif self.parameterisation == "clearance_allometric":
            allometry = self.data["allometry"]
            for name in ("V1", "CL", "V2", "Q", "V3", "Q3"):
                if name in p:
                    out[name] = p[name] * self._scale(allometry, name, w)
        else:
            raise ModelDataError(f"{self.id}: unknown parameterisation {self.parameterisation!r}")
        m = self._m
        m_allo = self.metabolite["allometry"]
        out["fm"] = np.full(w.shape, m["fm"])
        for name in ("V", "CL", "Vp", "Q"):
            out[f"met_{name}"] = m[name] * self._scale(m_allo, name, w)
        for k, full in enumerate(self.eta_names):
            scope, name = full.split(".")
            key = name if scope == "parent" else f"met_{name}"
            out[key] = out[key] * np.exp(eta[:, k])
        return out

    def _graph(self, params: ParameterSet, depots: list[str]) -> CompartmentGraph:
        n = params["V1"].shape[0]
        names = ["central", "peripheral1"]
        if "V3" in params:
            names.append("peripheral2")
        names += ["met_central", "met_peripheral", *depots]
        g = CompartmentGraph(names, n)
        v1 = params["V1"]
        g.exchange("central", "peripheral1", params["Q"], v1, params["V2"])
        if "V3" in params:
            g.exchange("central", "peripheral2", params["Q3"], v1, params["V3"])
        k10 = params["CL"] / v1
        g.flow("central", "met_central", params["fm"] * k10)
        g.loss("central", (1.0 - params["fm"]) * k10)
        vm = params["met_V"]
        g.exchange("met_central", "met_peripheral", params["met_Q"], vm, params["met_Vp"])
        g.loss("met_central", params["met_CL"] / vm)
        return g

    def _pathways(self, routes: frozenset[Route]) -> list[Pathway]:
        seen: dict[str, Pathway] = {}
        for route in sorted(routes):
            for pathway in self.absorption(route):
                seen.setdefault(pathway.depot, pathway)
        return list(seen.values())

    def system(self, params: ParameterSet, routes: frozenset[Route]) -> LinearSystem:
        return self._system_with(params, self._pathways(routes))

    def _system_with(self, params: ParameterSet, pathways: list[Pathway]) -> LinearSystem:
        g = self._graph(params, [p.depot for p in pathways])
        n = params["V1"].shape[0]
        for p in pathways:
            g.flow(p.depot, "central", np.full(n, p.ka_per_h * p.to_central))
            g.flow(p.depot, "met_central", np.full(n, p.ka_per_h * p.to_metabolite))
            g.loss(p.depot, np.full(n, p.ka_per_h * (1.0 - p.to_central - p.to_metabolite)))
        return g.build(
            {
                self._parent_analyte: ("central", params["V1"]),
                self._metabolite_analyte: ("met_central", params["met_V"]),
            }
        )

    def dose_events(
        self, dose: Dose, params: ParameterSet, covariates: Covariates, system: LinearSystem
    ) -> list[InputEvent]:
        amount = dose.amount_for(covariates.weight_kg)
        if dose.route is Route.IV:
            return [InputEvent(dose.time_h, dose.duration_h, system.index("central"), amount)]
        return [
            InputEvent(dose.time_h + p.lag_h, 0.0, system.index(p.depot), amount * p.fraction_of_dose)
            for p in self.absorption(dose.route)
        ]

    # -- routes ------------------------------------------------------------------------------
    def _typical_clearances(self) -> tuple[float, float, float]:
        params = self.typical_parameters(Covariates.typical(weight_kg=REFERENCE_WEIGHT_KG))
        return float(params["CL"][0]), float(params["met_CL"][0]), float(params["fm"][0])

    def _typical_curves(self, pathway: Pathway, times: FloatArray) -> FloatArray:
        """Parent and metabolite concentrations ``(2, n_times)`` of the typical 70 kg subject, 1 mg into ``pathway``."""
        params = self.typical_parameters(Covariates.typical(weight_kg=REFERENCE_WEIGHT_KG))
        system = self._system_with(params, [pathway])
        event = InputEvent(pathway.lag_h, 0.0, system.index(pathway.depot), np.ones(1))
        conc, _ = solve(system, [event], times)
        return np.asarray(conc[:, 0, :])

    def _presystemic_fraction(self, route: str, pathway: Pathway) -> float:
        """g from the published metabolite/parent AUC ratio R of ``route`` (0 if none is published).

        AUC to infinity: R = (CL/CLm) (fm F + g) / F in closed form. AUC over a window (``window_h``): the
        metabolite AUC is linear in g, so g = (R AUC_parent - AUC_met(g=0)) / AUC_met(per unit g).
        """
        entry = self._route_data[route].get("nk_ratio")
        if not entry:
            return 0.0
        ratio, f = float(entry["value"]), pathway.to_central
        if "window_h" in entry:
            times = np.arange(0.0, float(entry["window_h"]) + 1e-9, 1.0 / 360.0)
            base = self._typical_curves(replace(pathway, to_metabolite=0.0), times)
            unit = self._typical_curves(replace(pathway, to_central=0.0, to_metabolite=1.0), times)
            parent, metabolite, per_g = (float(np.trapezoid(c, times)) for c in (base[0], base[1], unit[1]))
            g = (ratio * parent - metabolite) / per_g
        else:
            cl, cl_m, fm = self._typical_clearances()
            g = f * (ratio * cl_m / cl - fm)
        if g < 0 or f + g > 1:
            raise ModelDataError(f"{self.id}: {route} metabolite ratio needs g={g:.3f}, outside 0..1-F")
        return g

    def _typical_peak(self, pathway: Pathway, times: FloatArray) -> tuple[float, float]:
        """``(Cmax per mg, Tmax)`` of the typical 70 kg subject after one dose into ``pathway``."""
        parent = self._typical_curves(pathway, times)[0]
        peak = int(np.argmax(parent))
        return float(parent[peak]), float(times[peak])

    def _fit_absorption(self, route: Route, make: Callable[[float, float], Pathway]) -> Pathway:
        """The pathway whose typical 70 kg subject peaks at the published Tmax (and Cmax, if published).

        Tmax only: ``ka`` by root finding, no lag. Tmax and Cmax: ``ka`` so the peak per mg matches the
        published Cmax per mg (the peak height does not depend on the lag), then lag = Tmax - time of
        that peak, to the whole minute (study sampling times are in minutes). A Cmax no first-order
        absorption can reach by Tmax is a data error.
        """
        from scipy.optimize import brentq  # on first use: scipy.optimize is slow to import

        data = self._route_data[route.value]
        tmax = float(data["tmax_h"]["value"])
        times = np.arange(0.0, 4.0 * tmax + 2.0, 1.0 / 360.0)
        cmax_entry = data.get("cmax")
        if not cmax_entry:

            def tmax_gap(log_ka: float) -> float:
                return self._typical_peak(make(float(np.exp(log_ka)), 0.0), times)[1] - tmax

            return make(float(np.exp(brentq(tmax_gap, np.log(0.05), np.log(500.0), xtol=1e-4))), 0.0)
        target = float(cmax_entry["value"]) / float(cmax_entry["dose_mg"])

        def cmax_gap(log_ka: float) -> float:
            return self._typical_peak(make(float(np.exp(log_ka)), 0.0), times)[0] / target - 1.0

        low, high = np.log(0.05), np.log(500.0)
        if cmax_gap(high) < 0 or cmax_gap(low) > 0:
            raise ModelDataError(f"{self.id}: {route.value} Cmax {cmax_entry['value']} ng/mL is out of reach with F")
        ka = float(np.exp(brentq(cmax_gap, low, high, xtol=1e-6)))
        lag_min = round((tmax - self._typical_peak(make(ka, 0.0), times)[1]) * 60.0)
        if lag_min < 0:
            raise ModelDataError(f"{self.id}: {route.value} Cmax needs a peak later than the published Tmax")
        return make(ka, lag_min / 60.0)

    @cached_property
    def _absorption_cache(self) -> dict[Route, list[Pathway]]:
        return {}

    def absorption(self, route: Route) -> list[Pathway]:
        """Absorption pathways of ``route`` (derived once per model, then cached)."""
        if route is Route.IV:
            return []
        if route in self._absorption_cache:
            return self._absorption_cache[route]
        if route.value not in self._route_data:
            raise ModelDataError(f"{self.id}: no absorption data for {route.value}")
        f = float(self._route_data[route.value]["F"]["value"])
        depot = f"depot_{route.value}"
        # the parent curve does not depend on g: fit the absorption first, then g
        pathway = self._fit_absorption(route, lambda ka, lag: Pathway(depot, 1.0, ka, f, 0.0, lag))
        pathways = [replace(pathway, to_metabolite=self._presystemic_fraction(route.value, pathway))]
        self._absorption_cache[route] = pathways
        return pathways

    def dose_limit(self, dose: Dose) -> tuple[float, str, str]:
        if dose.route is Route.IV:
            entry = self.data["iv_max_dose_mg_per_kg"]
            return float(entry["value"]), "mg/kg", str(entry["source"])
        data = self._route_data[dose.route.value]
        if "max_dose_mg_per_kg" in data:
            return (
                float(data["max_dose_mg_per_kg"]["value"]),
                "mg/kg",
                str(data["max_dose_mg_per_kg"]["source"]),
            )
        return float(data["max_dose_mg"]["value"]), "mg", str(data["max_dose_mg"]["source"])

    def residual(self, analyte: str) -> Residual:
        entry = self.parent_residual if analyte == self._parent_analyte else self.metabolite["residual"]
        return Residual(str(entry["kind"]), float(entry["sd"]), str(entry["source"]))
