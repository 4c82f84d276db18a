"""``ketamine-therapy forecast``: a patient's forecast from a NONMEM-style event table (researchers) or from the
clinic's database (``--patient`` with ``--user``, audited under that login). See docs/forecast.md."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from ..clinic.exceptions import InvalidAnswerError

if TYPE_CHECKING:
    from ..pharmacology.forecast import Forecast, ForecastRequest

EXIT_INVALID = 2
REPORT_DAYS = (0, 7, 14, 28, 42, 56, 84, 112, 140, 168)
"""Days after the forecast start at which the text report prints the band."""


def forecast(
    events: Annotated[
        Path | None,
        typer.Argument(
            help="event table CSV (ID, TIME, EVID, AMT, RATE, CMT, DV, SCALE, WT, AGE, SEX)", dir_okay=False
        ),
    ] = None,
    patient_id: Annotated[str | None, typer.Option("--id", help="the ID in the table (default: every ID)")] = None,
    patient: Annotated[str | None, typer.Option(help="a patient id of the configured database (needs --user)")] = None,
    user: Annotated[str | None, typer.Option(help="the login the database read is made and audited as")] = None,
    url: Annotated[str | None, typer.Option("--url", help="database URL (default: settings / environment)")] = None,
    scale: Annotated[str, typer.Option(help="scale of the band: MADRS or QIDS-SR16")] = "MADRS",
    horizon_days: Annotated[int, typer.Option(help="days past the last score or dose, 7-182")] = 84,
    alpha: Annotated[
        float | None,
        typer.Option(
            help="accepted relapse risk before the next session, 0.01-0.5 "
            "(default 0.2; the clinic's setting with --patient)"
        ),
    ] = None,
    candidate: Annotated[
        list[str] | None, typer.Option(help="a what-if booster, e.g. 14d:0.5mgkg (repeatable)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object (ID -> forecast)")] = False,
    plot: Annotated[
        Path | None,
        typer.Option(
            help="write a PNG of the scores, the band and the relapse risk (one ID: use --id with a table of several)"
        ),
    ] = None,
) -> None:
    """Forecast the depression course, relapse risk and booster timing of a patient from their doses and scores."""
    from ..pharmacology.exceptions import InvalidInputError
    from ..services.authorization import PermissionDeniedError
    from ..services.ports import NotFoundError
    from .main import console, errors

    try:
        results = _run(events, patient_id, patient, user, url, scale, horizon_days, alpha, candidate or [])
        if plot is not None:
            if len(results) != 1:
                raise InvalidAnswerError("--plot", f"{len(results)} forecasts to draw", "one: choose it with --id")
            ((pid, (request, result)),) = results.items()
            _plot(plot, pid, request, result)
    except (InvalidInputError, InvalidAnswerError) as exc:
        errors.print(f"[bold red]error[/]: {exc}", markup=True, highlight=False)
        raise typer.Exit(EXIT_INVALID) from None
    except (PermissionDeniedError, NotFoundError) as exc:
        errors.print(f"[bold red]error[/]: {exc}", markup=True, highlight=False)
        raise typer.Exit(1) from None
    if as_json:
        from ..services.forecast import forecast_document

        typer.echo(json.dumps({pid: forecast_document(f) for pid, (_, f) in results.items()}, indent=2))
        return
    for pid, (request, result) in results.items():
        _print(console, pid, request, result)


def _run(
    events: Path | None, patient_id: str | None, patient: str | None, user: str | None, url: str | None, scale: str,
    horizon_days: int, alpha: float | None, candidates: list[str],
) -> dict[str, tuple[ForecastRequest, Forecast]]:  # fmt: skip
    """The forecasts asked for, by ID; raises naming the bad field."""
    from ..clinic.quantities import RELAPSE_RISK
    from ..pharmacology.forecast import forecast as forecast_of
    from ..services.forecast import (
        ENGINE_SCALES,
        ForecastOptions,
        candidate_schedule,
        parse_candidate,
    )

    parsed = tuple(parse_candidate(c, f"--candidate[{i}]") for i, c in enumerate(candidates))
    if alpha is not None:
        RELAPSE_RISK.check(alpha, "--alpha")
    try:
        options = ForecastOptions(scale.upper(), horizon_days, alpha, parsed)
    except InvalidAnswerError as exc:
        option = {"scale_id": "--scale", "horizon_days": "--horizon-days"}.get(exc.field, exc.field)
        raise InvalidAnswerError(option, exc.message, exc.allowed) from None
    if (events is None) == (patient is None):
        raise InvalidAnswerError("events", "give an event table or --patient (one of them)", "EVENTS.csv or --patient")
    if patient is not None:
        pf = _from_database(patient, user, url, options)
        return {str(pf.patient_id): (pf.request, pf.result)}
    assert events is not None
    from ..pharmacology.forecast import read_event_table

    try:
        text = events.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidAnswerError("events", f"cannot read {events}: {exc}", "a readable UTF-8 CSV file") from None
    requests = read_event_table(text)
    if patient_id is not None:
        if patient_id not in requests:
            raise InvalidAnswerError("--id", f"no ID {patient_id!r} in the table", ", ".join(list(requests)[:20]))
        requests = {patient_id: requests[patient_id]}
    out = {}
    for pid, request in requests.items():
        last = request.doses[-1] if request.doses else None
        weight = request.covariates.weight_kg
        schedules = tuple(candidate_schedule(c, last, weight, i, "--candidate") for i, c in enumerate(parsed))
        request = replace(request, scale=ENGINE_SCALES[options.scale_id], horizon_days=float(horizon_days),
                          alpha=request.alpha if alpha is None else alpha, candidates=schedules)  # fmt: skip
        out[pid] = (request, forecast_of(request))
    return out


def _from_database(patient: str, user: str | None, url: str | None, options: Any) -> Any:
    """The forecast of a stored patient, read (and audited) as the active login ``user``."""
    from ..bootstrap import units_of_work
    from ..services.accounts.users import shell_actor
    from ..services.forecast import patient_forecast

    try:
        patient_uuid = uuid.UUID(patient)
    except ValueError:
        raise InvalidAnswerError("--patient", f"{patient!r} is not a patient id", "a UUID") from None
    if user is None:
        raise InvalidAnswerError("--user", "is required with --patient", "the login to read (and audit) as")
    with units_of_work(url) as new_uow:
        actor = shell_actor(new_uow(), user)
        return patient_forecast(new_uow(), actor, patient_uuid, options)


def _plot(path: Path, pid: str, request: ForecastRequest, result: Forecast) -> None:
    """The scale's scores, the forecast band and the relapse risk as a PNG, in days after the first record."""
    from datetime import datetime, timedelta

    from ..clinic.scales import get_scale
    from ..plots.figure import FILE_DPI, figure_png
    from ..plots.scores import ForecastOverlay, score_course_figure
    from ..services.forecast import ENGINE_SCALES

    nominal = datetime(2000, 1, 1)  # noqa: DTZ001 - the table's hours on a nominal, naive calendar (axis in days)
    scale = get_scale(next(s for s, name in ENGINE_SCALES.items() if name == result.band.scale))
    by_day = {(nominal + timedelta(hours=r.time_h)).date(): r.value for r in request.ratings
              if r.scale == result.band.scale}  # fmt: skip
    points = sorted(by_day.items())
    baseline = points[0][1] if points else None
    response = baseline / 2 if baseline is not None and scale.has_response_rule else None
    overlay = ForecastOverlay.of(result, float(result.band.times_h[0]), lambda h: nominal + timedelta(hours=h))
    figure = score_course_figure(points, scale.id, baseline, response, scale.remission_max,
                                 f"{pid}: {scale.id} forecast", overlay, day_numbers=True)  # fmt: skip
    try:
        path.write_bytes(figure_png(figure, FILE_DPI))
    except OSError as exc:
        raise InvalidAnswerError("--plot", f"cannot write {path}: {exc}", "a writable file path") from None


