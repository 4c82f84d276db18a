"""Spravato REMS Patient Monitoring Forms: the list with each form's 7-day status, the printable form, its CSV
and the record of its submission."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..clinic.exceptions import InvalidAnswerError
from ..clinic.rems import FIELD_SOURCES, REQUIRED_FIELDS
from ..services.rems_forms import (
    export_form,
    field_label,
    form_fields,
    form_statuses,
    get_form,
    mark_submitted,
    status_on,
)
from .base import CallerDep, ContextDep, form_actor
from .display import clinic_today, render_page
from .forms import FormDep, error_values, field_text, parse_date, parse_int

router = APIRouter()

REMS_SECTIONS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("Patient", lambda n: n.startswith("patient_") or n in ("first_treatment", "already_enrolled")),
    ("Concomitant medications", lambda n: n in ("benzodiazepines", "non_benzodiazepine_sedative_hypnotics",
                                                "psychostimulants", "maois", "opioids")),
    ("Healthcare provider conducting monitoring", lambda n: n.startswith("hcp_")),
    ("Healthcare setting", lambda n: n.startswith("setting_")),
    ("Vital signs", lambda n: n.startswith(("vitals_", "bp_")) or n == "pulse_oximetry_checked"),
    ("Adverse events", lambda n: n.startswith(("sedation", "dissociation", "respiratory_depression", "serious_"))),
    ("Session", lambda n: True),
)  # fmt: skip


@dataclass(frozen=True)
class RemsSection:
    """A section of the printed form: its rows (name, label, value, required, source note) and the notes."""

    title: str
    rows: list[tuple[str, str, str, bool, int]]
    sources: list[str]


def _rems_sections(fields: Sequence[tuple[str, str]]) -> list[RemsSection]:
    grouped: dict[str, list[tuple[str, str]]] = {title: [] for title, _ in REMS_SECTIONS}
    for name, value in fields:
        title = next(t for t, belongs in REMS_SECTIONS if belongs(name))
        grouped[title].append((name, value))
    order = ["Patient", "Concomitant medications", "Healthcare provider conducting monitoring", "Healthcare setting",
             "Session", "Vital signs", "Adverse events"]  # fmt: skip
    sections = []
    for title in order:
        sources: list[str] = []
        rows = []
        for name, value in grouped[title]:
            source = FIELD_SOURCES.get(name, "")
            if source and source not in sources:
                sources.append(source)
            note = sources.index(source) + 1 if source else 0
            rows.append((name, field_label(name), value, name in REQUIRED_FIELDS, note))
        if rows:
            sections.append(RemsSection(title, rows, sources))
    return sections


@router.get("/rems")
def rems_list(request: Request, who: CallerDep, ctx: ContextDep, show: str = "open") -> HTMLResponse:
    """Patient Monitoring Forms with their 7-day status; open ones (overdue first) by default."""
    _, today, fmt = clinic_today(ctx)
    rows = form_statuses(ctx.new_uow(), who.actor, today)
    order = {"overdue": 0, "due": 1, "submitted": 2}
    rows = sorted(rows, key=lambda r: (order[r.status], r.due if r.status != "submitted" else date.max - r.due))
    counts = {s: sum(r.status == s for r in rows) for s in order}
    shown = rows if show == "all" else [r for r in rows if r.status != "submitted"]
    return render_page(request, "rems_list.html", who, rows=shown, counts=counts, show=show, clinic_today=today,
                       fmt=fmt)  # fmt: skip


@router.get("/rems/{form_id}.csv")
def rems_csv(who: CallerDep, ctx: ContextDep, form_id: uuid.UUID) -> Response:
    """The form's fields as CSV rows (field, label, value): the API's export."""
    export = export_form(ctx.new_uow(), who.actor, form_id)
    return Response(export.text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{export.filename}"'})  # fmt: skip


def _rems_page(request: Request, who: Any, ctx: Any, form_id: uuid.UUID, error: dict[str, str | None] | None = None,
               submitted_on: str = "", status_code: int = 200) -> HTMLResponse:  # fmt: skip
    _, today, fmt = clinic_today(ctx)
    record = get_form(ctx.new_uow(), who.actor, form_id)
    row = status_on(record, today)
    return render_page(request, "rems_form.html", who, status_code, record=record, row=row, clinic_today=today, fmt=fmt,
                       sections=_rems_sections(form_fields(record.form)), error=error,
                       submitted_on=submitted_on or today.isoformat())  # fmt: skip


@router.get("/rems/{form_id}")
def rems_form(request: Request, who: CallerDep, ctx: ContextDep, form_id: uuid.UUID) -> HTMLResponse:
    """The full Patient Monitoring Form (print-friendly) and the 'mark submitted' form."""
    return _rems_page(request, who, ctx, form_id)


@router.post("/rems/{form_id}/submitted", response_model=None)
def rems_mark_submitted(request: Request, who: CallerDep, ctx: ContextDep, form_id: uuid.UUID,
                        form: FormDep) -> Response:  # fmt: skip
    """Record the date the form was submitted to the REMS (the version guards against a double submission)."""
    actor = form_actor(request, who, form)
    submitted = field_text(form, "submitted_on")
    try:
        version = parse_int(field_text(form, "version"), "version", "the form's version")
        mark_submitted(ctx.new_uow(), actor, form_id, version, parse_date(submitted, "submitted_on"))
    except InvalidAnswerError as exc:
        return _rems_page(request, who, ctx, form_id, error_values(exc), submitted, 422)
    return RedirectResponse(f"/rems/{form_id}", status_code=303)
