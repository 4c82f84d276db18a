"""Who may do what: roles, permissions, the acting user, and the audit entries every use case writes.

The permission matrix is enforced here, in the services layer, so the API, the web pages and the CLI
cannot disagree about it. Least privilege (DESIGN.md section 5): researchers see de-identified data only;
patients only fill the questionnaire their link opens; dose overrides are a prescriber's; a patient's forecast
(relapse risk, booster timing) is for the prescriber and the nurse who run the treatment.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """The roles of DESIGN.md section 5."""

    ADMIN = "admin"
    PRESCRIBER = "prescriber"
    NURSE = "nurse"
    THERAPIST = "therapist"
    RESEARCHER = "researcher"
    PATIENT = "patient"


class Permission(StrEnum):
    """One kind of action on the clinic's data."""

    PATIENT_READ = "patient:read"
    PATIENT_WRITE = "patient:write"
    SCREENING_WRITE = "screening:write"
    PLAN_WRITE = "plan:write"
    SESSION_RUN = "session:run"
    DOSE_OVERRIDE = "dose:override"
    SCALE_READ = "scale:read"
    SCALE_WRITE = "scale:write"
    FORECAST_READ = "forecast:read"
    QUESTIONNAIRE_LINK = "questionnaire:link"
    QUESTIONNAIRE_FILL = "questionnaire:fill"
    REMS_READ = "rems:read"
    REMS_WRITE = "rems:write"
    COST_READ = "cost:read"
    RESEARCH_RUN = "research:run"
    DEIDENTIFIED_READ = "research:deidentified"
    AUDIT_READ = "audit:read"
    USER_ADMIN = "user:admin"


P = Permission
_CLINICAL_READ = frozenset({P.PATIENT_READ, P.SCALE_READ})
PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset({P.USER_ADMIN, P.AUDIT_READ, P.PATIENT_READ, P.PATIENT_WRITE, P.REMS_READ, P.COST_READ}),
    Role.PRESCRIBER: _CLINICAL_READ
    | {P.PATIENT_WRITE, P.SCREENING_WRITE, P.PLAN_WRITE, P.SESSION_RUN, P.DOSE_OVERRIDE, P.SCALE_WRITE,
       P.FORECAST_READ, P.QUESTIONNAIRE_LINK, P.REMS_READ, P.REMS_WRITE, P.COST_READ, P.RESEARCH_RUN},
    Role.NURSE: _CLINICAL_READ
    | {P.SESSION_RUN, P.SCALE_WRITE, P.FORECAST_READ, P.QUESTIONNAIRE_LINK, P.REMS_READ, P.REMS_WRITE, P.COST_READ},
    Role.THERAPIST: _CLINICAL_READ | {P.SCALE_WRITE, P.QUESTIONNAIRE_LINK},
    Role.RESEARCHER: frozenset({P.RESEARCH_RUN, P.DEIDENTIFIED_READ}),
    Role.PATIENT: frozenset({P.QUESTIONNAIRE_FILL}),
}  # fmt: skip
"""The permission matrix: each role's allowed actions (anything absent is refused)."""


class PermissionDeniedError(PermissionError):
    """The acting user's role does not allow this action."""

    def __init__(self, actor: Actor, permission: Permission) -> None:
        super().__init__(f"role {actor.role.value!r} may not {permission.value}")
        self.permission = permission
        self.actor = actor


@dataclass(frozen=True)
class Actor:
    """Who is acting and from where (an IP address, ``cli`` or ``system``); patients carry their own id."""

    username: str
    role: Role
    source: str = "system"
    user_id: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None

    def can(self, permission: Permission) -> bool:
        """Whether the role allows ``permission``."""
        return permission in PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        """Raise :class:`PermissionDeniedError` unless the role allows ``permission``."""
        if not self.can(permission):
            raise PermissionDeniedError(self, permission)


SYSTEM = Actor("system", Role.ADMIN, "system")
"""The actor of seeding and migrations (never a logged-in user)."""


@dataclass(frozen=True)
class AuditEntry:
    """One read or write of patient data: who, what, when, from where. Never updated or deleted."""

    at: datetime
    username: str
    role: str
    source: str
    action: str  # "read", "create", "update", "export", "login", ...
    entity: str  # "patient", "session", "scale", ...
    entity_id: str | None = None
    patient_id: uuid.UUID | None = None
    detail: str = ""
    id: uuid.UUID = field(default_factory=uuid.uuid4)
