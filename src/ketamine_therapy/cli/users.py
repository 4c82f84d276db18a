"""``ketamine-therapy users create|list|activate|deactivate|ensure-admin``: logins, managed from the server's shell.

The CLI acts as the system administrator (source ``cli``): whoever can run it on the server owns the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from ..services.authorization import SYSTEM, Role
from .output import JsonOption, print_json

if TYPE_CHECKING:
    from ..services.ports.accounts import User

users_app = typer.Typer(help="User logins: create them (the password is shown once), list, (de)activate.",
                        no_args_is_help=True)  # fmt: skip

CLI_ADMIN = replace(SYSTEM, source="cli")
EXIT_INVALID = 2
UrlOption = Annotated[str | None, typer.Option("--url", help="database URL (default: settings / environment)")]
console = Console(width=None if Console().is_terminal else 120)
errors = Console(stderr=True)


@contextmanager
def _errors() -> Iterator[None]:
    """Bad input: exit 2 naming the field; a taken name or unknown record: exit 1."""
    from ..clinic.exceptions import InvalidAnswerError
    from ..services.ports import ConflictError, NotFoundError

    try:
        yield
    except InvalidAnswerError as exc:
        errors.print(f"[bold red]error[/]: {exc}", markup=True, highlight=False)
        raise typer.Exit(EXIT_INVALID) from None
    except (ConflictError, NotFoundError) as exc:
        errors.print(f"[bold red]error[/]: {exc}", markup=True, highlight=False)
        raise typer.Exit(1) from None


def _role(text: str) -> Role:
    from ..clinic.exceptions import InvalidAnswerError

    try:
        return Role(text.strip().lower())
    except ValueError:
        raise InvalidAnswerError("role", f"{text!r} is not a role", ", ".join(r.value for r in Role)) from None


def _patient_id(text: str | None) -> uuid.UUID | None:
    if text is None:
        return None
    from ..clinic.exceptions import InvalidAnswerError

    try:
        return uuid.UUID(text)
    except ValueError:
        raise InvalidAnswerError("patient-id", f"{text!r} is not a patient id", "a UUID") from None


@users_app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="3-64 characters: a-z 0-9 . _ -")],
    role: Annotated[str, typer.Option(help=", ".join(r.value for r in Role))],
    patient_id: Annotated[str | None, typer.Option(help="the patient's id (required for the patient role)")] = None,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a login with a generated password, printed once: hand it over safely, it is not stored."""
    from ..bootstrap import units_of_work
    from ..services.accounts.users import create_user

    with _errors(), units_of_work(url) as new_uow:
        user, password = create_user(new_uow(), CLI_ADMIN, username, _role(role), patient_id=_patient_id(patient_id))
    if as_json:
        print_json({**_user_json(user), "password": password})
        return
    typer.echo(f"created {user.username} ({user.role.value})")
    typer.echo(f"password (shown once): {password}")


@users_app.command("list")
def list_(url: UrlOption = None, as_json: JsonOption = False) -> None:
    """List the logins (never their passwords)."""
    from rich.table import Table

    from ..bootstrap import units_of_work
    from ..services.accounts.users import list_users

    with units_of_work(url) as new_uow:
        users = list_users(new_uow(), CLI_ADMIN)
    if as_json:
        print_json({"users": [_user_json(u) for u in users]})
        return
    table = Table(title="Users")
    for column in ("username", "role", "active", "locked until", "patient id", "created"):
        table.add_column(column)
    for u in users:
        locked = u.locked_until.isoformat(timespec="minutes") if u.locked_until else ""
        table.add_row(u.username, u.role.value, "yes" if u.active else "no", locked, str(u.patient_id or ""),
                      u.created_at.isoformat(timespec="minutes"))  # fmt: skip
    console.print(table)


def _user_json(user: User) -> dict[str, object]:
    """A login as JSON (never its password hash)."""
    return {"username": user.username, "role": user.role.value, "active": user.active,
            "locked_until": user.locked_until.isoformat() if user.locked_until else None,
            "patient_id": str(user.patient_id) if user.patient_id else None,
            "created_at": user.created_at.isoformat()}  # fmt: skip


def _set_active(username: str, active: bool, url: str | None, as_json: bool) -> None:
    from ..bootstrap import units_of_work
    from ..services.accounts.users import set_user_active

    with _errors(), units_of_work(url) as new_uow:
        user = set_user_active(new_uow(), CLI_ADMIN, username, active)
    if as_json:
        print_json(_user_json(user))
        return
    typer.echo(f"{user.username} is {'active' if user.active else 'inactive'}")


@users_app.command("activate")
def activate(username: Annotated[str, typer.Argument()], url: UrlOption = None, as_json: JsonOption = False) -> None:
    """Allow a login again (also clears a lockout)."""
    _set_active(username, True, url, as_json)


@users_app.command("deactivate")
def deactivate(username: Annotated[str, typer.Argument()], url: UrlOption = None, as_json: JsonOption = False) -> None:
    """Refuse a login from now on; its open sessions end at their next request."""
    _set_active(username, False, url, as_json)


@users_app.command("ensure-admin")
def ensure_admin_command(url: UrlOption = None, as_json: JsonOption = False) -> None:
    """Create the ``admin`` login if no active admin exists, printing its password once."""
    from ..bootstrap import units_of_work
    from ..services.accounts.users import ensure_admin

    with units_of_work(url) as new_uow:
        password = ensure_admin(new_uow())
    if as_json:
        print_json({"created": password is not None, "username": "admin" if password else None, "password": password})
        return
    if password is None:
        typer.echo("an active admin exists; nothing changed")
    else:
        typer.echo(f"created admin; password (shown once): {password}")
