"""The session runner's view model: what the page shows about one session (labels, the dose, timers, observation
tables, the forms its state allows), with clock times in the clinic's time zone."""

from __future__ import annotations

import re
import uuid
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..clinic.exceptions import InvalidAnswerError
from ..clinic.patients import DosingWeight, Patient
from ..clinic.protocols.calendar import PlannedSession
from ..clinic.sessions import (
    ESKETAMINE_DEVICE_MG,
    ESKETAMINE_DEVICE_WAIT,
    IV_STANDARD_DURATION,
    DoseLimits,
    EsketamineDose,
    ImDose,
    IvDose,
    PreCheckPolicy,
    PregnancyTest,
    Session,
    SessionKind,
    SessionState,
)
from ..clinic.settings import ClinicSettings
from ..http.context import AppContext
from ..services import treatment
from ..services.authorization import Actor, Permission
from ..services.clinic_settings import get_settings
from ..services.patients import get_patient
from ..services.plans import get_plan
from ..services.ports.treatment import SessionRecord

KIND_LABELS = {
    SessionKind.IV_KETAMINE: "IV ketamine",
    SessionKind.IM_KETAMINE: "IM ketamine",
    SessionKind.ESKETAMINE: "Esketamine nasal spray",
}
STATE_LABELS = {
    SessionState.SCHEDULED: "Scheduled",
    SessionState.CHECKED_IN: "Checked in",
    SessionState.DOSING: "Dosing",
    SessionState.MONITORING: "Monitoring",
    SessionState.DISCHARGED: "Discharged",
    SessionState.STOPPED: "Stopped",
}
ENTRY_STATES = frozenset({SessionState.CHECKED_IN, SessionState.DOSING, SessionState.MONITORING, SessionState.STOPPED})
"""States in which observations may be recorded (mirrors the session rules)."""
STOPPABLE = frozenset({SessionState.CHECKED_IN, SessionState.DOSING, SessionState.MONITORING})
PREGNANCY_LABELS = {
    PregnancyTest.NEGATIVE: "Negative",
    PregnancyTest.POSITIVE: "Positive",
    PregnancyTest.NOT_APPLICABLE: "Not applicable",
    PregnancyTest.NOT_DONE: "Not done",
}
MOAAS_LABELS = {
    5: "responds readily to name spoken in normal tone",
    4: "lethargic response to name spoken in normal tone",
    3: "responds only after name is called loudly or repeatedly",
    2: "responds only after mild prodding or shaking",
    1: "does not respond to mild prodding or shaking",
    0: "does not respond to pain",
}
"""MOAA/S levels, shown as button titles. Wording: the MOAA/S table of a Thorax article citing Chernik 1990
(J Clin Psychopharmacol 10:244-51), https://thorax.bmj.com/highwire/markup/168316/expansion; other tables word 1 and
0 with a trapezius squeeze. clinical.md §1d: MOAA/S is the label's sedation scale, 0 = loss of consciousness."""


_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)?")
_DURATION = re.compile(r"\b(?:(\d+) days?, )?(\d+):(\d{2}):(\d{2})(?:\.\d+)?\b")


@dataclass(frozen=True)
class VitalsRow:
    at: str
    minutes: str
    bp: str
    bp_high: bool
    heart_rate: str
    spo2: str
    respiratory_rate: str
    by: str


@dataclass(frozen=True)
class EntryRow:
    at: str
    minutes: str
    what: str
    value: str
    by: str


@dataclass(frozen=True)
class DeviceRow:
    number: int
    at_iso: str
    at: str
    offset_min: int


@dataclass(frozen=True)
class DoseButton:
    total_mg: int
    devices: int
    planned: bool


