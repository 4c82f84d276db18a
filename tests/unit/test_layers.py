"""Imports point inward (DESIGN.md section 2): the core imports no framework, services no storage."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "ketamine_therapy"
FRAMEWORKS = {"sqlalchemy", "alembic", "fastapi", "starlette", "jinja2", "typer", "rich", "pydantic",
              "pydantic_settings", "dask", "distributed", "matplotlib", "psycopg"}  # fmt: skip
LAZY_ONLY = {"dask", "distributed"}  # optional compute backends: allowed only inside functions (imported lazily)
EDGES = {"ketamine_therapy.services", "ketamine_therapy.storage", "ketamine_therapy.cli", "ketamine_therapy.config"}
RULES = {
    "pharmacology": (FRAMEWORKS - LAZY_ONLY) | EDGES | {"ketamine_therapy.clinic"},
    "clinic": FRAMEWORKS | EDGES | {"numpy", "scipy", "numba"},
    "services": FRAMEWORKS | (EDGES - {"ketamine_therapy.services"}),
    "api": {"ketamine_therapy.storage", "sqlalchemy", "alembic"},  # api and web go through the services
    "web": {"ketamine_therapy.storage", "sqlalchemy", "alembic"},
}


def _imports(path: Path, module_level_only: bool = False) -> set[str]:
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    found: set[str] = set()
    tree = ast.parse(path.read_text())
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # resolve a relative import against this module
                base = module.split(".")[: -node.level]
                found.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                found.add(node.module)
    return found


@pytest.mark.parametrize("layer", sorted(RULES))
def test_layer_imports_no_forbidden_module(layer: str) -> None:
    violations = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in _imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in RULES[layer]):
                violations.append(f"{path.relative_to(PACKAGE)} imports {name}")
        for name in _imports(path, module_level_only=True):
            if name.split(".")[0] in LAZY_ONLY:
                violations.append(f"{path.relative_to(PACKAGE)} imports {name} at module level (import it lazily)")
    assert not violations, "\n".join(violations)
