"""Treatment protocols as editable templates, checked against the label rules of their kind (clinical.md §1a for
Spravato, §1b for IV and IM).

IM ketamine dosing norms are UNVERIFIED (§1b), so the IM template has no steps and no dose; a clinic adds its own
steps with :meth:`Protocol.with_changes`. The EU/HK label's 28 mg start for age >=65 (non-US label) is not encoded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from ..exceptions import InvalidAnswerError
from ._checks import check_int, positive

SPRAVATO_DEVICE_MG = 28.0
"""One Spravato device delivers 28 mg; doses change in 28 mg steps (clinical.md §1a Dose steps)."""

_SPRAVATO_DOSES_MG = (56.0, 84.0)  # clinical.md §1a: TRD 56 or 84 mg; MDSI 84 mg, may reduce to 56 mg.
_MDSI_MAX_WEEKS = 4  # clinical.md §1a MDSI: "Not studied beyond 4 weeks".


class ProtocolKind(StrEnum):
    """What a protocol treats with, which fixes its route and label rules."""

    IV_ACUTE = "iv_acute"
    SPRAVATO_TRD = "spravato_trd"
    SPRAVATO_MDSI = "spravato_mdsi"
    IM = "im"

    @property
    def route(self) -> str:
        """Route of administration: ``iv``, ``intranasal`` or ``im``."""
        return {"iv_acute": "iv", "im": "im"}.get(self.value, "intranasal")


@dataclass(frozen=True)
class ProtocolStep:
    """A run of study weeks with the same session pattern and dose.

    Study week ``k`` covers days ``7(k-1)+1 .. 7k`` after the start (day 1 = start date). ``week_days``
    are 0-based offsets of the sessions inside each study week; the step repeats every ``every_weeks``
    weeks from ``first_week`` to ``last_week`` (``None`` = ongoing until the plan's horizon). Exactly one
    of ``dose_mg`` / ``dose_mg_per_kg``; ``first_dose_mg`` replaces the dose of the step's first session.
    """

    first_week: int
    last_week: int | None
    week_days: tuple[int, ...]
    source: str
    dose_mg: float | None = None
    dose_mg_per_kg: float | None = None
    first_dose_mg: float | None = None
    every_weeks: int = 1
    duration_min: float | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        check_int("first_week", self.first_week, 1)
        if self.last_week is not None:
            check_int("last_week", self.last_week, self.first_week)
        check_int("every_weeks", self.every_weeks, 1)
        days = self.week_days
        if not days or any(isinstance(d, bool) or not isinstance(d, int) for d in days):
            raise InvalidAnswerError("week_days", f"got {days!r}", "one or more offsets 0-6")
        if any(not 0 <= d <= 6 for d in days) or list(days) != sorted(set(days)):
            raise InvalidAnswerError("week_days", f"got {days!r}", "distinct increasing offsets 0-6")
        if (self.dose_mg is None) == (self.dose_mg_per_kg is None):
            raise InvalidAnswerError("dose", "give exactly one of dose_mg or dose_mg_per_kg", "one of the two")
        for name in ("dose_mg", "dose_mg_per_kg", "first_dose_mg", "duration_min"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not positive(value)):
                raise InvalidAnswerError(name, f"must be a positive number, got {value!r}", "> 0")
        if self.first_dose_mg is not None and self.dose_mg is None:
            raise InvalidAnswerError("first_dose_mg", "needs a step dosed in mg", "None with dose_mg_per_kg")

    def weeks(self, through_week: int) -> list[int]:
        """Study weeks of this step up to ``through_week`` (inclusive)."""
        last = through_week if self.last_week is None else min(self.last_week, through_week)
        return list(range(self.first_week, last + 1, self.every_weeks))


@dataclass(frozen=True)
class Protocol:
    """An editable protocol template; its steps are checked against the label rules of its ``kind``."""

    id: str
    name: str
    kind: ProtocolKind
    steps: tuple[ProtocolStep, ...]
    source: str
    notes: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise InvalidAnswerError("id", f"got {self.id!r}", "a non-empty string")
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidAnswerError("name", f"got {self.name!r}", "a non-empty string")
        try:
            object.__setattr__(self, "kind", ProtocolKind(self.kind))
        except ValueError:
            raise InvalidAnswerError("kind", f"got {self.kind!r}", ", ".join(k.value for k in ProtocolKind)) from None
        object.__setattr__(self, "steps", tuple(self.steps))
        for i, step in enumerate(self.steps):
            if not isinstance(step, ProtocolStep):
                raise InvalidAnswerError(f"steps[{i}]", f"got {step!r}", "a ProtocolStep")
            before = self.steps[i - 1].last_week if i else 0
            if before is None or step.first_week <= before:
                raise InvalidAnswerError(f"steps[{i}].first_week", "steps overlap", "after the previous step's weeks")
            self._check_step(i, step)

    def _check_step(self, i: int, step: ProtocolStep) -> None:
        kind = self.kind
        if kind is ProtocolKind.IV_ACUTE:
            # clinical.md §1b Standard dose: mg/kg infused over a set time (0.5 mg/kg over 40 min).
            if step.dose_mg_per_kg is None or step.duration_min is None:
                raise InvalidAnswerError(f"steps[{i}].dose", "IV steps need dose_mg_per_kg and duration_min", "both")
            return
        if step.duration_min is not None:
            raise InvalidAnswerError(f"steps[{i}].duration_min", f"only IV is infused ({kind.route})", "None")
        if kind is ProtocolKind.IM:
            return
        # Spravato: whole 56/84 mg doses (clinical.md §1a Dosing schedule, Dose steps, MDSI).
        for name in ("dose_mg", "first_dose_mg"):
            value = getattr(step, name)
            if (name == "dose_mg" or value is not None) and value not in _SPRAVATO_DOSES_MG:
                raise InvalidAnswerError(f"steps[{i}].{name}", f"got {value!r}", "56 or 84 mg")
        if kind is ProtocolKind.SPRAVATO_TRD and i == 0 and (step.first_dose_mg or step.dose_mg) != 56.0:
            # clinical.md §1a: "Day 1 dose 56 mg"; "84 mg only after a 56 mg start".
            raise InvalidAnswerError("steps[0].first_dose_mg", "the first TRD session must be 56 mg", "56 mg")
        if kind is ProtocolKind.SPRAVATO_MDSI and (step.last_week is None or step.last_week > _MDSI_MAX_WEEKS):
            # clinical.md §1a MDSI: "Not studied beyond 4 weeks".
            raise InvalidAnswerError(f"steps[{i}].last_week", f"got {step.last_week!r}", f"<= {_MDSI_MAX_WEEKS}")

    def with_changes(self, **changes: Any) -> Protocol:
        """A new, re-validated protocol with ``changes`` applied (same names as the fields)."""
        unknown = set(changes) - {"id", "name", "kind", "steps", "source", "notes"}
        if unknown:
            raise InvalidAnswerError(", ".join(sorted(unknown)), "not a protocol field", "id, name, kind, steps, ...")
        return replace(self, **changes)

    @property
    def last_fixed_week(self) -> int:
        """The last study week of the steps that end (0 if none)."""
        return max((s.last_week for s in self.steps if s.last_week is not None), default=0)


IV_ACUTE_SERIES = Protocol(
    id="iv-acute-series",
    name="IV racemic ketamine acute series",
    kind=ProtocolKind.IV_ACUTE,
    steps=(
        ProtocolStep(
            first_week=1,
            last_week=2,
            week_days=(0, 2, 4),
            dose_mg_per_kg=0.5,
            duration_min=40.0,
            notes="Six sessions: three a week for two weeks.",
            source="clinical.md §1b Standard dose (Andrade 2017); §1b Acute series ('six sessions over two to "
            "three weeks', 'three times per week over the course of two weeks')",
        ),
    ),
    source="clinical.md §1b",
    notes="Dose range 0.1-0.75 mg/kg (Andrade) and ASKP3 0.5-1 mg/kg over 40-60 min are described; hard dose "
    "limits belong to the session rules.",
)

SPRAVATO_TRD = Protocol(
    id="spravato-trd",
    name="Spravato (esketamine) TRD label schedule",
    kind=ProtocolKind.SPRAVATO_TRD,
    steps=(
        ProtocolStep(
            first_week=1,
            last_week=4,
            week_days=(0, 3),
            dose_mg=56.0,
            first_dose_mg=56.0,
            notes="Induction, twice weekly. Day 1 56 mg, then 56 mg or 84 mg. Evaluate benefit at the end.",
            source="clinical.md §1a Dosing schedule: Induction, weeks 1-4; Evaluate benefit; Dose steps",
        ),
        ProtocolStep(
            first_week=5,
            last_week=8,
            week_days=(0,),
            dose_mg=56.0,
            notes="Maintenance, once weekly, 56 mg or 84 mg.",
            source="clinical.md §1a Dosing schedule: Maintenance, weeks 5-8",
        ),
        ProtocolStep(
            first_week=9,
            last_week=None,
            week_days=(0,),
            every_weeks=2,
            dose_mg=56.0,
            notes="Every 2 weeks or once weekly, 56/84 mg, individualised to the least frequent dosing that "
            "keeps remission/response.",
            source="clinical.md §1a Dosing schedule: Week 9 onward",
        ),
    ),
    source="clinical.md §1a (2019 label Table 1; spravatohcp.com dosing)",
    notes="84 mg only after a 56 mg start. If depression worsens after missed doses, a return to the previous "
    "schedule may be considered (clinical.md §1a Missed doses).",
)

SPRAVATO_MDSI = Protocol(
    id="spravato-mdsi",
    name="Spravato (esketamine) MDD with acute suicidal ideation or behaviour",
    kind=ProtocolKind.SPRAVATO_MDSI,
    steps=(
        ProtocolStep(
            first_week=1,
            last_week=4,
            week_days=(0, 3),
            dose_mg=84.0,
            notes="84 mg twice weekly for 4 weeks; may reduce to 56 mg if not tolerated. Not studied beyond 4 weeks.",
            source="clinical.md §1a Dosing schedule: MDD with acute suicidal ideation/behaviour",
        ),
    ),
    source="clinical.md §1a (spravatohcp.com/mdsi; MIMS HK)",
)

IM_TEMPLATE = Protocol(
    id="im",
    name="IM ketamine (clinic-defined)",
    kind=ProtocolKind.IM,
    steps=(),
    source="clinical.md §1b IM ketamine dosing norms: UNVERIFIED",
    notes="clinical.md has no verified IM dose or schedule, so this template has no steps and no default dose. "
    "Add the clinic's own steps with with_changes(steps=...).",
)

TEMPLATES: dict[str, Protocol] = {p.id: p for p in (IV_ACUTE_SERIES, SPRAVATO_TRD, SPRAVATO_MDSI, IM_TEMPLATE)}
"""The built-in templates by id."""
