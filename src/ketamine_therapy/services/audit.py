"""Writing and reading the audit log: every read and write of patient data goes through :func:`audit`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from .authorization import Actor, AuditEntry, Permission
from .ports import UnitOfWork


def audit(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object | None = None,
    patient_id: uuid.UUID | None = None,
    detail: str = "",
) -> None:
    """Append an entry in the current transaction (so a rolled-back write leaves no audit of a write)."""
    uow.audit.append(
        AuditEntry(datetime.now(UTC), actor.username, actor.role.value, actor.source, action, entity,
                   None if entity_id is None else str(entity_id), patient_id, detail)
    )  # fmt: skip


def audit_entries(
    uow: UnitOfWork, actor: Actor, *, limit: int = 100, offset: int = 0, patient_id: uuid.UUID | None = None
) -> Sequence[AuditEntry]:
    """The newest audit entries first (admins only)."""
    actor.require(Permission.AUDIT_READ)
    with uow:
        return uow.audit.entries(limit, offset, patient_id)
