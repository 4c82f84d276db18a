"""The clock port: "now" and the clinic's "today", from one injectable clock instead of the server clock.

Every use case and edge takes its time from a :data:`Clock` (``AppContext.clock`` in the web app); "today" is
the calendar day in the clinic's time zone (``ClinicSettings.timezone``), so the API and the web agree on it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from ..clinic.settings import ClinicSettings
from .ports import NotFoundError, UnitOfWork

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware."""


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (the production clock)."""
    return datetime.now(UTC)


def clinic_today(settings: ClinicSettings | None, clock: Clock = utc_now) -> date:
    """Today in the clinic's time zone (UTC before the clinic has settings)."""
    now = clock()
    return settings.local_date(now) if settings is not None else now.astimezone(UTC).date()


def today(uow: UnitOfWork, clock: Clock = utc_now) -> date:
    """The clinic's today, reading its settings in a unit of work of its own (no audit: settings hold no patient)."""
    with uow:
        return clinic_today(stored_settings(uow), clock)


def stored_settings(uow: UnitOfWork) -> ClinicSettings | None:
    """The clinic's settings inside an open unit of work, ``None`` before any are stored."""
    try:
        return uow.settings.get()[0]
    except NotFoundError:
        return None
