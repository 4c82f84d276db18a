"""Composition root: settings -> engine -> unit-of-work factory. Nothing is built at import time.

The app (``app.create_app``) and every command that touches the database build their units of work here and
nowhere else (a test checks the CLI); :func:`units_of_work` and :func:`database_engine` close the connections
when the command is done.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from .config import Settings
from .storage.db import make_engine, make_session_factory
from .storage.unit_of_work import SqlUnitOfWork


class UnitOfWorkFactory:
    """Calling it gives a fresh unit of work on the database at ``url``; ``dispose()`` closes its connections."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._sessions = make_session_factory(self.engine)

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions)

    def dispose(self) -> None:
        """Close the pooled connections (at shutdown)."""
        self.engine.dispose()


def unit_of_work_factory(settings: Settings) -> UnitOfWorkFactory:
    """A factory of units of work on the configured database (the caller disposes it)."""
    return UnitOfWorkFactory(settings.database_url)


def _url(url: str | None) -> str:
    return url or Settings().database_url


@contextmanager
def units_of_work(url: str | None = None) -> Iterator[UnitOfWorkFactory]:
    """Units of work for one command on ``url`` (default: the settings'); the connections close afterwards."""
    factory = UnitOfWorkFactory(_url(url))
    try:
        yield factory
    finally:
        factory.dispose()


@contextmanager
def database_engine(url: str | None = None) -> Iterator[Engine]:
    """The engine on ``url`` (default: the settings') for migrations; its connections close afterwards."""
    engine = make_engine(_url(url))
    try:
        yield engine
    finally:
        engine.dispose()
