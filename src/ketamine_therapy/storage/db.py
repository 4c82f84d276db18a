"""Engines and sessions: SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from ..clinic.sessions import ConcurrentSessionError
from ..services.ports import StaleVersionError
from .tables.treatment import ONE_OPEN_SESSION_INDEX

SQLITE_BUSY_SNAPSHOT = 517
"""SQLite's answer to a write from a transaction whose snapshot another writer has since changed."""
SERIALIZATION_FAILURES = frozenset({"40001", "40P01"})
"""PostgreSQL's serialization failure and deadlock: a concurrent writer won."""


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys on and a busy timeout.

    Every engine hides bound parameters from its error messages and logs: a failed statement must not write
    patients' names, birth dates or insurance data into the application log.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that never expire loaded rows on commit."""
    return sessionmaker(engine, expire_on_commit=False)


def _lost_race(exc: OperationalError) -> bool:
    orig = exc.orig
    if isinstance(orig, sqlite3.OperationalError):
        return getattr(orig, "sqlite_errorcode", None) == SQLITE_BUSY_SNAPSHOT
    return getattr(orig, "sqlstate", None) in SERIALIZATION_FAILURES


def _second_open_session(exc: IntegrityError) -> bool:
    """Whether ``exc`` is the one-open-session index refusing a second open session of a patient (PostgreSQL names
    the index; SQLite names the indexed column)."""
    diag = getattr(exc.orig, "diag", None)
    if diag is not None:
        return getattr(diag, "constraint_name", None) == ONE_OPEN_SESSION_INDEX
    return "treatment_sessions.patient_id" in str(exc.orig)


def store_conflict(exc: BaseException | None, what: str) -> StaleVersionError | ConcurrentSessionError | None:
    """The domain error that ``exc`` stands for, if it is a concurrent writer's win.

    The one translation of write races: SQLAlchemy's version check (``StaleDataError``), SQLite's stale snapshot and
    PostgreSQL's serialization failure all mean "changed by someone else; reload" (:class:`StaleVersionError`, HTTP
    412); the one-open-session index means another session of the patient was opened meanwhile
    (:class:`ConcurrentSessionError`). The unit of work applies it to whatever ends its transaction, so an autoflush
    inside any query is covered too.
    """
    if isinstance(exc, StaleDataError) or (isinstance(exc, OperationalError) and _lost_race(exc)):
        return StaleVersionError(f"{what} was changed by someone else; reload and try again")
    if isinstance(exc, IntegrityError) and _second_open_session(exc):
        return ConcurrentSessionError(
            "another session of this patient was opened at the same moment: two sessions never run at once"
        )
    return None


@contextmanager
def store_conflicts(what: str) -> Iterator[None]:
    """:func:`store_conflict` around a flush or commit, naming the record."""
    try:
        yield
    except (StaleDataError, OperationalError, IntegrityError) as exc:
        conflict = store_conflict(exc, what)
        if conflict is None:
            raise
        raise conflict from exc
