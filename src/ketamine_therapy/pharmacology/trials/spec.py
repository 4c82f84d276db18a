"""Trial specs: parse and validate a mapping (from YAML or JSON) into frozen dataclasses.

Every error is an :class:`InvalidInputError` whose ``field`` is the dotted path of the offending
value (``arms[0].drug``, ``endpoints[2].day``, ``population.n``) and whose ``allowed`` says what
would be accepted. Unknown fields are errors. The format is documented in ``docs/trials.md``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from .._typing import FloatArray
from ..exceptions import InvalidInputError
from ..models import PKModel
from ..regimen import Route
from ..response import Arm
from ..response.arms import ACTIVE_DRUGS, BACKGROUNDS, PLACEBO_DRUGS
from ..response.scales import SCALES as RESPONSE_SCALES
from .costs import PRICE_KEYS, default_prices, session_prices

DRUGS = ACTIVE_DRUGS + PLACEBO_DRUGS
SCALES = RESPONSE_SCALES  # madrs, qids-sr16 (Carmody 2006 link)
SCALE_RANGE = {"madrs": (0.0, 60.0), "qids-sr16": (0.0, 27.0)}
# Remission: MADRS <10 = <=9 (Hawley 2002, PubMed 12200208; as clinic.scales); QIDS-SR16 <=5 (STAR*D) - clinical.md
REMISSION_THRESHOLD = {"madrs": 9.0, "qids-sr16": 5.0}
RATE_KINDS = ("response", "remission")
COST_KINDS = ("cost_per_responder", "cost_per_remitter")
RELAPSE_KINDS = ("time_to_relapse", "relapse_proportion", "hazard_ratio")
ENDPOINT_KINDS = (*RATE_KINDS, "change", *RELAPSE_KINDS, *COST_KINDS)
AMONG = ("responders", "remitters")
DEFAULT_HORIZON_DAYS = 180.0
DEFAULT_OFFSET_DAYS = 1.0  # response assessed 24 h after the last dose (Murrough 2013 "study end")
DEFAULT_IV_DURATION_MIN = 40.0  # 0.5 mg/kg over 40 min (clinical.md, Andrade 2017)
MAX_DAY = 3650.0
MAX_PATIENTS = 10_000_000
BASELINE_MADRS_LIMITS = (0.0, 60.0)
WEIGHT_LIMITS_KG = (40.0, 150.0)  # sample_covariates clips to these
AGE_LIMITS_Y = (18.0, 80.0)
_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
_REQUIRED = {
    "name": "text",
    "population": "a mapping with n (patients per arm)",
    "arms": "a list of arms",
    "endpoints": "a list of endpoints",
    "n": f"a whole number 1-{MAX_PATIENTS:,}",
    "drug": ", ".join(DRUGS),
    "days": "a list of study days >= 1, e.g. [1, 3, 5] (day 1 = first dose)",
    "id": "letters, digits, _ . -",
    "kind": ", ".join(ENDPOINT_KINDS),
    "mean": "a number",
    "sd": "a number >= 0",
}

TOP_FIELDS = ("name", "description", "seed", "population", "arms", "endpoints", "prices")
POPULATION_FIELDS = ("n", "baseline_madrs", "weight_kg", "age")
NORMAL_FIELDS = ("mean", "sd")
ARM_FIELDS = (
    "name", "drug", "route", "dose_mg", "dose_mg_per_kg", "doses_mg", "duration_min", "days", "background",
    "background_start_day", "model", "price_usd",
)  # fmt: skip
ENDPOINT_FIELDS = (
    "id", "kind", "scale", "day", "threshold", "after", "offset_days", "horizon_days", "among", "reference",
)  # fmt: skip


@dataclass(frozen=True)
class Normal:
    """A normal distribution (mean, standard deviation) in the field's unit."""

    mean: float
    sd: float


