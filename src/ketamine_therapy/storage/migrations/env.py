"""Alembic environment: runs migrations on the connection or URL handed over by storage.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool

from ketamine_therapy.storage.tables import (  # noqa: F401 - registers every table on Base.metadata
    Base,
    accounts,
    administration,
    patients,
    treatment,
)

config = context.config
target_metadata = Base.metadata


def run() -> None:
    """Run migrations online (always: the project never emits offline SQL)."""
    connection = config.attributes.get("connection")
    if connection is None:
        engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                    poolclass=pool.NullPool, hide_parameters=True)  # fmt: skip
        with engine.connect() as conn:
            _migrate(conn)
    else:
        _migrate(connection)


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
