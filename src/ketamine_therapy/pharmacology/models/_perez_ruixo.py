"""Perez-Ruixo 2021: esketamine nasal spray, hepato-portal first pass, noresketamine.

Structure per Perez-Ruixo et al. (Clin Pharmacokinet 2021;60:501) as encoded in nlmixr2lib's
``PerezRuixo_2020_esketamine.R``: nasal depot -> central (ka_n, fraction FRn per device, later
devices x0.62); swallowed part (1 - FRn) x Fgut enters a gut depot over Dsw, then the liver (ka_sw);
oral solution: Fgut over Dpo, then the liver (ka_po). Esketamine: central, two peripherals and a
liver compartment exchanging at Qh, eliminated from the liver (kel) and metabolised to
noresketamine (kmet). Noresketamine: apparent two-compartment model (Table 3 as printed).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._linear import CompartmentGraph, InputEvent, LinearSystem
from .._typing import FloatArray
from ..exceptions import InvalidInputError
from ..population import Covariates
from ..regimen import Dose, Route
from ._base import ParameterSet, PKModel, Residual


class PerezRuixoModel(PKModel):
    """Esketamine (Spravato) population PK with noresketamine."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self._p = {k: v.value for k, v in self.published.items()}
        iiv = data["iiv"]
        self._log_normal: dict[str, float] = {k: float(v) for k, v in iiv["log_normal"].items()}
        self._logit: dict[str, float] = {k: float(v) for k, v in iiv["logit_additive"].items()}
        self.device_mg = float(data["device_mg"]["value"])
        self.device_interval_h = float(data["device_interval_min"]["value"]) / 60.0

    @property
    def analytes(self) -> tuple[str, ...]:
        return ("esketamine", "noresketamine")

    @property
    def eta_names(self) -> tuple[str, ...]:
        return (*self._log_normal, *self._logit)

    @property
    def omega(self) -> FloatArray:
        return np.diag([*self._log_normal.values(), *self._logit.values()])

    def individual_parameters(self, covariates: Covariates, eta: FloatArray) -> ParameterSet:
        p = self._p
        n = covariates.n
        eta_of = {name: eta[:, k] for k, name in enumerate(self.eta_names)}
        out: ParameterSet = {
            name: np.full(n, p[name]) for name in ("Q1", "Q2", "Vp2", "Vpn", "Q3", "Fgut", "Dsw", "Dpo")
        }
        for name in self._log_normal:
            out[name] = p[name] * np.exp(eta_of[name])
        over_60 = np.maximum(0.0, covariates.age_y - 60.0)
        out["Qh"] = (p["Qh"] - p["Qh_age_slope"] * over_60) * np.exp(eta_of["Qh"])
        out["kel"] = out["kel"] * np.where(covariates.asian, p["kel_asian_factor"], 1.0)
        out["CLn"] = out["CLn"] * np.where(covariates.asian, p["CLn_asian_factor"], 1.0)
        logit = np.log(p["FRn"] / (1.0 - p["FRn"])) + eta_of["FRn"]
        # The Japanese factor acts on the linear scale (Table 3); capped at 1 so a device never
        # delivers more than its content to the nose (uncapped, ~10% of Japanese subjects with
        # IIV would exceed 1 and get a negative swallowed input).
        japanese = np.where(covariates.japanese, p["FRn_japanese_factor"], 1.0)
        out["FRn"] = np.minimum(1.0 / (1.0 + np.exp(-logit)) * japanese, 1.0)
        return out

    def system(self, params: ParameterSet, routes: frozenset[Route]) -> LinearSystem:
        names = ["nasal", "gut_swallowed", "gut_oral", "central", "peripheral1", "peripheral2", "liver",
                 "nor_central", "nor_peripheral"]  # fmt: skip
        g = CompartmentGraph(names, params["Vc"].shape[0])
        vc = params["Vc"]
        g.flow("nasal", "central", params["ka_n"])
        g.flow("gut_swallowed", "liver", params["ka_sw"])
        g.flow("gut_oral", "liver", params["ka_po"])
        g.exchange("central", "peripheral1", params["Q1"], vc, params["Vp1"])
        g.exchange("central", "peripheral2", params["Q2"], vc, params["Vp2"])
        g.exchange("central", "liver", params["Qh"], vc, params["Vh"])
        g.loss("liver", params["kel"])
        g.flow("liver", "nor_central", params["kmet"])
        g.exchange("nor_central", "nor_peripheral", params["Q3"], params["Vcn"], params["Vpn"])
        g.loss("nor_central", params["CLn"] / params["Vcn"])
        return g.build({"esketamine": ("central", vc), "noresketamine": ("nor_central", params["Vcn"])})

    def devices(self, dose_mg: float) -> int:
        """Number of 28 mg devices in a nasal dose."""
        return round(dose_mg / self.device_mg)

    def dose_events(
        self, dose: Dose, params: ParameterSet, covariates: Covariates, system: LinearSystem
    ) -> list[InputEvent]:
        amount = dose.amount_for(covariates.weight_kg)
        if dose.route is Route.IV:
            return [InputEvent(dose.time_h, dose.duration_h, system.index("central"), amount)]
        if dose.route is Route.ORAL:
            return [
                InputEvent(
                    dose.time_h,
                    float(params["Dpo"][0]),
                    system.index("gut_oral"),
                    amount * params["Fgut"],
                )
            ]
        events: list[InputEvent] = []
        per_device = amount / self.devices(float(amount[0]))
        for k in range(self.devices(float(amount[0]))):
            t = dose.time_h + k * self.device_interval_h
            frn = params["FRn"] * (1.0 if k == 0 else self._p["FRn_later_device_factor"])
            events.append(InputEvent(t, 0.0, system.index("nasal"), per_device * frn))
            events.append(InputEvent(t, float(params["Dsw"][0]), system.index("gut_swallowed"),
                                     per_device * (1.0 - frn) * params["Fgut"]))  # fmt: skip
        return events

    def _check_dose_form(self, dose: Dose) -> None:
        if dose.route is Route.INTRANASAL:
            if dose.amount_mg is None:
                raise InvalidInputError("dose_mg", "esketamine nasal doses are given in mg", "28, 56, 84 or 112 mg")
            devices = dose.amount_mg / self.device_mg
            low, high = self.data["intranasal_dose_range_mg"]["value"]
            if abs(devices - round(devices)) > 1e-9 or not low <= dose.amount_mg <= high:
                raise InvalidInputError(
                    "dose_mg",
                    f"{dose.amount_mg:g} mg is not a whole number of {self.device_mg:g} mg devices "
                    "in the model's range",
                    f"{', '.join(str(int(x)) for x in range(int(low), int(high) + 1, int(self.device_mg)))} mg",
                )

    def dose_limit(self, dose: Dose) -> tuple[float, str, str]:
        key = {Route.IV: "iv_max_dose_mg", Route.ORAL: "oral_max_dose_mg"}.get(dose.route)
        if key is None:
            entry = self.data["intranasal_dose_range_mg"]
            return float(entry["value"][1]), "mg", str(entry["source"])
        return float(self.data[key]["value"]), "mg", str(self.data[key]["source"])

    def residual(self, analyte: str) -> Residual:
        entry = self.data["residual"]
        return Residual(str(entry["kind"]), float(entry["sd"][analyte]), str(entry["source"]))