@dataclass(frozen=True)
class PopulationSpec:
    """Who is enrolled: ``n`` patients per arm, baseline MADRS (points), weight (kg), age (years)."""

    n: int
    baseline_madrs: Normal = Normal(33.0, 5.0)
    weight_kg: Normal = Normal(80.0, 15.0)
    age: Normal = Normal(45.0, 12.0)


@dataclass(frozen=True)
class ArmSpec:
    """One arm: the simulated :class:`Arm` and an optional per-session price override (USD)."""

    arm: Arm
    price_usd: float | None = None

    @property
    def name(self) -> str:
        """The arm's name."""
        return self.arm.name


@dataclass(frozen=True)
class EndpointSpec:
    """One endpoint; ``day`` d is evaluated at d * 24 h after the first dose."""

    id: str
    kind: str
    scale: str = "madrs"
    day: float | None = None
    threshold: float | None = None
    after: str | float | None = None  # "last_dose" or a day d (t = d * 24 h)
    offset_days: float | None = None
    horizon_days: float | None = None
    among: str | None = None  # relapse_proportion: "responders" or "remitters" (MADRS <= threshold) at the assessment
    reference: str | None = None  # hazard_ratio: the arm the others are compared with

    @property
    def time_h(self) -> float:
        """Evaluation time (h after the first dose) of a ``day`` endpoint."""
        assert self.day is not None, "time_to_relapse endpoints have no single time"
        return self.day * 24.0

    @property
    def relapse_end_days(self) -> float:
        """Relapse follow-up end, in days after the clock (``after``): the horizon, or ``day`` for a proportion."""
        end = self.day if self.kind == "relapse_proportion" else self.horizon_days
        assert end is not None
        return end


@dataclass(frozen=True)
class TrialSpec:
    """A validated in-silico trial: population, arms, endpoints, session prices (USD)."""

    name: str
    seed: int
    population: PopulationSpec
    arms: tuple[ArmSpec, ...]
    endpoints: tuple[EndpointSpec, ...]
    prices: Mapping[str, float | None]
    description: str = ""


# -- scalar checks -----------------------------------------------------------------------------------


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _mapping(value: Any, path: str, allowed: Sequence[str], required: Sequence[str] = ()) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInputError(path or "spec", f"expected a mapping, got {type(value).__name__}", "a mapping")
    for key in value:
        if key not in allowed:
            raise InvalidInputError(_join(path, str(key)), "unknown field", ", ".join(allowed))
    for key in required:
        if value.get(key) is None:
            raise InvalidInputError(_join(path, key), "required", _REQUIRED.get(key, "a value"))
    return dict(value)


def check_number(value: Any, path: str, low: float, high: float, *, positive: bool = False) -> float:
    """``value`` as a finite float in ``low..high`` (``> low`` if ``positive``); raises naming ``path``."""
    bound = f"> {low:g} and <= {high:g}" if positive else f"{low:g}-{high:g}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(path, f"expected a number, got {value!r}", bound)
    number = float(value)
    if not math.isfinite(number) or number < low or number > high or (positive and number <= low):
        raise InvalidInputError(path, f"got {number:g}", bound)
    return number


