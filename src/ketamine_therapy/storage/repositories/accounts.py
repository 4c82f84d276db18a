"""SQLAlchemy repositories of users, login sessions and questionnaire links (services.ports.accounts)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...services.authorization import Role
from ...services.ports import ConflictError, NotFoundError
from ...services.ports.accounts import LoginSession, QuestionnaireLinkRecord, User
from ..tables.accounts import LoginSessionRow, QuestionnaireLinkRow, UserRow


def _user(row: UserRow) -> User:
    return User(username=row.username, role=Role(row.role), password_hash=row.password_hash, created_at=row.created_at,
                patient_id=row.patient_id, active=row.active, failed_logins=row.failed_logins,
                locked_until=row.locked_until, id=row.id)  # fmt: skip


class SqlUserRepository:
    """Users in ``users`` (the username is unique in the database too)."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, user: User) -> None:
        self.db.add(
            UserRow(id=user.id, username=user.username, role=user.role.value, patient_id=user.patient_id,
                    active=user.active, password_hash=user.password_hash, failed_logins=user.failed_logins,
                    locked_until=user.locked_until, created_at=user.created_at)
        )  # fmt: skip
        try:
            self.db.flush()
        except IntegrityError as exc:  # a concurrent transaction took the name after our check
            if "username" in str(exc.orig):
                raise ConflictError(f"username {user.username!r} is taken") from exc
            raise

    def get(self, user_id: uuid.UUID) -> User | None:
        row = self.db.get(UserRow, user_id, populate_existing=True)
        return None if row is None else _user(row)

    def get_by_username(self, username: str) -> User | None:
        row = self.db.scalars(
            select(UserRow).where(UserRow.username == username).execution_options(populate_existing=True)
        ).one_or_none()
        return None if row is None else _user(row)

    def update(self, user: User) -> None:
        row = self.db.get(UserRow, user.id)
        if row is None:
            raise NotFoundError(f"user {user.id}")
        row.username, row.role, row.patient_id = user.username, user.role.value, user.patient_id
        row.active, row.password_hash = user.active, user.password_hash
        row.failed_logins, row.locked_until = user.failed_logins, user.locked_until
        self.db.flush()

    def increment_failed_logins(self, user_id: uuid.UUID) -> int:
        count = self.db.execute(
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(failed_logins=UserRow.failed_logins + 1)
            .returning(UserRow.failed_logins)
            .execution_options(synchronize_session="fetch")
        ).scalar_one_or_none()
        if count is None:
            raise NotFoundError(f"user {user_id}")
        return int(count)

    def list(self) -> Sequence[User]:
        return [_user(row) for row in self.db.scalars(select(UserRow).order_by(UserRow.username))]

    def has_active_admin(self) -> bool:
        return bool(self.db.scalar(select(exists().where(UserRow.role == Role.ADMIN.value, UserRow.active.is_(True)))))


def _login_session(row: LoginSessionRow) -> LoginSession:
    return LoginSession(token_hash=row.token_hash, user_id=row.user_id, csrf_token=row.csrf_token,
                       created_at=row.created_at, last_seen_at=row.last_seen_at, expires_at=row.expires_at,
                       idle_seconds=row.idle_seconds, id=row.id)  # fmt: skip


class SqlLoginSessionRepository:
    """Login sessions in ``auth_sessions``, by the SHA-256 of the token."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, session: LoginSession) -> None:
        self.db.add(
            LoginSessionRow(id=session.id, token_hash=session.token_hash, user_id=session.user_id,
                           csrf_token=session.csrf_token, created_at=session.created_at,
                           last_seen_at=session.last_seen_at, expires_at=session.expires_at,
                           idle_seconds=session.idle_seconds)
        )  # fmt: skip
        self.db.flush()

    def get(self, token_hash: str) -> LoginSession | None:
        row = self.db.scalars(
            select(LoginSessionRow)
            .where(LoginSessionRow.token_hash == token_hash)
            .execution_options(populate_existing=True)
        ).one_or_none()
        return None if row is None else _login_session(row)

    def touch(self, token_hash: str, last_seen_at: datetime) -> None:
        self.db.execute(
            update(LoginSessionRow)
            .where(LoginSessionRow.token_hash == token_hash)
            .values(last_seen_at=last_seen_at)
            .execution_options(synchronize_session="fetch")
        )

    def delete(self, token_hash: str) -> None:
        self.db.execute(
            delete(LoginSessionRow)
            .where(LoginSessionRow.token_hash == token_hash)
            .execution_options(synchronize_session="fetch")
        )

    def delete_for_user(self, user_id: uuid.UUID) -> int:
        result = self.db.execute(
            delete(LoginSessionRow)
            .where(LoginSessionRow.user_id == user_id)
            .execution_options(synchronize_session="fetch")
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def _link(row: QuestionnaireLinkRow) -> QuestionnaireLinkRecord:
    return QuestionnaireLinkRecord(token_hash=row.token_hash, patient_id=row.patient_id, scale_id=row.scale_id,
                                   created_at=row.created_at, created_by=row.created_by, expires_at=row.expires_at,
                                   used_at=row.used_at, id=row.id)  # fmt: skip


class SqlQuestionnaireLinkRepository:
    """Questionnaire links in ``questionnaire_links``, by the SHA-256 of the token."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, link: QuestionnaireLinkRecord) -> None:
        self.db.add(
            QuestionnaireLinkRow(id=link.id, token_hash=link.token_hash, patient_id=link.patient_id,
                                 scale_id=link.scale_id, created_at=link.created_at, created_by=link.created_by,
                                 expires_at=link.expires_at, used_at=link.used_at)
        )  # fmt: skip
        self.db.flush()

    def get(self, token_hash: str) -> QuestionnaireLinkRecord | None:
        row = self.db.scalars(
            select(QuestionnaireLinkRow)
            .where(QuestionnaireLinkRow.token_hash == token_hash)
            .execution_options(populate_existing=True)
        ).one_or_none()
        return None if row is None else _link(row)

    def mark_used(self, token_hash: str, now: datetime) -> bool:
        # One conditional UPDATE: a concurrent transaction that consumed the link first makes this match no row
        # (PostgreSQL re-checks the condition after the row lock is released; SQLite serialises writers).
        consumed = self.db.execute(
            update(QuestionnaireLinkRow)
            .where(QuestionnaireLinkRow.token_hash == token_hash, QuestionnaireLinkRow.used_at.is_(None),
                   QuestionnaireLinkRow.expires_at > now)
            .values(used_at=now)
            .returning(QuestionnaireLinkRow.id)
            .execution_options(synchronize_session="fetch")
        ).all()  # fmt: skip
        return len(consumed) == 1
