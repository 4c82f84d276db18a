"""``ketamine-therapy serve``: migrate the database, (in demo mode) seed the demo clinic, and serve the app."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

console = Console()

UVICORN_OPTIONS: dict[str, object] = {"log_level": "warning", "server_header": False, "proxy_headers": False}
"""No ``Server: uvicorn`` banner; proxy headers are the app's (trusted only from ``trusted_proxies``), not uvicorn's
(which would trust any local client)."""


def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    demo: Annotated[bool, typer.Option(help="seed the synthetic demo clinic (once) and print demo logins")] = False,
    patients: Annotated[int, typer.Option(help="demo patients to seed into an empty database")] = 30,
) -> None:
    """Serve the clinic's web app and API on SQLite by default (KETAMINE_THERAPY_DATABASE_URL for PostgreSQL)."""
    import uvicorn

    from ..app import create_app
    from ..bootstrap import database_engine, units_of_work
    from ..config import Settings
    from ..services.accounts.users import ensure_admin
    from ..services.authorization import SYSTEM
    from ..services.demo_clinic import demo_logins, seed_demo_clinic
    from ..services.patients import list_patients
    from ..storage.migrate import upgrade

    settings = Settings()
    with database_engine(settings.database_url) as engine:
        upgrade(engine)
    url = f"http://{host}:{port}"
    if demo and not settings.public_url:  # the demo's questionnaire links point at the address it serves on
        settings = settings.model_copy(update={"public_url": url})
    with units_of_work(settings.database_url) as new_uow:
        if demo:
            if not list_patients(new_uow(), SYSTEM, limit=1):
                console.print(f"seeding the demo clinic ({patients} synthetic patients)...")
                summary = seed_demo_clinic(new_uow, n_patients=patients)
                console.print(f"seeded {summary.patients} patients, {summary.sessions_run} sessions, "
                              f"{summary.rems_forms} REMS forms")  # fmt: skip
            for role, username, password in demo_logins(new_uow):
                print(f"demo login: {role} {username} {password}", flush=True)  # noqa: T201 - shown to the user once
        else:
            admin_password = ensure_admin(new_uow())
            if admin_password is not None:
                print(f"first run: admin login created: admin {admin_password}  (shown once)", flush=True)  # noqa: T201
    print(f"ketamine-therapy is serving on {url} - log in at {url}/login (API docs: {url}/api/docs)", flush=True)  # noqa: T201
    print("Decision-support software, not a medical device.", flush=True)  # noqa: T201
    uvicorn.run(create_app(settings), host=host, port=port, **UVICORN_OPTIONS)  # type: ignore[arg-type]