def check_integer(value: Any, path: str, low: int, high: int) -> int:
    """``value`` as a whole number in ``low..high``; raises naming ``path``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInputError(path, f"got {value!r}", f"a whole number {low:,}-{high:,}")
    return value


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(path, f"expected a non-empty string, got {value!r}", "text")
    return value.strip()


def _choice(value: Any, path: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise InvalidInputError(path, f"unknown value {value!r}", ", ".join(choices))
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise InvalidInputError(path, f"expected a non-empty list, got {value!r}", "a list of values")
    return value


def prefixed(path: str, exc: InvalidInputError, field: str | None = None) -> InvalidInputError:
    """``exc`` with its field (or ``field``) placed under ``path``: ``dose_mg`` -> ``arms[0].dose_mg``."""
    text = str(exc)[len(exc.field) + 2 :]
    if exc.allowed:
        text = text.removesuffix(f" (allowed: {exc.allowed})")
    return InvalidInputError(_join(path, field or exc.field), text, exc.allowed)


# -- sections ----------------------------------------------------------------------------------------


def _normal(value: Any, path: str, default: Normal, limits: tuple[float, float]) -> Normal:
    if value is None:
        return default
    data = _mapping(value, path, NORMAL_FIELDS, NORMAL_FIELDS)
    mean = check_number(data["mean"], _join(path, "mean"), *limits)
    sd = check_number(data["sd"], _join(path, "sd"), 0.0, limits[1] - limits[0])
    return Normal(mean, sd)


def _population(value: Any) -> PopulationSpec:
    data = _mapping(value, "population", POPULATION_FIELDS, ("n",))
    default = PopulationSpec(1)
    return PopulationSpec(
        n=check_integer(data["n"], "population.n", 1, MAX_PATIENTS),
        baseline_madrs=_normal(data.get("baseline_madrs"), "population.baseline_madrs", default.baseline_madrs,
                               BASELINE_MADRS_LIMITS),
        weight_kg=_normal(data.get("weight_kg"), "population.weight_kg", default.weight_kg, WEIGHT_LIMITS_KG),
        age=_normal(data.get("age"), "population.age", default.age, AGE_LIMITS_Y),
    )  # fmt: skip


def _days(value: Any, path: str) -> tuple[float, ...]:
    days = tuple(check_number(d, f"{path}[{k}]", 1.0, MAX_DAY) for k, d in enumerate(_list(value, path)))
    if any(b <= a for a, b in pairwise(days)):
        raise InvalidInputError(path, f"got {list(days)}", "strictly increasing study days >= 1 (day 1 = first dose)")
    return days


def check_doses(arm: Arm, model: PKModel, path: str, weight_kg: FloatArray) -> None:
    """``arm``'s route and doses are within ``model``'s for patients weighing ``weight_kg``; errors under ``path``."""
    if arm.route not in model.routes:
        raise InvalidInputError(
            _join(path, "route"), f"{arm.route} is not modelled for {model.drug} by {model.id}",
            ", ".join(r.value for r in model.routes),
        )  # fmt: skip
    positions = [k for k, amount in enumerate(arm.session_amounts()) if amount > 0]  # placebo sessions skipped
    for k, dose in zip(positions, arm.regimen().doses, strict=True):
        try:
            model.check_dose(dose, weight_kg)
        except InvalidInputError as exc:
            raise prefixed(path, exc, f"doses_mg[{k}]" if arm.doses_mg is not None else None) from None


def _arm(value: Any, path: str, population: PopulationSpec) -> ArmSpec:
    data = _mapping(value, path, ARM_FIELDS, ("name", "drug", "days"))
    name = _string(data["name"], _join(path, "name"))
    drug = _choice(data["drug"], _join(path, "drug"), DRUGS)
    days = _days(data["days"], _join(path, "days"))
    route: Route | None = None
    if data.get("route") is not None:
        route = Route(_choice(data["route"], _join(path, "route"), tuple(r.value for r in Route)))
    dose_mg = data.get("dose_mg")
    per_kg = data.get("dose_mg_per_kg")
    doses = data.get("doses_mg")
    if dose_mg is not None:
        dose_mg = check_number(dose_mg, _join(path, "dose_mg"), 0.0, 1e4, positive=True)
    if per_kg is not None:
        per_kg = check_number(per_kg, _join(path, "dose_mg_per_kg"), 0.0, 100.0, positive=True)
    if doses is not None:
        doses_path = _join(path, "doses_mg")
        listed = _list(doses, doses_path)
        doses = tuple(check_number(d, f"{doses_path}[{k}]", 0.0, 1e4) for k, d in enumerate(listed))  # 0: placebo
        if len(doses) != len(days):
            raise InvalidInputError(doses_path, f"has {len(doses)} doses for {len(days)} days", f"{len(days)} doses")
    given = [k for k, v in (("dose_mg", dose_mg), ("dose_mg_per_kg", per_kg), ("doses_mg", doses)) if v is not None]
    if drug in ACTIVE_DRUGS and len(given) != 1:
        raise InvalidInputError(_join(path, "dose_mg"), f"got {given or 'none'}",
                                "exactly one of dose_mg, dose_mg_per_kg, doses_mg")  # fmt: skip
    if drug in ACTIVE_DRUGS and route is None:
        route = Route.INTRANASAL if drug == "esketamine" else Route.IV
    duration = data.get("duration_min")
    if duration is None:
        duration = DEFAULT_IV_DURATION_MIN if route is Route.IV and drug in ACTIVE_DRUGS else 0.0
    else:
        duration = check_number(duration, _join(path, "duration_min"), 0.0, 24 * 60.0)
        if duration > 0 and route is not Route.IV:
            message = f"only IV doses are infused (route: {route})"
            raise InvalidInputError(_join(path, "duration_min"), message, "0 or omit")
    background = data.get("background")
    if background is not None:
        background = _choice(background, _join(path, "background"), BACKGROUNDS)
    start = data.get("background_start_day", 1.0)
    start = check_number(start, _join(path, "background_start_day"), 1.0, MAX_DAY)
    if data.get("background_start_day") is not None and background is None:
        raise InvalidInputError(_join(path, "background_start_day"), "given without a background", "omit")
    model_id = data.get("model")
    if model_id is not None:
        model_id = _string(model_id, _join(path, "model"))
        if drug not in ACTIVE_DRUGS:
            raise InvalidInputError(_join(path, "model"), f"{drug} arms have no PK model", "omit")
    price = data.get("price_usd")
    if price is not None:
        price = check_number(price, _join(path, "price_usd"), 0.0, 1e6)
    try:
        arm = Arm(
            name=name, drug=drug, days=days, route=route, dose_mg=dose_mg, dose_mg_per_kg=per_kg, doses_mg=doses,
            duration_min=duration, background=background, background_start_day=start, model=model_id,
        )  # fmt: skip
        model = arm.pk_model() if arm.is_active else None
    except InvalidInputError as exc:
        raise prefixed(path, exc) from None
    if model is not None:  # at the mean weight here; the runner checks every sampled patient
        check_doses(arm, model, path, np.array([population.weight_kg.mean]))
    return ArmSpec(arm, price)


def _endpoint(value: Any, path: str) -> EndpointSpec:
    data = _mapping(value, path, ENDPOINT_FIELDS, ("id", "kind"))
    endpoint_id = _string(data["id"], _join(path, "id"))
    if not _ID.match(endpoint_id):
        raise InvalidInputError(_join(path, "id"), f"got {endpoint_id!r}", "letters, digits, _ . -")
    kind = _choice(data["kind"], _join(path, "kind"), ENDPOINT_KINDS)
    scale = _choice(data.get("scale", "madrs"), _join(path, "scale"), SCALES)
    relapse = kind in RELAPSE_KINDS
    takes = {
        "day": kind not in ("time_to_relapse", "hazard_ratio"),
        "threshold": kind in ("remission", "cost_per_remitter") or (
            kind == "relapse_proportion" and data.get("among") == "remitters"),
        "after": relapse,
        "offset_days": relapse,
        "horizon_days": kind in ("time_to_relapse", "hazard_ratio"),
        "among": kind == "relapse_proportion",
        "reference": kind == "hazard_ratio",
    }  # fmt: skip
    for key, applies in takes.items():
        if not applies and data.get(key) is not None:
            raise InvalidInputError(_join(path, key), f"does not apply to kind {kind}", "omit")
    day = threshold = offset = horizon = None
    after: str | float | None = None
    if takes["day"]:
        if data.get("day") is None:
            raise InvalidInputError(_join(path, "day"), "required", f"> 0 and <= {MAX_DAY:g} (day d = d * 24 h)")
        day = check_number(data["day"], _join(path, "day"), 0.0, MAX_DAY, positive=True)
    if takes["threshold"]:
        threshold = check_number(data.get("threshold", REMISSION_THRESHOLD[scale]), _join(path, "threshold"),
                            *SCALE_RANGE[scale])  # fmt: skip
    if takes["after"]:
        raw = data.get("after", "last_dose")
        if raw == "last_dose":
            after = raw
        elif isinstance(raw, bool) or not isinstance(raw, int | float):
            allowed = f"last_dose, or a day > 0 and <= {MAX_DAY:g} (t = day * 24 h)"
            raise InvalidInputError(_join(path, "after"), f"unknown value {raw!r}", allowed)
        else:
            after = check_number(raw, _join(path, "after"), 0.0, MAX_DAY, positive=True)
        offset = check_number(data.get("offset_days", DEFAULT_OFFSET_DAYS), _join(path, "offset_days"), 0.0, MAX_DAY)
    if takes["horizon_days"]:
        horizon_days = data.get("horizon_days", DEFAULT_HORIZON_DAYS)
        horizon = check_number(horizon_days, _join(path, "horizon_days"), 0.0, MAX_DAY, positive=True)
    end_field, end = ("day", day) if kind == "relapse_proportion" else ("horizon_days", horizon)
    if relapse and end is not None and offset is not None and end <= offset:
        raise InvalidInputError(_join(path, end_field), f"{end:g} is not after offset_days {offset:g}",
                                f"> {offset:g}")  # fmt: skip
    among = None
    if takes["among"]:
        among = _choice(data.get("among", "responders"), _join(path, "among"), AMONG)
    reference = None
    if takes["reference"]:
        if data.get("reference") is None:
            raise InvalidInputError(_join(path, "reference"), "required", "the name of the arm compared against")
        reference = _string(data["reference"], _join(path, "reference"))
    return EndpointSpec(endpoint_id, kind, scale, day, threshold, after, offset, horizon, among, reference)


def _prices(value: Any) -> dict[str, float | None]:
    prices = default_prices()
    if value is None:
        return prices
    data = _mapping(value, "prices", PRICE_KEYS)
    for key, price in data.items():
        prices[key] = None if price is None else check_number(price, f"prices.{key}", 0.0, 1e6)
    return prices


def parse_spec(data: Any) -> TrialSpec:
    """Validate a trial spec mapping (see ``docs/trials.md``) into a :class:`TrialSpec`."""
    top = _mapping(data, "", TOP_FIELDS, ("name", "population", "arms", "endpoints"))
    name = _string(top["name"], "name")
    description = "" if top.get("description") is None else _string(top["description"], "description")
    seed = check_integer(top.get("seed", 0), "seed", 0, 2**63 - 1)
    population = _population(top["population"])
    arms = tuple(_arm(a, f"arms[{i}]", population) for i, a in enumerate(_list(top["arms"], "arms")))
    for i, arm in enumerate(arms):
        if arm.name in [a.name for a in arms[:i]]:
            raise InvalidInputError(f"arms[{i}].name", f"duplicate arm name {arm.name!r}", "unique names")
    endpoints = tuple(_endpoint(e, f"endpoints[{i}]") for i, e in enumerate(_list(top["endpoints"], "endpoints")))
    for i, endpoint in enumerate(endpoints):
        if endpoint.id in [e.id for e in endpoints[:i]]:
            raise InvalidInputError(f"endpoints[{i}].id", f"duplicate endpoint id {endpoint.id!r}", "unique ids")
    names = [a.name for a in arms]
    for i, endpoint in enumerate(endpoints):
        if endpoint.reference is not None and endpoint.reference not in names:
            raise InvalidInputError(
                f"endpoints[{i}].reference", f"unknown arm {endpoint.reference!r}", ", ".join(names)
            )
    prices = _prices(top.get("prices"))
    if any(e.kind in COST_KINDS for e in endpoints):
        session_prices([(a.arm, a.price_usd) for a in arms], prices)  # raises if a needed price is missing
    return TrialSpec(name, seed, population, arms, endpoints, prices, description)
