"""``ketamine-therapy calibrate``: fit the response model to published trials, with parameter uncertainty."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from .output import JsonOption, print_json

if TYPE_CHECKING:
    from ..pharmacology.response.calibration import Row

console = Console(stderr=True)
HEADER = "# Response-model {what}. Written by `ketamine-therapy calibrate`; do not edit by hand.\n"


def default_output() -> Path:
    """The user's data directory for calibrations (``$XDG_DATA_HOME`` or ``~/.local/share``), not the package."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "ketamine-therapy" / "calibration"


def print_rows(rows: list[Row], title: str) -> None:
    """Published value (with SE), model (with Monte-Carlo SE), band and verdict of every target."""
    from rich.table import Table

    table = Table(title=title)
    for column in ("target", "published (SE)", "model (MC SE)", "band", "", "result"):
        table.add_column(column)
    for r in rows:
        table.add_row(r.id, f"{r.target:.3g} ({r.se:.2g})", f"{r.model:.3g} ({r.mc_se:.2g})",
                      f"±{r.band:.2g}" + (" log" if r.on_log_scale else ""), "held out" if r.held_out else "fitted",
                      "pass" if r.passed else "MISS")  # fmt: skip
    Console(width=160).print(table)


def calibrate(
    n: Annotated[int, typer.Option("--n", help="virtual patients per calibration arm")] = 2000,
    max_evaluations: Annotated[int, typer.Option(help="objective evaluations (least squares)")] = 600,
    draws: Annotated[int, typer.Option(help="posterior parameter draws to write")] = 200,
    seed: Annotated[int, typer.Option(help="seed of the virtual populations and the draws")] = 20261205,
    output: Annotated[
        Path | None,
        typer.Option(
            help="directory for response_model.yaml and response_posterior.yaml (default: the user data directory)"
        ),
    ] = None,
    write: Annotated[bool, typer.Option(help="write the fitted parameters and draws")] = True,
    as_json: JsonOption = False,
) -> None:
    """Fit the antidepressant-response model to the trial targets; print published vs model for every target."""
    import yaml
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..pharmacology.response.calibration import (
        Calibration,
        draws_document,
        fit,
        laplace_draws,
        parameters_document,
    )

    calibration = Calibration(n_per_arm=n, seed=seed)
    console.print(f"preparing {len(calibration.arms)} arms x {n} virtual patients (PK stimulus) ...")
    calibration.prepared  # noqa: B018 - PK once, before the progress bar
    columns = (TextColumn("fitting"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("", total=max_evaluations)

        def progress(count: int, best: float) -> None:
            bar.update(task, completed=min(count, max_evaluations), description=f"best {best:.2f}")

        result = fit(calibration, max_evaluations=max_evaluations, progress=progress)
    console.print(f"objective {result.objective:.3f} after {result.evaluations} evaluations")
    rows = calibration.rows(result.params)
    if not as_json:
        print_rows(rows, "Calibration: published target vs model")
    folder = (output or default_output()) if write else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        document = parameters_document(result, calibration)
        (folder / "response_model.yaml").write_text(HEADER.format(what="parameters") + yaml.safe_dump(document,
                                                    sort_keys=False))  # fmt: skip
        sample = draws_document(laplace_draws(result, draws, seed), str(document["version"]))
        (folder / "response_posterior.yaml").write_text(HEADER.format(what="posterior draws") + yaml.safe_dump(
            sample, sort_keys=False, default_flow_style=None))  # fmt: skip
        console.print(f"parameters and {draws} posterior draws written to {folder}")
    if as_json:
        targets = [{"id": r.id, "kind": r.kind, "published": r.target, "se": r.se, "model": r.model,
                    "mc_se": r.mc_se, "band": r.band, "log_scale": r.on_log_scale, "held_out": r.held_out,
                    "passed": r.passed, "source": r.source} for r in rows]  # fmt: skip
        print_json({"objective": result.objective, "evaluations": result.evaluations,
                    "written_to": None if folder is None else str(folder), "targets": targets})  # fmt: skip
