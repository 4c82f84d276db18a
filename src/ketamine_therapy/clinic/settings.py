"""A clinic's own settings: calendar, pre-check policies, dose limits, monitoring, prices, booster rules, REMS
details and its protocols.

clinical.md leaves many of these to the clinic (IV BP gate, IM dose, prices, booster thresholds); they are
required here, never silently defaulted. Where clinical.md gives a rule (esketamine pre-checks, label doses,
120-min monitoring) the session rules enforce it whatever the settings say.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from .costs import PriceList
from .exceptions import InvalidAnswerError
from .protocols.boosters import BoosterRules
from .protocols.templates import TEMPLATES, Protocol
from .quantities import RELAPSE_RISK
from .rems import HealthcareSetting, MonitoringHcp
from .sessions import (
    DEFAULT_MIN_DOSE_INTERVAL,
    DEFAULT_SCHEDULE_TOLERANCE,
    ESKETAMINE_DOSE_LIMITS,
    DischargeRanges,
    DoseLimits,
    PreCheckPolicy,
    SessionKind,
    TimingPolicy,
    check_limits,
    esketamine_precheck_policy,
)

DEFAULT_WEIGHT_MAX_AGE_DAYS = 30
"""A recorded weight older than this is a warning at dosing (project default, no clinical.md row; a clinic sets
its own)."""
DEFAULT_FORECAST_RELAPSE_ALPHA = 0.2
"""The forecast's booster advice keeps P(relapse before the next session) at or below this (issue 12's default; a
clinic's choice of risk, not a clinical.md value)."""


