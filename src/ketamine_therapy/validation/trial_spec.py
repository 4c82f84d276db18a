"""Trial specs at the edge (``validation`` may use pydantic; ``services`` may not): read YAML or JSON safely, check
the document's shape with a pydantic model whose JSON Schema is published (``ketamine-therapy trial schema``,
``docs/trial-spec.schema.json``), then hand it to the domain's checks
(:func:`ketamine_therapy.pharmacology.trials.parse_spec`: ranges, doses, model limits).

Reading refuses what makes a small text large or deep: YAML anchors and aliases (a ~450-byte spec of nested
aliases expands ninefold per level) and nesting deeper than :data:`MAX_DEPTH` (a 20,000-level spec would exhaust
the parser's recursion). Errors name the field and never repeat more than :data:`MAX_ECHO` characters of input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from ..pharmacology.exceptions import InvalidInputError
from ..pharmacology.regimen import Route
from ..pharmacology.response.arms import BACKGROUNDS
from ..pharmacology.trials import TrialSpec, parse_spec
from ..pharmacology.trials.costs import PRICE_KEYS
from ..pharmacology.trials.spec import DRUGS, ENDPOINT_KINDS, SCALES

MAX_SPEC_CHARS = 100_000
MAX_DEPTH = 16
"""Deepest nesting of mappings and lists a spec may have (the format needs 4)."""
MAX_ECHO = 200
"""Characters of a value or message an error may repeat."""
SpecFormat = Literal["yaml", "json"]
SCHEMA_HINT = "the trial spec's JSON Schema (ketamine-therapy trial schema; docs/trial-spec.schema.json)"
UNION_TAGS = frozenset({"float", "int", "literal['last_dose']"})
"""Names pydantic puts in an error's location for the member of a union (not fields)."""
SCHEMA_ID = "https://ketamine-therapy.invalid/schemas/trial-spec.json"


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_ECHO else text[:MAX_ECHO] + f"... ({len(text):,} characters)"


def _in(choices: tuple[str, ...]) -> AfterValidator:
    """A check that a text is one of ``choices`` (the domain's tuple: a new choice there is one here too)."""

    def check(value: str) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return value

    return AfterValidator(check)


def _enum(choices: tuple[str, ...]) -> Any:
    return Field(json_schema_extra={"enum": list(choices)})


