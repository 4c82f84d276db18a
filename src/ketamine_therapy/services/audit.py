"""Writing and reading the audit log: every read and write of patient data goes through :func:`audit`."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
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
    *,
    at: datetime | None = None,
) -> None:
    """Append an entry in the current transaction (so a rolled-back write leaves no audit of a write).

    ``at`` is when it happened (default: now, UTC).
    """
    when = datetime.now(UTC) if at is None else at
    uow.audit.append(
        AuditEntry(when, actor.username, actor.role.value, actor.source, action, entity,
                   None if entity_id is None else str(entity_id), patient_id, detail)
    )  # fmt: skip


def audit_list(uow: UnitOfWork, actor: Actor, entity: str, patient_ids: Iterable[uuid.UUID], detail: str = "") -> None:
    """Audit a list read: one entry per patient shown (so each patient's access history has it); one entry
    without a patient when the list was empty."""
    shown = list(dict.fromkeys(patient_ids))
    for patient_id in shown:
        audit(uow, actor, "read", entity, patient_id=patient_id, detail=f"{detail} (in a list of {len(shown)})")
    if not shown:
        audit(uow, actor, "read", entity, detail=f"{detail} (empty list)")


def audit_refusal(uow: UnitOfWork, actor: Actor, what: str, patient_id: uuid.UUID | None = None) -> None:
    """Audit a refused request (HTTP 403) in a transaction of its own."""
    with uow:
        audit(uow, actor, "denied", "request", patient_id=patient_id, detail=what[:500])
        uow.commit()


def audit_entries(
    uow: UnitOfWork, actor: Actor, *, limit: int = 100, offset: int = 0, patient_id: uuid.UUID | None = None
) -> Sequence[AuditEntry]:
    """The newest audit entries first (admins only)."""
    actor.require(Permission.AUDIT_READ)
    with uow:
        return uow.audit.entries(limit, offset, patient_id)
