"""Problems shown as pages: an expired session goes to the login page, anything else gets an error page
(with the navigation of the logged-in user, when there is one)."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from ..http.auth import Caller
from ..http.problems import Problem
from ..services.accounts.errors import SessionExpiredError
from .base import page_caller, render


def render_problem_page(request: Request, problem: Problem) -> Response:
    """The page for ``problem`` (401 -> login page, keeping where the user wanted to go)."""
    if problem.status == 401 and problem.type == "unauthorized":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={target}", status_code=303)
    who: Caller | None
    try:
        who = page_caller(request, request.app.state.context)
    except SessionExpiredError:
        who = None
    return render(request, "problem.html", who, status_code=problem.status, problem=problem)
