"""The application factory: settings -> database -> services -> FastAPI app with the API and the web pages.

Nothing here runs at import time; ``ketamine-therapy serve`` (or a test) calls :func:`create_app`.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from . import __version__
from .api.openapi import with_problems
from .api.routes import router as api_router
from .bootstrap import unit_of_work_factory
from .config import Settings
from .http.context import AppContext
from .http.input_guard import InputGuardMiddleware
from .http.middleware import EdgeMiddleware
from .http.problems import install_errors
from .services.accounts.rate_limit import LoginRateLimiter
from .services.jobs import JobRunner
from .web import STATIC_DIR
from .web.errors import render_problem_page
from .web.routes import router as web_router

SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ketamine-therapy API</title>
<link rel="icon" href="/static/favicon.svg"><link rel="stylesheet" href="/static/vendor/swagger-ui.css"></head>
<body><div id="swagger-ui" data-openapi-url="/api/openapi.json"></div>
<script src="/static/vendor/swagger-ui-bundle.js"></script><script src="/static/swagger-init.js"></script>
</body></html>
"""
DISCLAIMER = "Decision-support software, not a medical device: every decision stays with the treating clinician."


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
        version=__version__,
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
    app.openapi = with_problems(app.openapi)  # type: ignore[method-assign]  # errors as problem+json, per status

    @app.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(SWAGGER_PAGE)  # its start-up script is a static file: the CSP allows no inline script

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(InputGuardMiddleware, render_page=render_problem_page)
    app.add_middleware(EdgeMiddleware, render_page=render_problem_page)
    # the client address (audit log, login limiter) and TLS come from proxy headers only when a configured proxy
    # sent them; anyone else's X-Forwarded-For is ignored
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    return app
