"""``ketamine-therapy db upgrade|downgrade|current``."""

from __future__ import annotations

from typing import Annotated

import typer

from .output import JsonOption, print_json

db_app = typer.Typer(help="Database migrations (SQLite by default; PostgreSQL via KETAMINE_THERAPY_DATABASE_URL).",
                     no_args_is_help=True)  # fmt: skip

UrlOption = Annotated[str | None, typer.Option("--url", help="database URL (default: settings / environment)")]


@db_app.command("upgrade")
def upgrade(
    revision: Annotated[str, typer.Argument()] = "head", url: UrlOption = None, as_json: JsonOption = False
) -> None:
    """Migrate the database up to REVISION (default: the latest)."""
    from ..bootstrap import database_engine
    from ..storage.migrate import current_revision
    from ..storage.migrate import upgrade as run

    with database_engine(url) as engine:
        run(engine, revision)
        _report(current_revision(engine), engine.url.render_as_string(), as_json)


@db_app.command("downgrade")
def downgrade(
    revision: Annotated[str, typer.Argument(help="target revision, 'base' = empty")],
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Migrate the database down to REVISION."""
    from ..bootstrap import database_engine
    from ..storage.migrate import current_revision
    from ..storage.migrate import downgrade as run

    with database_engine(url) as engine:
        run(engine, revision)
        _report(current_revision(engine), engine.url.render_as_string(), as_json)


def _report(revision: str | None, url: str, as_json: bool) -> None:
    """The database's revision after a migration (the URL with its password hidden)."""
    if as_json:
        print_json({"revision": revision, "database": url})
    else:
        typer.echo(f"database at revision {revision} ({url})")
