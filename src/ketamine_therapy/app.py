"""The application factory: settings -> database -> services -> FastAPI app with the API and the web pages.

Nothing here runs at import time; ``ketamine-therapy serve`` (or a test) calls :func:`create_app`.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from .api.context import AppContext
from .api.errors import install_errors
from .api.routes import router as api_router
from .bootstrap import unit_of_work_factory
from .config import Settings
from .services.accounts import LoginRateLimiter
from .services.jobs import JobRunner
from .web import STATIC_DIR
from .web.errors import render_problem_page
from .web.routes import router as web_router

DISCLAIMER = "Decision-support software, not a medical device: every decision stays with the treating clinician."
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # questionnaire links carry a token in the path
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
    "Cache-Control": "no-store",
}


def create_app(settings: Settings | None = None, *, jobs: JobRunner | None = None) -> FastAPI:
    """A ready app on ``settings`` (default: from the environment). The database must be migrated."""
    settings = settings or Settings()
    runner = jobs or JobRunner()
    key = settings.pseudonym_key.encode() or secrets.token_bytes(32)
    new_uow = unit_of_work_factory(settings)
    context = AppContext(settings, new_uow, runner, LoginRateLimiter(), key)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        runner.shutdown(wait=False)
        new_uow.dispose()

    app = FastAPI(
        title="ketamine-therapy",
        version="0.1.0",
        summary="Running ketamine and esketamine therapy for depression, grounded in pharmacology. " + DISCLAIMER,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.context = context
    app.include_router(api_router, prefix="/api/v1")
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_errors(app, render_problem_page)

    @app.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/api/openapi.json", title="ketamine-therapy API",
                                   swagger_js_url="/static/vendor/swagger-ui-bundle.js",
                                   swagger_css_url="/static/vendor/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg",
                                   swagger_ui_parameters={"validatorUrl": None})  # fmt: skip  # offline: no badge

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app
