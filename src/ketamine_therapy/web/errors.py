"""Problems shown as pages: an expired session goes to the login page, anything else gets an error page."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from ..api.errors import Problem
from .base import render


def render_problem_page(request: Request, problem: Problem) -> Response:
    """The page for ``problem`` (401 -> login page, keeping where the user wanted to go)."""
    if problem.status == 401 and problem.type == "unauthorized":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={target}", status_code=303)
    return render(request, "problem.html", None, status_code=problem.status, problem=problem)
