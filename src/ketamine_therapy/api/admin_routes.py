"""Administration: the audit log, user accounts and the clinic's settings."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, Field

from ..clinic.settings import ClinicSettings
from ..http.auth import ActorDep, ContextDep
from ..http.pagination import Limit, Offset, Page, page
from ..http.versioning import expected_version, tag
from ..services.accounts import users as logins
from ..services.audit import audit_entries
from ..services.authorization import AuditEntry, Role
from ..services.clinic_settings import get_settings, put_settings
from ..services.ports.accounts import User
from ..validation.quantities import RelapseRisk

router = APIRouter(tags=["admin"])


class UserOut(BaseModel):
    """A login (never its password or hash)."""

    id: uuid.UUID
    username: str
    role: str
    patient_id: uuid.UUID | None
    active: bool
    locked_until: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls(id=u.id, username=u.username, role=u.role.value, patient_id=u.patient_id, active=u.active,
                   locked_until=u.locked_until, created_at=u.created_at)  # fmt: skip


class UserIn(BaseModel):
    """A new login; the generated password is returned once."""

    username: str = Field(min_length=3, max_length=64)
    role: Role
    patient_id: uuid.UUID | None = None


class NewUserOut(BaseModel):
    """The new login and its one-time password."""

    user: UserOut
    password: str


class NewPasswordOut(BaseModel):
    """A login's new generated password, shown once."""

    username: str
    password: str


class SettingsPatch(BaseModel):
    """Settings a clinic changes often (the rest: ``ketamine-therapy`` data files or a full PUT later)."""

    reason: str = Field(min_length=1, max_length=500)
    iv_min_monitoring_min: int | None = Field(default=None, ge=0, le=1440)
    im_min_monitoring_min: int | None = Field(default=None, ge=0, le=1440)
    clear_iv_min_monitoring: bool = False
    clear_im_min_monitoring: bool = False
    iv_min_dose_interval_h: int | None = Field(default=None, strict=True, ge=0, le=672)
    im_min_dose_interval_h: int | None = Field(default=None, strict=True, ge=0, le=672)
    esketamine_min_dose_interval_h: int | None = Field(default=None, strict=True, ge=0, le=672)
    schedule_tolerance_days: int | None = Field(default=None, strict=True, ge=0, le=365)
    weight_max_age_days: int | None = Field(default=None, strict=True, ge=0, le=3650)
    forecast_relapse_alpha: RelapseRisk | None = None


@router.get("/audit")
def audit(
    actor: ActorDep, ctx: ContextDep, limit: Limit = 100, offset: Offset = 0, patient_id: uuid.UUID | None = None
) -> Page[AuditEntry]:
    """The audit log, newest first: who read or changed what, when, from where."""
    entries = list(audit_entries(ctx.new_uow(), actor, limit=limit + 1, offset=offset, patient_id=patient_id))
    return page(entries, limit, offset)


@router.get("/users")
def users(actor: ActorDep, ctx: ContextDep) -> list[UserOut]:
    """All logins."""
    return [UserOut.of(u) for u in logins.list_users(ctx.new_uow(), actor)]


@router.post("/users", status_code=status.HTTP_201_CREATED)
def create_user(body: UserIn, actor: ActorDep, ctx: ContextDep) -> NewUserOut:
    """Create a login with a generated password (shown once)."""
    user, password = logins.create_user(ctx.new_uow(), actor, body.username, body.role, patient_id=body.patient_id)
    return NewUserOut(user=UserOut.of(user), password=password)


@router.post("/users/{username}/password-reset")
def reset_password(username: str, actor: ActorDep, ctx: ContextDep) -> NewPasswordOut:
    """Give a login a new generated password (shown once); all of its sessions end."""
    return NewPasswordOut(username=username, password=logins.reset_password(ctx.new_uow(), actor, username))


@router.get("/clinic/settings")
def settings(actor: ActorDep, ctx: ContextDep, response: Response) -> ClinicSettings:
    """The clinic's settings (calendar, policies, limits, prices, booster rules, REMS details, protocols)."""
    current, version = get_settings(ctx.new_uow())
    tag(response, version)
    return current


@router.patch("/clinic/settings")
def patch_settings(
    body: SettingsPatch, actor: ActorDep, ctx: ContextDep, response: Response, version: int = Depends(expected_version)
) -> ClinicSettings:
    """Change the minimum monitoring after IV/IM dosing (esketamine's 120 min is the label's and fixed), the
    minimum interval between doses per route, the tolerance around scheduled times, the oldest dosing weight and the
    accepted relapse risk of the forecast's booster advice."""
    current, _ = get_settings(ctx.new_uow())
    changes: dict[str, float | None] = {}
    for kind in ("iv", "im"):
        value = getattr(body, f"{kind}_min_monitoring_min")
        if getattr(body, f"clear_{kind}_min_monitoring"):
            changes[f"{kind}_min_monitoring_min"] = None
        elif value is not None:
            changes[f"{kind}_min_monitoring_min"] = value
    for name in ("iv_min_dose_interval_h", "im_min_dose_interval_h", "esketamine_min_dose_interval_h",
                 "schedule_tolerance_days", "weight_max_age_days", "forecast_relapse_alpha"):  # fmt: skip
        if getattr(body, name) is not None:
            changes[name] = getattr(body, name)
    updated = replace(current, **changes)  # type: ignore[arg-type]  # re-validated by __post_init__
    tag(response, put_settings(ctx.new_uow(), actor, updated, version, body.reason))
    return updated
