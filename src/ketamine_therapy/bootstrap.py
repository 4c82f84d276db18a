"""Composition root: settings -> engine -> unit-of-work factory. Nothing is built at import time."""

from __future__ import annotations

from collections.abc import Callable

from .config import Settings
from .storage.db import make_engine, make_session_factory
from .storage.repositories import SqlUnitOfWork


def unit_of_work_factory(settings: Settings) -> Callable[[], SqlUnitOfWork]:
    """A callable returning a fresh unit of work on the configured database."""
    factory = make_session_factory(make_engine(settings.database_url))
    return lambda: SqlUnitOfWork(factory)
