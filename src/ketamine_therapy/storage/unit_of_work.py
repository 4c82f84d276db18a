"""The SQL unit of work implementing services.ports.UnitOfWork: one transaction over every repository."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker

from ..services.ports import UnitOfWork
from .db import store_conflict, store_conflicts
from .repositories.accounts import SqlLoginSessionRepository, SqlQuestionnaireLinkRepository, SqlUserRepository
from .repositories.administration import SqlAuditLog, SqlSettingsRepository
from .repositories.patients import (
    SqlCoverageRepository,
    SqlPatientRepository,
    SqlScaleRepository,
    SqlScreeningRepository,
)
from .repositories.treatment import SqlPlanRepository, SqlRemsRepository, SqlTreatmentSessionRepository


class SqlUnitOfWork(UnitOfWork):
    """One database transaction per ``with`` block; without ``commit()`` everything rolls back. The repositories
    it opens are the ports' (declared on :class:`UnitOfWork`), implemented on this transaction's session."""

    def __init__(self, db_sessions: sessionmaker[Session]) -> None:
        self.db_sessions = db_sessions

    def __enter__(self) -> Self:
        self.db = self.db_sessions()
        self.patients = SqlPatientRepository(self.db)
        self.scales = SqlScaleRepository(self.db)
        self.screenings = SqlScreeningRepository(self.db)
        self.plans = SqlPlanRepository(self.db)
        self.sessions = SqlTreatmentSessionRepository(self.db)
        self.rems = SqlRemsRepository(self.db)
        self.coverages = SqlCoverageRepository(self.db)
        self.settings = SqlSettingsRepository(self.db)
        self.audit = SqlAuditLog(self.db)
        self.users = SqlUserRepository(self.db)
        self.login_sessions = SqlLoginSessionRepository(self.db)
        self.questionnaire_links = SqlQuestionnaireLinkRepository(self.db)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.db.rollback()
        self.db.close()
        conflict = store_conflict(exc, "the record")
        if conflict is not None:  # a concurrent writer won, whichever flush found out
            raise conflict from exc

    def commit(self) -> None:
        with store_conflicts("a record"):
            self.db.commit()