ROUTES = tuple(r.value for r in Route)
Drug = Annotated[str, _in(DRUGS), _enum(DRUGS)]
RouteName = Annotated[str, _in(ROUTES), _enum(ROUTES)]
Background = Annotated[str, _in(BACKGROUNDS), _enum(BACKGROUNDS)]
EndpointKind = Annotated[str, _in(ENDPOINT_KINDS), _enum(ENDPOINT_KINDS)]
Scale = Annotated[str, _in(SCALES), _enum(SCALES)]
PriceKey = Annotated[str, _in(PRICE_KEYS), _enum(PRICE_KEYS)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class NormalIn(_Strict):
    """A normal distribution in the field's unit."""

    mean: float
    sd: float


class PopulationIn(_Strict):
    """Patients per arm and their baseline MADRS (points), weight (kg) and age (years)."""

    n: int
    baseline_madrs: NormalIn | None = None
    weight_kg: NormalIn | None = None
    age: NormalIn | None = None


class ArmIn(_Strict):
    """One arm: drug, route, dose (one of ``dose_mg``, ``dose_mg_per_kg``, ``doses_mg``) and study days."""

    name: str
    drug: Drug
    route: RouteName | None = None
    dose_mg: float | None = None
    dose_mg_per_kg: float | None = None
    doses_mg: list[float] | None = Field(default=None, max_length=1000)
    duration_min: float | None = None
    days: list[float] = Field(max_length=1000)
    background: Background | None = None
    background_start_day: float | None = None
    model: str | None = Field(default=None, max_length=100)
    price_usd: float | None = None


class EndpointIn(_Strict):
    """One endpoint; which fields apply depends on ``kind`` (docs/trials.md)."""

    id: str = Field(max_length=100)
    kind: EndpointKind  # the domain's kinds (spec.ENDPOINT_KINDS): a new kind there is accepted here
    scale: Scale | None = None
    day: float | None = None
    threshold: float | None = None
    after: Literal["last_dose"] | float | None = None
    offset_days: float | None = None
    horizon_days: float | None = None
    among: Literal["responders", "remitters"] | None = None  # relapse_proportion
    reference: str | None = Field(default=None, max_length=100)  # hazard_ratio: the comparator arm's name


class TrialSpecIn(_Strict):
    """An in-silico trial spec (docs/trials.md): population, arms, endpoints and session prices (USD)."""

    model_config = ConfigDict(title="ketamine-therapy trial spec", json_schema_extra={"$id": SCHEMA_ID})

    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    seed: int | None = None
    population: PopulationIn
    arms: list[ArmIn] = Field(max_length=50)
    endpoints: list[EndpointIn] = Field(max_length=200)
    prices: dict[PriceKey, float | None] | None = None


def trial_spec_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a trial spec document."""
    schema = TrialSpecIn.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _json_depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` in a JSON text (strings skipped), without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _check_yaml_events(text: str) -> None:
    """Refuse anchors, aliases and deep nesting by walking the parser's events (iterative: no recursion)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise InvalidInputError("spec", "uses a YAML anchor or alias (&, *)", "a spec without anchors or aliases")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise InvalidInputError("spec", f"is nested deeper than {MAX_DEPTH} levels", f"<= {MAX_DEPTH} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def read_spec_document(text: str, fmt: SpecFormat | str) -> Any:
    """The parsed document of a YAML or JSON spec text, refused (``InvalidInputError`` on ``spec``) if it is too
    long, too deep, uses YAML anchors/aliases or does not parse."""
    if fmt not in ("yaml", "json"):
        raise InvalidInputError("format", f"unknown value {_bounded(repr(fmt))}", "yaml, json")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("spec", "is empty", "a YAML or JSON trial spec (docs/trials.md)")
    if len(text) > MAX_SPEC_CHARS:
        raise InvalidInputError("spec", f"has {len(text):,} characters", f"at most {MAX_SPEC_CHARS:,}")
    if fmt == "json" and _json_depth(text) > MAX_DEPTH:
        raise InvalidInputError("spec", f"is nested deeper than {MAX_DEPTH} levels", f"<= {MAX_DEPTH} levels")
    try:
        if fmt == "yaml":
            _check_yaml_events(text)
            return yaml.load(text, Loader=yaml.SafeLoader)
        return json.loads(text)
    except InvalidInputError:
        raise
    except (ValueError, yaml.YAMLError) as exc:
        message = _bounded(" ".join(str(exc).split()))
        raise InvalidInputError(
            "spec", f"is not valid {fmt.upper()}: {message}", f"a {fmt.upper()} trial spec"
        ) from None


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part if len(part) <= 40 else part[:40] + "..."
            out = f"{out}.{name}" if out else name
    return out or "spec"


def validate_spec_document(data: Any) -> TrialSpec:
    """Check a parsed document's shape (types, known fields; the JSON Schema) and then the domain's rules."""
    try:
        TrialSpecIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field = _location(tuple(p for p in first["loc"] if p not in UNION_TAGS))
        raise InvalidInputError(field, _bounded(first["msg"].removeprefix("Value error, ")), SCHEMA_HINT) from None
    try:
        return parse_spec(data)
    except InvalidInputError as exc:
        raise InvalidInputError(exc.field, _bounded(exc.message), exc.allowed) from None


def read_trial_spec(text: str, fmt: SpecFormat | str) -> TrialSpec:
    """A validated trial spec from YAML or JSON text."""
    return validate_spec_document(read_spec_document(text, fmt))


def load_trial_spec(path: Path) -> TrialSpec:
    """A validated trial spec from a ``.json`` file or a YAML file."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError("spec", f"cannot read {path}: {exc}", "a YAML or JSON trial spec") from None
    return read_trial_spec(text, "json" if path.suffix.lower() == ".json" else "yaml")
