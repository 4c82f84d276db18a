"""What the web edges share per application: the unit-of-work factory, settings, jobs and the login limiter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request

from ..config import Settings
from ..services.accounts.rate_limit import LoginRateLimiter
from ..services.clock import Clock, utc_now
from ..services.jobs import JobRunner
from ..services.ports import UnitOfWork


@dataclass
class AppContext:
    """Built once by the composition root (``app.create_app``) and kept on ``app.state.context``."""

    settings: Settings
    new_uow: Callable[[], UnitOfWork]
    jobs: JobRunner
    limiter: LoginRateLimiter
    pseudonym_key: bytes
    clock: Clock = field(default=utc_now)
    """The clock port: every "now" and "today" of the edges (the clinic's today via ``ClinicSettings``)."""


def context(request: Request) -> AppContext:
    """The application's context (a FastAPI dependency)."""
    ctx: AppContext = request.app.state.context
    return ctx


def client_address(request: Request) -> str:
    """Where the request comes from (for the audit log and the login limiter)."""
    return request.client.host if request.client else "unknown"
