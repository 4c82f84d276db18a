"""Fixtures of the adversarial tests: the API on a seeded clinic, on SQLite and on PostgreSQL.

PostgreSQL gets one seeded template database per test session; each test gets a copy (``CREATE DATABASE ...
TEMPLATE``), dropped afterwards. Without a reachable PostgreSQL the PostgreSQL cases skip loudly (fail on CI).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import create_engine, text

from ketamine_therapy.bootstrap import unit_of_work_factory
from ketamine_therapy.cli.serve import UVICORN_OPTIONS
from ketamine_therapy.config import Settings
from ketamine_therapy.services.demo_clinic import seed_demo_clinic
from ketamine_therapy.storage.db import make_engine
from ketamine_therapy.storage.migrate import upgrade
from tests.integration.api.conftest import Api, api_on, seeded_template
from tests.integration.conftest import POSTGRES_ADMIN_URL

__all__ = ["seeded_template"]


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """``app`` served by uvicorn with ``ketamine-therapy serve``'s options on a free local port; yields its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **UVICORN_OPTIONS))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def _admin():  # type: ignore[no-untyped-def]
    return create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """The name of a migrated PostgreSQL database seeded with 3 demo patients."""
    admin = _admin()
    name = f"kt_adv_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        if os.environ.get("CI"):
            raise
        pytest.skip(f"!!! PostgreSQL NOT TESTED: cannot reach {POSTGRES_ADMIN_URL}: {exc}")
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    new_uow = unit_of_work_factory(Settings(database_url=url))
    seed_demo_clinic(new_uow, n_patients=3, seed=5, today=date.today())  # noqa: DTZ011 - the clinic's calendar day
    new_uow.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh copy of the seeded PostgreSQL clinic."""
    admin = _admin()
    name = f"kt_adv_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, seeded_template: Path, tmp_path: Path) -> str:
    """A fresh seeded clinic on each database."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    path = tmp_path / "clinic.db"
    shutil.copy(seeded_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def db_api(database_url: str) -> Iterator[Api]:
    """The API on a fresh seeded clinic, on SQLite and on PostgreSQL."""
    yield from api_on(database_url)


@pytest.fixture
def api(seeded_template: Path, tmp_path: Path) -> Iterator[Api]:
    """The API on a fresh seeded clinic on SQLite (for the items that do not depend on the database)."""
    path = tmp_path / "clinic.db"
    shutil.copy(seeded_template, path)
    yield from api_on(f"sqlite:///{path}")
