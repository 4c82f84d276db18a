"""Security headers on every response, a 500 included; a CSP without inline scripts that the pages and the API
docs live with; HSTS over TLS; no ``Server`` banner from the real server."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from ketamine_therapy.app import create_app
from ketamine_therapy.config import Settings
from ketamine_therapy.http.middleware import SECURITY_HEADERS
from ketamine_therapy.storage.db import make_engine
from ketamine_therapy.storage.migrate import upgrade
from ketamine_therapy.web import STATIC_DIR

from ..integration.api.conftest import Api
from .conftest import served


def _failing_app(tmp_path: Path) -> FastAPI:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app = create_app(Settings(database_url=url))

    def boom() -> None:
        raise RuntimeError("unexpected")

    app.add_api_route("/api/v1/boom", boom)
    app.add_api_route("/boom", boom)
    return app


def test_a_500_carries_the_security_headers_and_a_problem(tmp_path: Path) -> None:
    with TestClient(_failing_app(tmp_path), base_url="https://testserver") as client:
        for path in ("/api/v1/boom", "/boom"):
            r = client.get(path)
            assert r.status_code == 500
            for name, value in SECURITY_HEADERS.items():
                assert r.headers[name] == value, (path, name)
            assert r.headers["Strict-Transport-Security"].startswith("max-age=")
        assert client.get("/api/v1/boom").headers["content-type"] == "application/problem+json"


def test_hsts_only_over_tls(tmp_path: Path) -> None:
    app = _failing_app(tmp_path)
    with TestClient(app, base_url="http://testserver") as plain:
        assert "Strict-Transport-Security" not in plain.get("/healthz").headers
    with TestClient(app, base_url="https://testserver") as tls:
        assert "Strict-Transport-Security" in tls.get("/healthz").headers


def test_csp_allows_no_inline_script_and_no_page_needs_one(api: Api) -> None:
    csp = api.client.get("/login").headers["Content-Security-Policy"]
    script = re.search(r"script-src ([^;]+)", csp)
    assert script
    assert "unsafe-inline" not in script.group(1)
    assert "unsafe-eval" not in script.group(1)
    docs = api.client.get("/api/docs")
    assert docs.status_code == 200
    pages = [docs.text, api.client.get("/login").text]
    pages += [p.read_text() for p in (STATIC_DIR.parent / "templates").glob("*.html")]
    for text in pages:
        for tag in re.findall(r"<script\b[^>]*>(.*?)</script>", text, flags=re.S):
            assert not tag.strip(), f"inline script: {tag[:80]}"
        assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler"
    for src in re.findall(r'<script src="([^"]+)"', docs.text):
        assert api.client.get(src).status_code == 200, src


def test_the_served_app_announces_no_server(tmp_path: Path) -> None:
    with served(_failing_app(tmp_path)) as url, urllib.request.urlopen(f"{url}/healthz", timeout=10) as r:
        assert r.status == 200
        assert r.headers.get("Server") is None
        assert r.headers["X-Frame-Options"] == "DENY"
