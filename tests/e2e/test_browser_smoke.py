"""The browser fixture itself works: Chromium opens a static page, runs its JavaScript, takes a screenshot."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import free_port, http_status, serve

HTML = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>smoke</title></head>
<body>
  <h1 id="greeting">waiting</h1>
  <button id="go" onclick="document.getElementById('greeting').textContent = 'clicked ' + (6 * 7)">Go</button>
</body></html>
"""


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(HTML)))
        self.end_headers()
        self.wfile.write(HTML)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def static_site() -> Iterator[str]:
    """A one-page site on a free port of 127.0.0.1, served from a thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_chromium_runs_inline_javascript(page: Page, static_site: str, shot: Callable[[Page, str], Path]) -> None:
    page.goto(static_site)
    expect(page.locator("#greeting")).to_have_text("waiting")
    page.get_by_role("button", name="Go").click()
    expect(page.locator("#greeting")).to_have_text("clicked 42")
    assert page.viewport_size == {"width": 1024, "height": 768}
    path = shot(page, "browser-smoke")
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


FAKE_APP = """
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()
        self.wfile.write(b"ok")

print("demo login: nurse nina s3cret-1", flush=True)
print("demo login: prescriber dr.lee pa55-word", flush=True)
HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def test_serve_waits_for_healthz_and_reads_the_demo_logins(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-c", FAKE_APP, str(port)]
    with serve(command, port, tmp_path / "server.log", dict(os.environ), tmp_path) as server:
        assert http_status(server.url("/healthz")) == 200
        assert server.logins == {"nurse": ("nina", "s3cret-1"), "prescriber": ("dr.lee", "pa55-word")}
        assert server.login("prescriber") == ("dr.lee", "pa55-word")


def test_serve_fails_with_the_log_tail_when_the_server_exits(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import sys; print('boom: no such command'); sys.exit(3)"]
    log_path = tmp_path / "server.log"
    with (
        pytest.raises(pytest.fail.Exception, match=r"(?s)exited with code 3.*boom: no such command"),
        serve(command, free_port(), log_path, dict(os.environ), tmp_path),
    ):
        pytest.fail("serve() returned although the server exited")
