"""``ketamine-therapy calibrate``: fit the response model to published trials."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.table import Table

console = Console(stderr=True)

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "pharmacology" / "data" / "response_model.yaml"


def print_rows(rows: list, title: str) -> None:  # type: ignore[type-arg]
    """Target, model value and tolerance side by side."""
    table = Table(title=title)
    for column in ("target", "published", "model", "tolerance", "fitted", "result", "source"):
        table.add_column(column)
    for r in rows:
        ordering = r.tolerance == float("inf")
        result = ("holds" if r.model >= 0 else "FAILS") if ordering else ("pass" if r.passed else "MISS")
        table.add_row(
            r.id, "-" if ordering else f"{r.target:g}", f"{r.model:.3g}", "-" if ordering else f"{r.tolerance:g}",
            "held out" if r.held_out else "fitted", result, r.source[:60],
        )  # fmt: skip
    Console(width=160).print(table)


def calibrate(
    n: Annotated[int, typer.Option("--n", help="virtual patients per calibration arm")] = 1000,
    max_evaluations: Annotated[int, typer.Option(help="objective evaluations (Powell)")] = 3000,
    seed: Annotated[int, typer.Option(help="seed of the virtual populations")] = 20261121,
    output: Annotated[Path, typer.Option(help="where to write the fitted parameters")] = DEFAULT_OUTPUT,
    write: Annotated[bool, typer.Option(help="write the fitted parameters")] = True,
) -> None:
    """Fit the antidepressant-response model to the trial targets and print target vs model."""
    from ..pharmacology.response.calibration import Calibration, fit, parameters_document

    calibration = Calibration(n_per_arm=n, seed=seed)
    console.print(f"preparing {len(calibration.arms)} arms x {n} virtual patients (PK, occupancy) ...")
    with console.status("fitting") as status:

        def progress(count: int, best: float) -> None:
            if count % 25 == 0:
                status.update(f"fitting: {count} evaluations, best objective {best:.3f}")

        params, objective = fit(calibration, max_evaluations=max_evaluations, progress=progress)
    console.print(f"objective {objective:.3f}")
    print_rows(calibration.rows(params), "Calibration: published target vs model")
    if write:
        document = parameters_document(params, calibration, objective)
        header = "# Response-model parameters. Written by `ketamine-therapy calibrate`; do not edit by hand.\n"
        output.write_text(header + yaml.safe_dump(document, sort_keys=False))
        console.print(f"parameters written to {output}")
