"""``ketamine-therapy trial run SPEC``: in-silico trials from a YAML or JSON spec (docs/trials.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

if TYPE_CHECKING:
    from ..pharmacology.trials import Estimate, TrialResult

trial_app = typer.Typer(help="In-silico trials of regimens (spec format: docs/trials.md).", no_args_is_help=True)


def _format(kind: str, value: Estimate) -> str:
    """An estimate and its interval in the endpoint's unit."""
    estimate, low, high = value.formatted(kind)
    return f"{estimate} [{low}, {high}]"


def _table(result: TrialResult) -> Table:
    table = Table(title=f"{result.name}: estimate [95% CI] (seed {result.seed})")
    table.add_column("endpoint")
    table.add_column("kind")
    for arm in result.arms:
        table.add_column(f"{arm.name}\n(n={arm.n:,})", justify="right")
    for endpoint_id, kind in result.endpoint_kinds.items():
        table.add_row(endpoint_id, kind, *(_format(kind, arm.endpoints[endpoint_id]) for arm in result.arms))
    return table


@trial_app.command("run")
def run(
    spec: Annotated[Path, typer.Argument(help="trial spec (.yaml or .json)", exists=True, dir_okay=False)],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    plot: Annotated[Path | None, typer.Option(help="write a PNG of the mean course per arm")] = None,
    workers: Annotated[int | None, typer.Option(help="run on a local Dask cluster of N worker processes")] = None,
    scheduler: Annotated[str | None, typer.Option(help="run on the Dask scheduler at this address")] = None,
    chunk_size: Annotated[int | None, typer.Option(help="patients per chunk (default 1000)")] = None,
    uncertainty: Annotated[
        str,
        typer.Option(
            help="intervals from sampling only, or also from the response "
            "model's parameter uncertainty (posterior draws): sampling | "
            "parameters"
        ),
    ] = "sampling",
) -> None:
    """Simulate a trial: per-arm endpoints with 95% intervals, costs per responder/remitter, mean course."""
    from ..pharmacology.trials import DEFAULT_CHUNK_SIZE, run_trial
    from ..services.pk_report import DISCLAIMER
    from ..validation.trial_spec import load_trial_spec
    from .main import _domain_errors, _progress, console

    with _domain_errors():
        trial = load_trial_spec(spec)
        with _progress(True) as progress:
            size = DEFAULT_CHUNK_SIZE if chunk_size is None else chunk_size
            result = run_trial(trial, workers, scheduler, progress, size, uncertainty=uncertainty)
    if plot is not None:
        from ..trial_charts import plot_trial

        plot_trial(result, plot)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    console.print(_table(result))
    console.print(f"[dim]response model {result.response_model_version}; spec {spec}[/]")
    if plot is not None:
        console.print(f"plot written to {plot}")
    console.print(f"[dim]{DISCLAIMER}[/]")


@trial_app.command("schema")
def schema() -> None:
    """Print the JSON Schema of a trial spec (the shape; the ranges and model limits are checked on run)."""
    from ..validation.trial_spec import trial_spec_schema

    typer.echo(json.dumps(trial_spec_schema(), indent=2))
