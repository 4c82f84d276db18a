"""What every command shares for its ``--json`` output."""

from __future__ import annotations

import json
from typing import Annotated

import typer

JsonOption = Annotated[bool, typer.Option("--json", help="print one JSON object")]


def print_json(payload: object) -> None:
    """One JSON object on stdout."""
    typer.echo(json.dumps(payload, indent=2))