def _print(console: Any, pid: str, request: ForecastRequest, result: Forecast) -> None:
    """The forecast as text: the band at a few days, relapse risk, booster advice, what-ifs and shrinkage."""
    from ..services.forecast import NOTICE

    band, relapse, booster = result.band, result.relapse, result.booster
    start_h = float(band.times_h[0])
    console.print(f"[bold]{pid}[/]: {len(request.doses)} dose(s), {len(request.ratings)} score(s); "
                  f"{'population (prior) forecast' if result.prior_only else 'individual forecast'}")  # fmt: skip
    table = Table(title=f"{band.scale.upper()} forecast (days after the forecast start, h {start_h:g})")
    for column in ("day", "median", "50% band", "90% band", "P(relapse by then)"):
        table.add_column(column, justify="right")
    for day in REPORT_DAYS:
        h = start_h + 24.0 * day
        if h > float(band.times_h[-1]) + 1e-6:
            break
        i = int(abs(band.times_h - h).argmin())
        j = int(abs(relapse.times_h - h).argmin())
        table.add_row(str(day), f"{band.median[i]:.0f}", f"{band.p25[i]:.0f}-{band.p75[i]:.0f}",
                      f"{band.p05[i]:.0f}-{band.p95[i]:.0f}", f"{100 * relapse.probability[j]:.0f}%")  # fmt: skip
    console.print(table)
    if relapse.median_h is not None:
        interval = "" if relapse.interval_h is None else (
            f" (90%: {relapse.interval_h[0] / 24:.0f}-{relapse.interval_h[1] / 24:.0f})")  # fmt: skip
        console.print(f"median relapse: day {relapse.median_h / 24:.0f} from the origin{interval}")
    else:
        console.print("median relapse: beyond the horizon")
    console.print(f"[dim]relapse: {relapse.definition}[/]")
    if booster.next_session_h is None:
        when = "none needed within the horizon"
    else:
        when = f"by h {booster.next_session_h:.0f}"
        if booster.interval_days is not None:
            when += f" ({booster.interval_days:.0f} days after the last session)"
    console.print(f"booster (keep P(relapse before it) <= {booster.alpha:g}): {when}. {booster.rationale}")
    if result.what_if:
        what_if = Table(title="what if")
        for column in ("schedule", "P(relapse by the horizon)", "expected score at the horizon"):
            what_if.add_column(column)
        for w in result.what_if:
            what_if.add_row(
                w.candidate.label, f"{100 * w.relapse_by_horizon:.0f}%", f"{w.expected_score_at_horizon:.0f}"
            )
        console.print(what_if)
    moved = ", ".join(f"{name} {100 * value:.0f}%" for name, value in result.shrinkage.items())
    console.print(f"shrinkage (how far this patient's scores narrowed each effect): {moved}")
    for warning in result.warnings:
        console.print(f"[yellow]warning[/]: {warning}")
    console.print(f"[dim]{result.model_version}; inputs {result.input_hash[:12]}. {NOTICE}[/]")
