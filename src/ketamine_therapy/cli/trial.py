"""``ketamine-therapy trial run SPEC``: in-silico trials from a YAML or JSON spec (docs/trials.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.table import Table

    from ..pharmacology.trials import Estimate, TrialResult, TrialSpec

from .output import JsonOption, print_json

trial_app = typer.Typer(help="In-silico trials of regimens (spec format: docs/trials.md).", no_args_is_help=True)


def _format(kind: str, value: Estimate) -> str:
    """An estimate and its interval in the endpoint's unit."""
    estimate, low, high = value.formatted(kind)
    return f"{estimate} [{low}, {high}]"


def _table(result: TrialResult) -> Table:
    from rich.table import Table

    table = Table(title=f"{result.name}: estimate [95% CI] (seed {result.seed})")
    table.add_column("endpoint")
    table.add_column("kind")
    for arm in result.arms:
        table.add_column(f"{arm.name}\n(n={arm.n:,})", justify="right")
    for endpoint_id, kind in result.endpoint_kinds.items():
        table.add_row(endpoint_id, kind, *(_format(kind, arm.endpoints[endpoint_id]) for arm in result.arms))
    return table


def _read_spec(spec: str) -> TrialSpec:
    """The spec in the file ``spec``, else the example of that name; else ``InvalidInputError`` on ``spec``."""
    from ..pharmacology.exceptions import InvalidInputError
    from ..pharmacology.trials.example_specs import example_specs
    from ..validation.trial_spec import load_trial_spec, read_trial_spec

    path = Path(spec)
    if path.is_file():
        return load_trial_spec(path)
    examples = example_specs()
    if spec in examples:
        return read_trial_spec(examples[spec].read_text("utf-8"), "yaml")
    raise InvalidInputError("spec", f"no file or example named {spec!r}", "a spec file, or " + ", ".join(examples))


@trial_app.command("run")
def run(
    spec: Annotated[
        str, typer.Argument(help="a trial spec file (.yaml or .json) or an example's name (trial examples)")
    ],
    as_json: JsonOption = False,
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
    from .. import DISCLAIMER
    from ..pharmacology.trials import DEFAULT_CHUNK_SIZE, run_trial
    from .main import _domain_errors, _progress, console

    with _domain_errors():
        trial = _read_spec(spec)
        with _progress(True) as progress:
            size = DEFAULT_CHUNK_SIZE if chunk_size is None else chunk_size
            result = run_trial(trial, workers, scheduler, progress, size, uncertainty=uncertainty)
    if plot is not None:
        from ..plots.trials import plot_trial

        plot_trial(result, plot)
    if as_json:
        print_json(result.to_dict())
        return
    console.print(_table(result))
    console.print(f"[dim]response model {result.response_model_version}; spec {spec}[/]")
    if plot is not None:
        console.print(f"plot written to {plot}")
    console.print(f"[dim]{DISCLAIMER}[/]")


@trial_app.command("examples")
def examples(as_json: JsonOption = False) -> None:
    """List the example specs shipped with the package (run one with ``trial run NAME``)."""
    from ..pharmacology.trials.example_specs import example_specs

    found = {name: _summary(spec.read_text("utf-8")) for name, spec in example_specs().items()}
    if as_json:
        print_json({"examples": [{"name": name, "summary": summary} for name, summary in found.items()]})
        return
    for name, summary in found.items():
        typer.echo(f"{name}: {summary}" if summary else name)


def _summary(text: str) -> str:
    """The first comment line of an example spec (its trial and source)."""
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    return first.lstrip("# ").strip() if first.startswith("#") else ""


@trial_app.command("schema")
def schema() -> None:
    """Print the JSON Schema of a trial spec (the shape; the ranges and model limits are checked on run)."""
    from ..validation.trial_spec import trial_spec_schema

    print_json(trial_spec_schema())
