"""The SQL unit of work implementing services.ports.UnitOfWork: one transaction over every repository."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker

from ..services.ports.accounts import AuthSessionRepository, QuestionnaireLinkRepository, UserRepository
from ..services.ports.administration import AuditLog, SettingsRepository
from ..services.ports.patients import (
    CoverageRepository,
    PatientRepository,
    ScaleRepository,
    ScreeningRepository,
)
from ..services.ports.treatment import PlanRepository, RemsRepository, SessionRepository
from .db import version_conflict, version_conflicts
from .repositories.accounts import SqlAuthSessionRepository, SqlQuestionnaireLinkRepository, SqlUserRepository
from .repositories.administration import SqlAuditLog, SqlSettingsRepository
from .repositories.patients import (
    SqlCoverageRepository,
    SqlPatientRepository,
    SqlScaleRepository,
    SqlScreeningRepository,
)
from .repositories.treatment import SqlPlanRepository, SqlRemsRepository, SqlSessionRepository


class SqlUnitOfWork:
    """One database transaction per ``with`` block; without ``commit()`` everything rolls back."""

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
    auth_sessions: AuthSessionRepository
    questionnaire_links: QuestionnaireLinkRepository

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def __enter__(self) -> Self:
        self.session = self.session_factory()
        self.patients = SqlPatientRepository(self.session)
        self.scales = SqlScaleRepository(self.session)
        self.screenings = SqlScreeningRepository(self.session)
        self.plans = SqlPlanRepository(self.session)
        self.sessions = SqlSessionRepository(self.session)
        self.rems = SqlRemsRepository(self.session)
        self.coverages = SqlCoverageRepository(self.session)
        self.settings = SqlSettingsRepository(self.session)
        self.audit = SqlAuditLog(self.session)
        self.users = SqlUserRepository(self.session)
        self.auth_sessions = SqlAuthSessionRepository(self.session)
        self.questionnaire_links = SqlQuestionnaireLinkRepository(self.session)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.session.rollback()
        self.session.close()
        conflict = version_conflict(exc, "the record")
        if conflict is not None:  # a concurrent writer won, whichever flush found out
            raise conflict from exc

    def commit(self) -> None:
        with version_conflicts("a record"):
            self.session.commit()
