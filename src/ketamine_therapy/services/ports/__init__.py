"""Ports the use cases depend on; storage/ implements them (tests can use fakes).

The unit of work (one transaction over every repository) and the errors every repository raises live here; the
repositories and records by topic in :mod:`.patients`, :mod:`.treatment`, :mod:`.administration` and
:mod:`.accounts`. Every ``update`` takes the version the caller read and raises :class:`StaleVersionError` if
someone else changed the record since (optimistic locking); every change is kept as a version with who, when and
why.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from .accounts import LoginSessionRepository, QuestionnaireLinkRepository, UserRepository
from .administration import AuditLog, SettingsRepository
from .patients import CoverageRepository, PatientRepository, ScaleRepository, ScreeningRepository
from .treatment import PlanRepository, RemsRepository, SessionRepository


class NotFoundError(LookupError):
    """No record with that id."""


class ConflictError(RuntimeError):
    """The change conflicts with the stored state (a taken name, a record changed since it was read)."""


class StaleVersionError(ConflictError):
    """Someone else changed the record since it was read (optimistic locking): HTTP 412, reload and retry."""


class UnitOfWork(Protocol):
    """One transaction: ``with uow: ...; uow.commit()``; leaving without commit rolls back."""

    patients: PatientRepository
    scales: ScaleRepository
    screenings: ScreeningRepository
    plans: PlanRepository
    sessions: SessionRepository
    rems: RemsRepository
    coverages: CoverageRepository
    settings: SettingsRepository
    audit: AuditLog
    users: UserRepository
    login_sessions: LoginSessionRepository
    questionnaire_links: QuestionnaireLinkRepository

    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...
