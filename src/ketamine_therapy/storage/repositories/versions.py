"""What the versioned repositories share: every version of a record (patients, plans, sessions, REMS forms,
settings, coverage, enrolments) kept in the one ``record_versions`` table, the optimistic-locking check, and
one-per-patient documents.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...services.ports import NotFoundError, StaleVersionError
from ...services.ports.treatment import RecordVersion
from ..db import store_conflicts
from ..tables.administration import ClinicSettingsRow, RecordVersionRow
from ..tables.patients import CoverageRow
from ..tables.treatment import PlanRow, RemsEnrollmentRow, RemsFormRow, TreatmentSessionRow

VersionedRow = PlanRow | TreatmentSessionRow | RemsFormRow | ClinicSettingsRow
"""The rows with a ``version`` column that SQLAlchemy bumps (and checks) on every flush."""


class VersionedRepository:
    """Writes every version of a record to ``record_versions``: the one way versioned records are added and
    updated (:meth:`_add`, :meth:`_update`)."""

    entity = ""

    def __init__(self, db: Session) -> None:
        self.db = db

    def _version(
        self, entity_id: object, version: int, snapshot: dict[str, object], by: str, reason: str,
        *, at: datetime | None = None,
    ) -> None:  # fmt: skip
        """Keep ``snapshot`` as ``version`` of the record, changed ``at`` (default: now) by ``by`` for ``reason``."""
        self.db.add(
            RecordVersionRow(entity=self.entity, entity_id=str(entity_id), version=version, snapshot=snapshot,
                             changed_at=datetime.now(UTC) if at is None else at, changed_by=by, reason=reason)
        )  # fmt: skip

    def _flush(self, what: str) -> None:
        with store_conflicts(what):  # a concurrent writer committed in between
            self.db.flush()

    def _add(self, row: VersionedRow, what: str, snapshot: dict[str, object], by: str, reason: str) -> None:
        """Insert ``row`` (version 1) and keep ``snapshot`` as its first version."""
        self.db.add(row)
        self._flush(what)
        self._version(row.id, row.version, snapshot, by, reason)

    def _update(
        self, row: VersionedRow, what: str, expected_version: int, changes: dict[str, object],
        snapshot: dict[str, object], by: str, reason: str,
    ) -> int:  # fmt: skip
        """Apply ``changes`` to ``row`` if it is still at ``expected_version`` (else :class:`StaleVersionError`),
        stamp who and when, flush (a concurrent writer's win is a :class:`StaleVersionError` too) and keep
        ``snapshot`` as the new version. Returns the new version."""
        check_version(what, row.version, expected_version)
        for name, value in changes.items():
            setattr(row, name, value)
        row.updated_at, row.updated_by = datetime.now(UTC), by
        self._flush(what)
        self._version(row.id, row.version, snapshot, by, reason)
        return row.version

    def history_of(self, entity_id: object) -> Sequence[RecordVersion]:
        rows = self.db.scalars(
            select(RecordVersionRow)
            .where(RecordVersionRow.entity == self.entity, RecordVersionRow.entity_id == str(entity_id))
            .order_by(RecordVersionRow.version)
        ).all()
        return [RecordVersion(r.version, r.snapshot, r.changed_at, r.changed_by, r.reason) for r in rows]


DocumentRow = TypeVar("DocumentRow", RemsEnrollmentRow, CoverageRow)


def put_patient_document(
    db: Session, kind: type[DocumentRow], entity: str, patient_id: uuid.UUID,
    data: dict[str, object], by: str,
) -> None:  # fmt: skip
    """Store a one-per-patient document, keeping the previous one in ``record_versions``."""
    row = db.get(kind, patient_id)
    now = datetime.now(UTC)
    if row is None:
        db.add(kind(patient_id=patient_id, data=data, updated_at=now, updated_by=by))
    else:
        row.data, row.updated_at, row.updated_by = data, now, by
    db.flush()
    db.add(RecordVersionRow(entity=entity, entity_id=str(patient_id), version=0, snapshot=data, changed_at=now,
                                 changed_by=by, reason=f"{entity} recorded"))  # fmt: skip


Row = TypeVar("Row")


def get_row(db: Session, kind: type[Row], key: object, what: str) -> Row:
    """The ``kind`` row with primary key ``key``; :class:`NotFoundError` naming ``what`` when there is none."""
    row = db.get(kind, key)
    if row is None:
        raise NotFoundError(what)
    return row


def check_version(what: str, current: int, expected: int) -> None:
    """Refuse a change built on ``expected`` when the record is at ``current`` (optimistic locking)."""
    if current != expected:
        raise StaleVersionError(f"{what} is at version {current}, not {expected}; reload and try again")
