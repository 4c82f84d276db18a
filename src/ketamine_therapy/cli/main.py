"""The ``ketamine-therapy`` command.

The command modules import only Typer, Rich and the standard library at the top; each command imports the
pharmacology, services and storage it uses when it runs, so ``--help`` and ``--version`` load no numba or scipy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from .. import DISCLAIMER, __version__
from .calibrate import calibrate
from .db import db_app
from .forecast import forecast
from .output import JsonOption, print_json
from .serve import serve
from .trial import trial_app
from .users import users_app

if TYPE_CHECKING:
    from ..services.pk_report import PKReport

app = typer.Typer(
    help=f"ketamine-therapy: run a ketamine-therapy program, grounded in pharmacology. {DISCLAIMER}",
    no_args_is_help=True,
    add_completion=False,
)
models_app = typer.Typer(help="Published PK models in the registry.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(db_app, name="db")
app.add_typer(trial_app, name="trial")
app.add_typer(users_app, name="users")
app.command()(calibrate)
app.command()(serve)
app.command()(forecast)

console = Console(width=None if Console().is_terminal else 120)
errors = Console(stderr=True)
EXIT_INVALID = 2


def _print_version(requested: bool) -> None:
    if requested:
        typer.echo(f"ketamine-therapy {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """The options every command shares (``--version``, handled eagerly by its callback)."""


@contextmanager
def _domain_errors() -> Iterator[None]:
    """Turn domain errors into a message naming the field and exit code 2."""
    from ..pharmacology.exceptions import InvalidInputError, PharmacologyError

    try:
        yield
    except InvalidInputError as exc:
        errors.print(f"[bold red]error[/]: {exc}", markup=True, highlight=False)
        raise typer.Exit(EXIT_INVALID) from None
    except PharmacologyError as exc:
        errors.print(f"[bold red]error[/]: {exc}", markup=True, highlight=False)
        raise typer.Exit(1) from None


def _parse_days(text: str) -> list[int]:
    from ..pharmacology.exceptions import InvalidInputError

    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InvalidInputError("days", f"could not read {text!r}", "comma-separated whole days, e.g. 1,3,5") from None


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("simulating"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    ) as bar:
        task = bar.add_task("subjects", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _print_report(report: PKReport) -> None:
    from rich.table import Table

    data = report.to_dict()
    console.print(f"[bold]{data['drug']}[/] with model [bold]{report.model.id}[/]: {report.model.name}")
    for dose in data["regimen"][:8]:
        amount = f"{dose['amount_mg']:g} mg" if dose["amount_mg"] else f"{dose['amount_mg_per_kg']:g} mg/kg"
        infusion = f" over {dose['duration_h'] * 60:g} min" if dose["duration_h"] else ""
        console.print(f"  day {dose['time_h'] / 24 + 1:g}: {amount} {dose['route']}{infusion}")
    if len(data["regimen"]) > 8:
        console.print(f"  ... {len(data['regimen'])} doses in all")
    table = Table(title=f"Exposure over {data['window_h']:g} h (typical {data['subject']['weight_kg']:g} kg subject)")
    table.add_column("analyte")
    table.add_column("Cmax ng/mL", justify="right")
    table.add_column("Cmax µM", justify="right")
    table.add_column("Tmax h", justify="right")
    table.add_column("AUC ng·h/mL", justify="right")
    if report.percentiles:
        table.add_column(f"Cmax p5/p50/p95 (n={data['n']:,})", justify="right")
        table.add_column("AUC p5/p50/p95", justify="right")
    for analyte, m in data["analytes"].items():
        row = [
            analyte,
            f"{m['cmax_ng_ml']:.1f}",
            f"{m['cmax_um']:.3f}",
            f"{m['tmax_h']:.2f}",
            f"{m['auc_ng_h_ml']:.0f}",
        ]
        if "percentiles" in m:
            p = m["percentiles"]
            row.append("{p5:.0f}/{p50:.0f}/{p95:.0f}".format(**p["cmax_ng_ml"]))
            row.append("{p5:.0f}/{p50:.0f}/{p95:.0f}".format(**p["auc_ng_h_ml"]))
        table.add_row(*row)
    console.print(table)
    for note in data["notes"]:
        console.print(f"[dim]note: {note}[/]")
    console.print(f"[dim]{DISCLAIMER}[/]")


def _emit(report: PKReport, as_json: bool, plot: Path | None) -> None:
    if plot is not None:
        from ..plots.pk import plot_pk_report

        plot_pk_report(report, plot)
    if as_json:
        payload: dict[str, Any] = report.to_dict()
        if plot is not None:
            payload["plot"] = str(plot)
        print_json(payload)
    else:
        _print_report(report)
        if plot is not None:
            console.print(f"plot written to {plot}")


@app.command()
def simulate(
    drug: Annotated[str, typer.Option(help="racemic-ketamine, esketamine or s-ketamine")] = "racemic-ketamine",
    route: Annotated[
        str | None,
        typer.Option(help="iv, im, intranasal, sublingual, oral, rectal (default by drug)"),
    ] = None,
    dose_mg: Annotated[
        float | None,
        typer.Option(help="dose in mg (base); esketamine nasal: 28-112 in 28 mg devices"),
    ] = None,
    dose_mg_per_kg: Annotated[float | None, typer.Option(help="dose in mg/kg (base)")] = None,
    duration_min: Annotated[
        float | None, typer.Option(help="IV infusion duration, min (0 = bolus; default 40)")
    ] = None,
    weight_kg: Annotated[float, typer.Option(help="body weight, kg")] = 70.0,
    age_y: Annotated[float, typer.Option("--age", help="age, years")] = 40.0,
    sex: Annotated[str, typer.Option(help="male or female")] = "male",
    hours: Annotated[
        float | None, typer.Option(help="window after the first dose, h (default: last day + 24 h)")
    ] = None,
    step_min: Annotated[float | None, typer.Option(help="output every N minutes (default 1, or 5 beyond 48 h)")] = None,
    model: Annotated[str | None, typer.Option(help="model id (see `models list`); default per drug")] = None,
    days: Annotated[str, typer.Option(help="comma-separated treatment days, day 1 = first dose")] = "1",
    n: Annotated[
        int,
        typer.Option("--n", help="population size with inter-individual variability (0 = typical only)"),
    ] = 0,
    seed: Annotated[int | None, typer.Option(help="random seed for the population")] = None,
    plot: Annotated[Path | None, typer.Option(help="write a PNG of the curves")] = None,
    as_json: JsonOption = False,
    extrapolate: Annotated[bool, typer.Option(help="allow doses/subjects outside the model's validated range")] = False,
) -> None:
    """Simulate plasma concentrations of a drug and its metabolite for a dose or schedule."""
    from ..pharmacology import parse_route
    from ..pharmacology.exceptions import InvalidInputError
    from ..services.pk_report import Scenario, run_pk_report

    with _domain_errors():
        if sex not in ("male", "female"):
            raise InvalidInputError("sex", f"got {sex!r}", "male, female")
        scenario = Scenario(
            drug=drug, route=parse_route(route) if route else None, dose_mg=dose_mg, dose_mg_per_kg=dose_mg_per_kg,
            duration_min=duration_min, days=_parse_days(days), weight_kg=weight_kg, age_y=age_y,
            female=sex == "female", hours=hours, step_min=step_min, model=model, n=n, seed=seed,
            extrapolate=extrapolate,
        )  # fmt: skip
        with _progress(n >= 20_000 and not as_json) as progress:
            report = run_pk_report(scenario, progress)
        _emit(report, as_json, plot)


demo_app = typer.Typer(help="Demos: the IV series simulation (default) and a seeded demo clinic.")
app.add_typer(demo_app, name="demo")


@demo_app.callback(invoke_without_command=True)
def demo(
    ctx: typer.Context,
    plot: Annotated[Path, typer.Option(help="where to write the plot")] = Path("demo-iv-series.png"),
    n: Annotated[int, typer.Option("--n", help="population size")] = 1000,
    as_json: JsonOption = False,
) -> None:
    """Demo: the IV acute series (0.5 mg/kg over 40 min on days 1, 3, 5, 8, 10, 12) for a population."""
    if ctx.invoked_subcommand is not None:
        return
    from ..pharmacology import Route
    from ..services.pk_report import Scenario, run_pk_report

    with _domain_errors():
        scenario = Scenario(
            route=Route.IV,
            dose_mg_per_kg=0.5,
            duration_min=40,
            days=[1, 3, 5, 8, 10, 12],
            hours=13 * 24,
            n=n,
            seed=1,
        )
        report = run_pk_report(scenario)
        _emit(report, as_json, plot)


@demo_app.command("seed")
def demo_seed(
    url: Annotated[str | None, typer.Option("--url", help="database URL (default: settings / environment)")] = None,
    patients: Annotated[int, typer.Option(help="number of synthetic patients")] = 30,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    as_json: JsonOption = False,
) -> None:
    """Create (migrate) the database and seed a synthetic clinic: patients on IV, Spravato and IM courses."""
    from dataclasses import asdict

    from ..bootstrap import units_of_work
    from ..services.demo_clinic import seed_demo_clinic
    from ..storage.migrate import upgrade

    with units_of_work(url) as new_uow:
        upgrade(new_uow.engine)
        summary = seed_demo_clinic(new_uow, n_patients=patients, seed=seed)
        where = new_uow.engine.url.render_as_string()
    if as_json:
        print_json({**asdict(summary), "database": where})
        return
    console.print(
        f"seeded {summary.patients} synthetic patients ({summary.by_course}), {summary.sessions_run} sessions run, "
        f"{summary.scales} MADRS ratings, {summary.rems_forms} REMS forms into {where}"
    )


@models_app.command("list")
def models_list(as_json: JsonOption = False) -> None:
    """List the registered models."""
    from rich.table import Table

    from ..pharmacology import list_models

    if as_json:
        print_json({"models": [{"id": m.id, "drug": m.drug, "routes": [r.value for r in m.routes],
                                "population": m.population, "name": m.name} for m in list_models()]})  # fmt: skip
        return
    table = Table(title="PK models")
    for column in ("id", "drug", "routes", "population", "name"):
        table.add_column(column)
    for m in list_models():
        table.add_row(m.id, m.drug, ", ".join(r.value for r in m.routes), m.population[:40], m.name)
    console.print(table)


@models_app.command("show")
def models_show(model_id: Annotated[str, typer.Argument(help="model id")], as_json: JsonOption = False) -> None:
    """Show a model's published parameters with their sources."""
    from rich.table import Table

    from ..pharmacology import get_model

    with _domain_errors():
        m = get_model(model_id)
    if as_json:
        print_json({"id": m.id, "name": m.name, "reference": m.reference,
                    "parameters": [{"name": p.name, "value": p.value, "unit": p.unit, "evidence": p.evidence,
                                    "source": p.source} for p in m.published.values()]})  # fmt: skip
        return
    console.print(f"[bold]{m.id}[/] - {m.name}\n{m.reference}\n")
    table = Table()
    for column in ("parameter", "value", "unit", "evidence", "source"):
        table.add_column(column)
    for p in m.published.values():
        table.add_row(p.name, f"{p.value:g}", p.unit, p.evidence, p.source)
    console.print(table)
