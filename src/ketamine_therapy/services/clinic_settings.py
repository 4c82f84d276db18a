"""Use cases: read and change the clinic's settings (calendar, policies, limits, prices, REMS details)."""

from __future__ import annotations

from ..clinic.exceptions import InvalidAnswerError
from ..clinic.settings import ClinicSettings
from .audit import audit
from .authorization import Actor, Permission
from .ports import UnitOfWork


def get_settings(uow: UnitOfWork) -> tuple[ClinicSettings, int]:
    """The clinic's settings and their version (any signed-in user may read them: they hold no patient data)."""
    with uow:
        return uow.settings.get()


def put_settings(
    uow: UnitOfWork, actor: Actor, settings: ClinicSettings, expected_version: int | None, reason: str
) -> int:
    """Store new settings if nobody changed them since ``expected_version`` (``None``: first settings)."""
    actor.require(Permission.USER_ADMIN)
    if not reason.strip():
        raise InvalidAnswerError("reason", "is empty", "why the settings change")
    with uow:
        version = uow.settings.put(settings, expected_version, actor.username, reason)
        audit(uow, actor, "update", "clinic-settings", 1, detail=reason)
        uow.commit()
    return version
