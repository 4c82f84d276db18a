"""SQLAlchemy repositories of the clinic's settings and the audit log (services.ports.administration)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...clinic.settings import ClinicSettings
from ...services.authorization import AuditEntry
from ...services.ports import ConflictError, NotFoundError
from ..documents import dump, load
from ..tables.administration import AuditRow, ClinicSettingsRow
from .versions import VersionedRepository


class SqlSettingsRepository(VersionedRepository):
    """The clinic's settings (one row)."""

    entity = "clinic_settings"

    def get(self) -> tuple[ClinicSettings, int]:
        row = self.db.get(ClinicSettingsRow, 1)
        if row is None:
            raise NotFoundError("clinic settings: none stored yet (run `ketamine-therapy demo seed` or set them)")
        return load(ClinicSettings, row.data), row.version

    def put(self, settings: ClinicSettings, expected_version: int | None, by: str, reason: str) -> int:
        row = self.db.get(ClinicSettingsRow, 1)
        data = dump(settings)
        if row is None:
            if expected_version is not None:
                raise ConflictError("clinic settings do not exist yet")
            row = ClinicSettingsRow(id=1, data=data, updated_at=datetime.now(UTC), updated_by=by)
            self._add(row, "clinic settings", data, by, reason)
            return row.version
        return self._update(row, "clinic settings", expected_version or 0, {"data": data}, data, by, reason)


class SqlAuditLog:
    """The append-only audit log (the database refuses UPDATE and DELETE on it)."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def append(self, entry: AuditEntry) -> None:
        self.db.add(
            AuditRow(id=entry.id, at=entry.at, username=entry.username, role=entry.role, source=entry.source,
                     action=entry.action, entity=entry.entity, entity_id=entry.entity_id,
                     patient_id=entry.patient_id, detail=entry.detail)
        )  # fmt: skip
        self.db.flush()

    def entries(self, limit: int = 100, offset: int = 0, patient_id: uuid.UUID | None = None) -> Sequence[AuditEntry]:
        query = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id).limit(limit).offset(offset)
        if patient_id is not None:
            query = query.where(AuditRow.patient_id == patient_id)
        return [AuditEntry(r.at, r.username, r.role, r.source, r.action, r.entity, r.entity_id, r.patient_id,
                           r.detail, r.id) for r in self.db.scalars(query)]  # fmt: skip
