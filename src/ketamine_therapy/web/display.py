"""What the clinic's pages share for display: formatting (times in the clinic's time zone, names, money, doses),
the clinic's day, pagination links and rendering with the permissions at hand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse

from ..clinic.patients import Patient
from ..clinic.protocols.calendar import PlannedSession
from ..clinic.protocols.templates import ProtocolStep
from ..clinic.sessions import EsketamineDose, ImDose, IvDose, Session, SessionKind
from ..clinic.settings import ClinicSettings
from ..services.authorization import Permission
from ..services.clinic_settings import get_settings
from .base import render

KIND_LABELS: Mapping[SessionKind, str] = {
    SessionKind.IV_KETAMINE: "IV ketamine",
    SessionKind.IM_KETAMINE: "IM ketamine",
    SessionKind.ESKETAMINE: "Esketamine (Spravato)",
}


def full_name(patient: Patient) -> str:
    """'Family, Given' for lists and headings."""
    return f"{patient.family_name}, {patient.given_name}"


def money(value: Decimal) -> str:
    """US dollars with cents."""
    return f"${value:,.2f}"


def session_dose(session: Session) -> str:
    """The dose given (or ordered) in a session, with its arithmetic."""
    dose = session.dose
    if isinstance(dose, EsketamineDose):
        return f"{dose.total_mg} mg ({dose.devices} devices)"
    if isinstance(dose, IvDose):
        minutes = round(dose.duration.total_seconds() / 60)
        return f"{dose.mg_per_kg:g} mg/kg × {dose.weight_kg:g} kg = {dose.total_mg:.1f} mg over {minutes} min"
    if isinstance(dose, ImDose):
        return f"{dose.mg_per_kg:g} mg/kg × {dose.weight_kg:g} kg = {dose.total_mg:.1f} mg IM"
    return ""


def planned_dose(planned: PlannedSession | ProtocolStep, weight_kg: float | None = None) -> str:
    """A planned dose: mg, or mg/kg (with the mg at ``weight_kg``), and the infusion time."""
    if planned.dose_mg_per_kg is not None:
        text = f"{planned.dose_mg_per_kg:g} mg/kg"
        if weight_kg is not None:
            text += f" (≈{planned.dose_mg_per_kg * weight_kg:.1f} mg at {weight_kg:g} kg)"
    elif planned.dose_mg is not None:
        text = f"{planned.dose_mg:g} mg"
    else:
        text = ""
    if planned.duration_min is not None:
        text += f" over {planned.duration_min:g} min"
    return text


@dataclass(frozen=True)
class Fmt:
    """Formatting helpers handed to the templates: times in the clinic's time zone."""

    tz: ZoneInfo

    def time(self, at: datetime) -> str:
        return at.astimezone(self.tz).strftime("%H:%M")

    def dt(self, at: datetime) -> str:
        return at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def day(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def date(self, day: date) -> str:
        return day.strftime("%a %d %b %Y")

    def kind(self, kind: SessionKind) -> str:
        return KIND_LABELS.get(kind, kind.value)

    name = staticmethod(full_name)
    money = staticmethod(money)
    dose = staticmethod(session_dose)
    planned = staticmethod(planned_dose)


def clinic_today(ctx: Any) -> tuple[ClinicSettings, date, Fmt]:
    """The clinic's settings, its calendar day today and the formatter in its time zone."""
    settings, _ = get_settings(ctx.new_uow())
    tz = ZoneInfo(settings.timezone)
    return settings, ctx.clock().astimezone(tz).date(), Fmt(tz)


def render_page(request: Request, template: str, who: Any, status_code: int = 200, **values: Any) -> HTMLResponse:
    """:func:`base.render` with the permissions at hand (``perm``) for the templates' ``actor.can(...)``."""
    return render(request, template, who, status_code, perm=Permission, **values)


def page_links(page: int, has_next: bool, base: str) -> dict[str, str | None]:
    """Links to the previous and next page of a list (None where there is none)."""
    joiner = "&" if "?" in base else "?"
    return {"prev": f"{base}{joiner}page={page - 1}" if page > 1 else None,
            "next": f"{base}{joiner}page={page + 1}" if has_next else None}  # fmt: skip
