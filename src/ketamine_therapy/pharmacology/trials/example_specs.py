"""The example trial specs shipped in the package (``examples/``: one per calibration trial, docs/trials.md)."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable


def example_specs() -> dict[str, Traversable]:
    """The example specs by name (file name without ``.yaml``), sorted; read one with ``.read_text("utf-8")``."""
    folder = resources.files(__package__).joinpath("examples")
    files = sorted((p for p in folder.iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name)
    return {p.name.removesuffix(".yaml"): p for p in files}
