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
    # api and web go through the services and share the HTTP pieces of ketamine_therapy.http, never each other
    "http": {"ketamine_therapy.storage", "sqlalchemy", "alembic", "ketamine_therapy.api", "ketamine_therapy.web",
             "ketamine_therapy.cli", "ketamine_therapy.bootstrap", "ketamine_therapy.app"},
    "api": {"ketamine_therapy.storage", "sqlalchemy", "alembic", "ketamine_therapy.web", "ketamine_therapy.cli"},
    "web": {"ketamine_therapy.storage", "sqlalchemy", "alembic", "ketamine_therapy.api", "ketamine_therapy.cli"},
    # the CLI gets its units of work and engines from the composition root (bootstrap), which disposes them
    "cli": {"ketamine_therapy.storage.db", "ketamine_therapy.storage.repositories",
            "ketamine_therapy.storage.unit_of_work", "sqlalchemy", "ketamine_therapy.api", "ketamine_therapy.web",
            "ketamine_therapy.http"},
}  # fmt: skip
COMPOSITION_ROOT = {"bootstrap.py"}
"""The one module outside storage/ that constructs the SQL unit of work."""


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


def test_only_the_composition_root_builds_the_sql_unit_of_work() -> None:
    builders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE)
        if where.parts[0] == "storage" or str(where) in COMPOSITION_ROOT:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in {
                "SqlUnitOfWork", "make_session_factory", "make_engine"}:  # fmt: skip
                builders.append(f"{where}:{node.lineno}")
    assert not builders, "build units of work and engines through ketamine_therapy.bootstrap: " + ", ".join(builders)


def test_the_cli_uses_the_composition_root() -> None:
    users = {p.name for p in (PACKAGE / "cli").glob("*.py") if "ketamine_therapy.bootstrap" in _imports(p)}
    assert {"db.py", "main.py", "serve.py", "users.py"} <= users


def test_the_shared_errors_import_nothing() -> None:
    """``ketamine_therapy.errors`` sits below every layer (pharmacology and clinic derive from it)."""
    assert _imports(PACKAGE / "errors.py") <= {"__future__"}