@dataclass(frozen=True)
class ClinicSettings:
    """Everything a clinic decides for itself. ``session_time`` is local time in ``timezone``."""

    name: str
    timezone: str
    opening_days: frozenset[int]
    session_time: time
    iv_policy: PreCheckPolicy
    im_policy: PreCheckPolicy
    esketamine_pregnancy_test_required: bool
    iv_limits: DoseLimits
    im_limits: DoseLimits | None
    iv_min_monitoring_min: int | None
    im_min_monitoring_min: int | None
    prices: PriceList
    booster_rules: BoosterRules
    rems_hcp: MonitoringHcp
    rems_setting: HealthcareSetting
    holidays: tuple[date, ...] = ()
    protocols: Mapping[str, Protocol] = field(default_factory=lambda: dict(TEMPLATES))
    esketamine_limits: DoseLimits = ESKETAMINE_DOSE_LIMITS
    iv_min_dose_interval_h: int = DEFAULT_MIN_DOSE_INTERVAL // timedelta(hours=1)
    im_min_dose_interval_h: int = DEFAULT_MIN_DOSE_INTERVAL // timedelta(hours=1)
    esketamine_min_dose_interval_h: int = DEFAULT_MIN_DOSE_INTERVAL // timedelta(hours=1)
    schedule_tolerance_days: int = DEFAULT_SCHEDULE_TOLERANCE.days
    weight_max_age_days: int = DEFAULT_WEIGHT_MAX_AGE_DAYS
    discharge: DischargeRanges = field(default_factory=DischargeRanges)
    forecast_relapse_alpha: float = DEFAULT_FORECAST_RELAPSE_ALPHA

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidAnswerError("name", "is empty", "the clinic's name")
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise InvalidAnswerError("timezone", f"unknown time zone {self.timezone!r}", "an IANA name") from None
        if not self.opening_days or not all(0 <= d <= 6 for d in self.opening_days):
            raise InvalidAnswerError("opening_days", f"got {sorted(self.opening_days)}", "weekdays 0 (Mon)-6 (Sun)")
        for name in ("iv_min_monitoring_min", "im_min_monitoring_min"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 24 * 60:
                raise InvalidAnswerError(name, f"got {value}", "0-1440 minutes")
        named = (("iv_limits", self.iv_limits, SessionKind.IV_KETAMINE),
                 ("im_limits", self.im_limits, SessionKind.IM_KETAMINE),
                 ("esketamine_limits", self.esketamine_limits, SessionKind.ESKETAMINE))  # fmt: skip
        for unit_name, limits, kind in named:
            if limits is not None:
                try:
                    check_limits(kind, limits)
                except InvalidAnswerError as exc:
                    raise InvalidAnswerError(f"{unit_name}.{exc.field.removeprefix('limits.')}", exc.message,
                                             exc.allowed) from None  # fmt: skip
        for name, high in (("iv_min_dose_interval_h", 24 * 28), ("im_min_dose_interval_h", 24 * 28),
                           ("esketamine_min_dose_interval_h", 24 * 28), ("schedule_tolerance_days", 365),
                           ("weight_max_age_days", 3650)):  # fmt: skip
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
                raise InvalidAnswerError(name, f"got {value!r}", f"a whole number 0-{high}")
        RELAPSE_RISK.check(self.forecast_relapse_alpha, "forecast_relapse_alpha")
        for key, protocol in self.protocols.items():
            if key != protocol.id:
                raise InvalidAnswerError(f"protocols[{key}]", f"holds protocol {protocol.id!r}", "its own id")

    def policy(self, kind: SessionKind) -> PreCheckPolicy:
        """The pre-check policy of a session kind (esketamine: the label's, plus the clinic's pregnancy test)."""
        if kind is SessionKind.ESKETAMINE:
            return esketamine_precheck_policy(pregnancy_test_required=self.esketamine_pregnancy_test_required)
        return self.iv_policy if kind is SessionKind.IV_KETAMINE else self.im_policy

    def limits(self, kind: SessionKind) -> DoseLimits:
        """The hard dose limits of a session kind; IM has none unless the clinic set them."""
        limits = {SessionKind.IV_KETAMINE: self.iv_limits, SessionKind.IM_KETAMINE: self.im_limits,
                  SessionKind.ESKETAMINE: self.esketamine_limits}[kind]  # fmt: skip
        if limits is None:
            raise InvalidAnswerError("im_limits", "the clinic has set no IM dose limits", "DoseLimits in mg/kg")
        return limits

    def min_monitoring(self, kind: SessionKind) -> timedelta | None:
        """Minimum monitoring after dosing; esketamine's label minimum is applied by the session rules."""
        minutes = {SessionKind.IV_KETAMINE: self.iv_min_monitoring_min,
                   SessionKind.IM_KETAMINE: self.im_min_monitoring_min}.get(kind)  # fmt: skip
        return None if minutes is None else timedelta(minutes=minutes)

    def timing(self, kind: SessionKind) -> TimingPolicy:
        """The minimum interval between doses of ``kind`` and the tolerance around scheduled times."""
        hours = {SessionKind.IV_KETAMINE: self.iv_min_dose_interval_h,
                 SessionKind.IM_KETAMINE: self.im_min_dose_interval_h,
                 SessionKind.ESKETAMINE: self.esketamine_min_dose_interval_h}[kind]  # fmt: skip
        return TimingPolicy(timedelta(hours=hours), timedelta(days=self.schedule_tolerance_days))

    def protocol(self, protocol_id: str) -> Protocol:
        """One of the clinic's protocols by id."""
        if protocol_id not in self.protocols:
            raise InvalidAnswerError("protocol_id", f"unknown protocol {protocol_id!r}", ", ".join(self.protocols))
        return self.protocols[protocol_id]

    def appointment(self, day: date) -> datetime:
        """The UTC start of a session on ``day`` at the clinic's local ``session_time``."""
        local = datetime.combine(day, self.session_time, tzinfo=zoneinfo.ZoneInfo(self.timezone))
        return local.astimezone(UTC)

    def midnight(self, day: date) -> datetime:
        """The UTC time at which the clinic's local ``day`` begins."""
        return datetime.combine(day, time(0), tzinfo=zoneinfo.ZoneInfo(self.timezone)).astimezone(UTC)

    def local_date(self, at: datetime) -> date:
        """The clinic's calendar date of a UTC time."""
        return at.astimezone(zoneinfo.ZoneInfo(self.timezone)).date()
