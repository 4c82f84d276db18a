"""Errors as ``application/problem+json`` (RFC 9457) naming the field and the rule; the same mapping serves the
web pages, which render the problem instead of JSON."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..clinic.exceptions import ClinicError
from ..clinic.rems import EnrollmentRequiredError
from ..clinic.sessions import InvalidTransitionError, OverrideRequiredError, UnmetCriteriaError
from ..errors import FieldError
from ..services.accounts.errors import (
    AccountLockedError,
    AuthenticationError,
    LinkInvalidError,
    NotConfiguredError,
    RateLimitedError,
    SessionExpiredError,
)
from ..services.audit import audit_refusal
from ..services.authorization import PermissionDeniedError
from ..services.jobs import UnknownJobError
from ..services.ports import ConflictError, NotFoundError, StaleVersionError
from .auth import CsrfError

PROBLEM = "application/problem+json"


class PreconditionRequiredError(Exception):
    """A change to a versioned record without ``If-Match`` (or ``version``)."""


@dataclass
class Problem:
    """One problem: HTTP status, a type slug, a title and the detail; ``field``/``allowed`` for bad input."""

    status: int
    type: str
    title: str
    detail: str
    extra: dict[str, object] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, object]:
        return {"type": f"/problems/{self.type}", "title": self.title, "status": self.status, "detail": self.detail,
                **self.extra}  # fmt: skip


def _field(exc: FieldError) -> dict[str, object]:
    return {"field": exc.field, "allowed": exc.allowed}


def problem_of(exc: Exception) -> Problem | None:
    """The problem an exception stands for (``None`` for an unexpected error: a 500)."""
    match exc:
        case FieldError():  # the clinic's and the pharmacology core's field errors alike
            return Problem(422, "invalid-input", "Invalid input", str(exc), _field(exc))
        case OverrideRequiredError():
            return Problem(422, "override-required", "Override required", str(exc),
                           {"rule": "an override needs a reason (from a prescriber, except at discharge)",
                            "warnings": list(exc.warnings)})  # fmt: skip
        case UnmetCriteriaError():
            return Problem(409, "criteria-unmet", f"Cannot move to {exc.step.value}", str(exc),
                           {"unmet": list(exc.unmet)})  # fmt: skip
        case InvalidTransitionError():
            return Problem(409, "invalid-transition", "Not allowed in this state", str(exc),
                           {"allowed": list(exc.allowed)})  # fmt: skip
        case EnrollmentRequiredError():
            return Problem(409, "rems-enrollment-required", "Spravato REMS enrolment required", str(exc))
        case ClinicError():
            return Problem(422, "clinic-rule", "Not allowed by the clinic rules", str(exc))
        case PermissionDeniedError():
            return Problem(403, "forbidden", "Forbidden", str(exc), {"permission": exc.permission.value})
        case CsrfError():
            return Problem(403, "csrf", "Forbidden", str(exc))
        case RateLimitedError():
            return Problem(429, "rate-limited", "Too many attempts", str(exc), {},
                           {"Retry-After": str(exc.retry_after_seconds)})  # fmt: skip
        case AccountLockedError():
            return Problem(423, "locked", "Account locked", str(exc))
        case AuthenticationError() | SessionExpiredError():
            return Problem(401, "unauthorized", "Not logged in", str(exc), {}, {"WWW-Authenticate": "Bearer"})
        case NotConfiguredError():
            return Problem(409, "not-configured", "Not configured on this server", str(exc))
        case LinkInvalidError():
            return Problem(404, "link-invalid", "Link not valid", str(exc))
        case NotFoundError() | UnknownJobError():
            return Problem(404, "not-found", "Not found", str(exc).strip("'\""))
        case StaleVersionError():  # the one mapping of optimistic locking: the If-Match version is not current
            return Problem(412, "conflict", "Changed by someone else", str(exc))
        case ConflictError():
            return Problem(409, "conflict", "Conflict", str(exc))
        case PreconditionRequiredError():
            return Problem(428, "precondition-required", "Version required", str(exc))
        case OverflowError():  # date arithmetic past year 1 or 9999 (e.g. 0001-01-01T00:00+14:00 in UTC)
            return Problem(422, "invalid-input", "Invalid input", f"a date or number is out of range: {exc}",
                           {"field": None, "allowed": "dates within years 1-9999 in every time zone"})  # fmt: skip
    return None


def problem_response(problem: Problem) -> Response:
    """The problem as ``application/problem+json``."""
    return JSONResponse(problem.body(), status_code=problem.status, media_type=PROBLEM, headers=problem.headers)


def _message(error: Mapping[str, Any]) -> str:
    """A pydantic error's message without pydantic's "Value error, " prefix (our validators name the allowed range)."""
    return str(error.get("msg", "invalid")).removeprefix("Value error, ")


def _validation_problem(exc: RequestValidationError) -> Problem:
    errors = exc.errors()
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header"))
    message = _message(first) if first else "invalid request"
    detail = f"{where}: {message}" if where else message
    allowed = (first.get("ctx") or {}).get("allowed") or (message if first else None)
    return Problem(422, "invalid-input", "Invalid input", detail,
                   {"field": where or None, "allowed": allowed, "errors": [
                       {"field": ".".join(str(p) for p in e.get("loc", ())), "message": _message(e)}
                       for e in errors]})  # fmt: skip


PageRenderer = Callable[[Request, Problem], Response]


def _audit_refusal(request: Request, exc: Exception) -> None:
    """Every 403 is audited: who, from where, what was refused, and the patient it concerned."""
    route = getattr(request.scope.get("route"), "path", request.url.path)
    assert isinstance(exc, PermissionDeniedError | CsrfError)
    reason = exc.permission.value if isinstance(exc, PermissionDeniedError) else "no CSRF token"
    what = f"{request.method} {route}: {reason}"
    raw = request.path_params.get("patient_id")
    try:
        patient_id = uuid.UUID(str(raw)) if raw is not None else None
    except ValueError:
        patient_id = None
    audit_refusal(request.app.state.context.new_uow(), exc.actor, what, patient_id)


def answer(request: Request, problem: Problem, render_page: PageRenderer) -> Response:
    """The problem as problem+json under ``/api``, else as the page ``render_page`` draws."""
    if request.url.path.startswith("/api/"):
        return problem_response(problem)
    return render_page(request, problem)


def install_errors(app: FastAPI, render_page: PageRenderer) -> None:
    """Map domain and service errors to problem+json under ``/api`` and to ``render_page`` elsewhere."""

    def respond(request: Request, problem: Problem) -> Response:
        return answer(request, problem, render_page)

    async def on_error(request: Request, exc: Exception) -> Response:
        problem = problem_of(exc)
        if problem is None:
            raise exc
        if problem.status == 403:
            await run_in_threadpool(_audit_refusal, request, exc)
        return respond(request, problem)

    async def on_http(request: Request, exc: Exception) -> Response:  # FastAPI's own: malformed body, no such route
        assert isinstance(exc, StarletteHTTPException)
        phrase = HTTPStatus(exc.status_code).phrase
        slug = "malformed" if exc.status_code == 400 else phrase.lower().replace(" ", "-")
        problem = Problem(exc.status_code, slug, phrase, str(exc.detail), {}, dict(exc.headers or {}))
        return respond(request, problem)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return respond(request, _validation_problem(exc))

    for kind in (ClinicError, FieldError, PermissionDeniedError, CsrfError, RateLimitedError,
                 AuthenticationError, SessionExpiredError, LinkInvalidError, NotConfiguredError, NotFoundError,
                 UnknownJobError, ConflictError, PreconditionRequiredError, OverflowError):  # fmt: skip
        app.add_exception_handler(kind, on_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