@dataclass
class Runner:
    """Everything the runner page shows about one session, with local clock times in the clinic's time zone."""

    record: SessionRecord
    patient: Patient
    settings: ClinicSettings
    planned: PlannedSession | None
    planned_count: int
    now: datetime
    actor: Actor
    last_change: str = ""
    tz: zoneinfo.ZoneInfo = field(init=False)

    def __post_init__(self) -> None:
        self.tz = zoneinfo.ZoneInfo(self.settings.timezone)

    # header -------------------------------------------------------------------------------------------------

    @property
    def session(self) -> Session:
        return self.record.session

    @property
    def kind(self) -> SessionKind:
        kind: SessionKind = self.record.session.kind
        return kind

    @property
    def state(self) -> SessionState:
        state: SessionState = self.record.session.state
        return state

    @property
    def name(self) -> str:
        """'Family, Given', as the chart and the day's list show patients."""
        return f"{self.patient.family_name}, {self.patient.given_name}"

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def is_iv(self) -> bool:
        return self.kind is SessionKind.IV_KETAMINE

    @property
    def is_im(self) -> bool:
        return self.kind is SessionKind.IM_KETAMINE

    @property
    def is_esketamine(self) -> bool:
        return self.kind is SessionKind.ESKETAMINE

    def clock(self, at: datetime | None) -> str:
        """``at`` as a local clock time (with the date when it is not today in the clinic)."""
        if at is None:
            return ""
        local = at.astimezone(self.tz)
        if local.date() == self.now.astimezone(self.tz).date():
            return local.strftime("%H:%M")
        return local.strftime("%a %d %b %Y, %H:%M")

    @property
    def scheduled(self) -> str:
        local = self.record.session.scheduled_at.astimezone(self.tz)
        return local.strftime("%a %d %b %Y, %H:%M")

    @property
    def planned_text(self) -> str:
        p = self.planned
        if p is None:
            return "no plan (single session)"
        if p.dose_mg is not None:
            return f"{p.dose_mg:g} mg"
        text = f"{p.dose_mg_per_kg:g} mg/kg" if p.dose_mg_per_kg is not None else "dose not set in the plan"
        if self.is_iv and p.duration_min:
            text += f" over {p.duration_min:g} min"
        return text

    @property
    def number_text(self) -> str:
        if self.record.number is None:
            return ""
        return f"session {self.record.number} of {self.planned_count}"

    @property
    def dosing_weight(self) -> DosingWeight | None:
        """The latest weight not in the future, and whether it is older than the clinic's limit."""
        return self.patient.dosing_weight(self.settings.local_date(self.now), self.settings.weight_max_age_days)

    @property
    def weight_kg(self) -> float | None:
        """The weight the dose form starts from (none when the recorded one is too old: weigh, or acknowledge)."""
        w = self.dosing_weight
        return None if w is None or w.stale else w.weight_kg

    @property
    def weight_measured(self) -> str:
        w = self.dosing_weight
        return "" if w is None else w.measured_on.isoformat()

    # rules that shape the forms -----------------------------------------------------------------------------

    @property
    def policy(self) -> PreCheckPolicy:
        return self.settings.policy(self.kind)

    @property
    def limits(self) -> DoseLimits | None:
        try:
            return self.settings.limits(self.kind)
        except InvalidAnswerError:
            return None

    @property
    def limits_text(self) -> str:
        limits = self.limits
        if limits is None:
            return "the clinic has set no dose limits for this route: a dose cannot be recorded until it does"
        return f"{limits.low:g}-{limits.high:g} {limits.unit}"

    @property
    def can_override(self) -> bool:
        return self.actor.can(Permission.DOSE_OVERRIDE)

    @property
    def can_run(self) -> bool:
        return self.actor.can(Permission.SESSION_RUN)

    @property
    def default_mg_per_kg(self) -> str:
        p = self.planned
        return f"{p.dose_mg_per_kg:g}" if p is not None and p.dose_mg_per_kg is not None else ""

    @property
    def default_duration_min(self) -> str:
        p = self.planned
        if p is not None and p.duration_min:
            return f"{p.duration_min:g}"
        return f"{IV_STANDARD_DURATION / timedelta(minutes=1):g}"

    @property
    def dose_buttons(self) -> list[DoseButton]:
        """Whole 28-mg devices within the clinic's esketamine limits (56 and 84 mg by the label)."""
        limits = self.limits
        if limits is None:
            return []
        planned = self.planned.dose_mg if self.planned is not None else None
        doses = range(ESKETAMINE_DEVICE_MG, int(limits.high) + 1, ESKETAMINE_DEVICE_MG)
        return [DoseButton(mg, mg // ESKETAMINE_DEVICE_MG, planned == mg) for mg in doses if mg >= limits.low]

    @property
    def bp_gate(self) -> str:
        return str(self.policy.bp_gate)

    # timers -------------------------------------------------------------------------------------------------

    @property
    def dosing_start(self) -> datetime | None:
        at: datetime | None = self.record.session.entered_at(SessionState.DOSING)
        return at

    @property
    def dosing_end(self) -> datetime | None:
        """End of the infusion (IV) or of the last device's wait (esketamine); the injection time for IM."""
        start, dose = self.dosing_start, self.record.session.dose
        if start is None or dose is None:
            return None
        if isinstance(dose, IvDose):
            return start + dose.duration
        if isinstance(dose, EsketamineDose):
            return start + dose.devices * ESKETAMINE_DEVICE_WAIT
        return start

    @property
    def minimum_end(self) -> datetime | None:
        start, minimum = self.dosing_start, self.record.session.min_monitoring
        return None if start is None or minimum is None else start + minimum

    @property
    def minimum_min(self) -> int | None:
        minimum = self.record.session.min_monitoring
        return None if minimum is None else int(minimum / timedelta(minutes=1))

    @property
    def total_minutes(self) -> int | None:
        """Minutes from the first dose to discharge (the REMS form's total time)."""
        start, end = self.dosing_start, self.record.session.entered_at(SessionState.DISCHARGED)
        return None if start is None or end is None else int((end - start) / timedelta(minutes=1))

    @property
    def devices(self) -> list[DeviceRow]:
        dose, start = self.record.session.dose, self.dosing_start
        if not isinstance(dose, EsketamineDose) or start is None:
            return []
        return [DeviceRow(k + 1, at.isoformat(), self.clock(at), int((at - start) / timedelta(minutes=1)))
                for k, at in enumerate(dose.device_times(start))]  # fmt: skip

    @property
    def dose_text(self) -> str:
        dose = self.record.session.dose
        if isinstance(dose, IvDose):
            minutes = dose.duration / timedelta(minutes=1)
            return (f"{dose.total_mg:.1f} mg IV over {minutes:g} min at {dose.rate_mg_per_h:.1f} mg/h "
                    f"({dose.mg_per_kg:g} mg/kg × {dose.weight_kg:g} kg)")  # fmt: skip
        if isinstance(dose, ImDose):
            return f"{dose.total_mg:.1f} mg IM ({dose.mg_per_kg:g} mg/kg × {dose.weight_kg:g} kg)"
        if isinstance(dose, EsketamineDose):
            return f"{dose.total_mg} mg nasal ({dose.devices} devices of {ESKETAMINE_DEVICE_MG} mg, 5 min apart)"
        return ""

    # observations -------------------------------------------------------------------------------------------

    def _minutes(self, at: datetime) -> str:
        start = self.dosing_start
        if start is None or at < start:
            return "pre"
        return f"{int((at - start) / timedelta(minutes=1))}"

    @property
    def can_record(self) -> bool:
        return self.state in ENTRY_STATES and self.can_run

    @property
    def stoppable(self) -> bool:
        return self.state in STOPPABLE and self.can_run

    @property
    def forms(self) -> frozenset[str]:
        """The forms the page shows in this state (a refusal of any other is shown at the top of the page)."""
        if not self.can_run:
            return frozenset()
        s, state = self.record.session, self.state
        shown = {"stop"} if self.stoppable else set()
        if state in ENTRY_STATES:
            shown |= {"vitals", "cadss6", "moaas", "adverse-event"}
        if state is SessionState.SCHEDULED:
            shown.add("check-in")
        elif state is SessionState.CHECKED_IN:
            if s.bp_gate_open:
                shown.add("bp-decision")
            elif s.bp_decision is None or s.bp_decision.proceed:
                shown.add("dose")
        elif state is SessionState.DOSING:
            shown.add("monitoring")
        elif state is SessionState.MONITORING:
            shown.add("discharge")
        return frozenset(shown)

    @property
    def vitals_rows(self) -> list[VitalsRow]:
        """Recorded vitals, newest first, then the pre-dose BP of the check-in."""
        s = self.record.session
        gate = self.policy.bp_gate
        rows = [
            VitalsRow(self.clock(v.at), self._minutes(v.at), str(v.bp) if v.bp else "",
                      v.bp is not None and v.bp.above(gate), _opt(v.heart_rate), _opt(v.spo2),
                      _opt(v.respiratory_rate), v.by)
            for v in reversed(s.vitals)
        ]  # fmt: skip
        if s.prechecks is not None:
            checked = s.entered_at(SessionState.CHECKED_IN)
            rows.append(VitalsRow(self.clock(checked), "check-in", str(s.prechecks.bp), s.prechecks.bp.above(gate),
                                  "", "", "", s.history[0].by if s.history else ""))  # fmt: skip
        return rows

    @property
    def score_rows(self) -> list[EntryRow]:
        s = self.record.session
        rows = [
            (e.at, EntryRow(self.clock(e.at), self._minutes(e.at), "CADSS-6", str(e.total), e.by)) for e in s.cadss6
        ]
        rows += [(e.at, EntryRow(self.clock(e.at), self._minutes(e.at), "MOAA/S", str(e.total), e.by)) for e in s.moaas]
        return [row for _, row in sorted(rows, key=lambda r: r[0], reverse=True)]

    @property
    def adverse_rows(self) -> list[EntryRow]:
        s = self.record.session
        return [EntryRow(self.clock(e.at), self._minutes(e.at), e.severity.value, e.description, e.by)
                for e in reversed(s.adverse_events)]  # fmt: skip

    @property
    def rems_suggestion(self) -> dict[str, str]:
        """Pre-selected REMS answers where the recorded scores show the effect (the nurse confirms them)."""
        s = self.record.session
        out = {}
        if s.cadss6:
            out["rems_dissociation"] = "yes" if any(e.total > 0 for e in s.cadss6) else "no"
        if s.moaas:
            out["rems_sedation"] = "yes" if any(e.total < 5 for e in s.moaas) else "no"
        return out

    @property
    def log(self) -> list[EntryRow]:
        """State changes and documented decisions, oldest first."""
        s = self.record.session
        rows = [(t.at, EntryRow(self.clock(t.at), "", STATE_LABELS[t.to_state], t.reason or "", t.by))
                for t in s.history]  # fmt: skip
        if s.bp_decision is not None:
            d = s.bp_decision
            what = "BP decision: " + ("proceed" if d.proceed else "delay")
            rows.append((d.at, EntryRow(self.clock(d.at), "", what, d.reason, d.by)))
        if s.override is not None:
            o = s.override
            rows.append((o.at, EntryRow(self.clock(o.at), "", "Dose override", o.reason, o.by)))
        return [row for _, row in sorted(rows, key=lambda r: r[0])]

    @property
    def iso(self) -> dict[str, str]:
        """Server UTC timestamps for the timers in runner.js."""

        def one(at: datetime | None) -> str:
            return "" if at is None else at.isoformat()

        return {"now": one(self.now), "dosing_start": one(self.dosing_start), "dosing_end": one(self.dosing_end),
                "minimum_end": one(self.minimum_end)}  # fmt: skip

    def humanize(self, text: str) -> str:
        """A rule's message for the nurse: UTC timestamps as local clock times, ``1:00:00`` as ``60 min``."""

        def clock(match: re.Match[str]) -> str:
            return self.clock(datetime.fromisoformat(match.group(0)))

        def minutes(match: re.Match[str]) -> str:
            days, hours, mins, secs = (int(g or 0) for g in match.groups())
            total = days * 1440 + hours * 60 + mins
            return f"{total} min" + (f" {secs} s" if secs and total < 10 else "")

        return _DURATION.sub(minutes, _ISO_TIME.sub(clock, text))

    def elapsed(self, since: datetime | None) -> str:
        """``mm:ss`` (or ``h:mm:ss``) from ``since`` to now, for the page before runner.js takes over."""
        return "" if since is None else _duration(self.now - since)

    def remaining(self, until: datetime | None) -> str:
        return "" if until is None else _duration(max(until - self.now, timedelta(0)))

    def reached(self, until: datetime | None) -> bool:
        return until is not None and self.now >= until


def _opt(value: int | None) -> str:
    return "" if value is None else str(value)


def _duration(delta: timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


def load_runner(ctx: AppContext, actor: Actor, session_id: uuid.UUID, now: datetime) -> Runner:
    """The runner of one session as ``actor`` may see it, with its planned dose when it belongs to a plan."""
    record = treatment.get_session(ctx.new_uow(), actor, session_id)
    patient, _ = get_patient(ctx.new_uow(), actor, record.patient_id)
    settings, _ = get_settings(ctx.new_uow())
    planned, count = None, 0
    if record.plan_id is not None:
        plan = get_plan(ctx.new_uow(), actor, record.plan_id).plan
        count = len(plan.sessions)
        if record.number is not None and 0 < record.number <= count:
            planned = plan.sessions[record.number - 1]
    return Runner(record, patient, settings, planned, count, now, actor)


def describe_last_change(ctx: AppContext, actor: Actor, runner: Runner) -> str:
    """Who changed the session last, when and why (shown after a conflict)."""
    versions = treatment.session_history(ctx.new_uow(), actor, runner.record.id)
    if not versions:
        return ""
    last = versions[-1]
    return f"{last.changed_by} at {runner.clock(last.changed_at)}: {last.reason}"
