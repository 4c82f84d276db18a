"""Composition root: settings -> engine -> unit-of-work factory. Nothing is built at import time."""

from __future__ import annotations

from .config import Settings
from .storage.db import make_engine, make_session_factory
from .storage.repositories import SqlUnitOfWork


class UnitOfWorkFactory:
    """Calling it gives a fresh unit of work on the configured database; ``dispose()`` closes its connections."""

    def __init__(self, settings: Settings) -> None:
        self.engine = make_engine(settings.database_url)
        self._sessions = make_session_factory(self.engine)

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions)

    def dispose(self) -> None:
        """Close the pooled connections (at shutdown)."""
        self.engine.dispose()


def unit_of_work_factory(settings: Settings) -> UnitOfWorkFactory:
    """A factory of units of work on the configured database."""
    return UnitOfWorkFactory(settings)
