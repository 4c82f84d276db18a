"""Ports of the clinic's settings (versioned, one record) and the append-only audit log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from ...clinic.settings import ClinicSettings
from ..authorization import AuditEntry


class SettingsRepository(Protocol):
    def get(self) -> tuple[ClinicSettings, int]: ...
    def put(self, settings: ClinicSettings, expected_version: int | None, by: str, reason: str) -> int: ...


class AuditLog(Protocol):
    def append(self, entry: AuditEntry) -> None: ...
    def entries(
        self, limit: int = 100, offset: int = 0, patient_id: uuid.UUID | None = None
    ) -> Sequence[AuditEntry]: ...
