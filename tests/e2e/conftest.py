"""Browser tests: Debian's Chromium driven by Playwright (sync API), and the app served as a real subprocess.

Fixtures:

- ``browser`` (session): headless ``/usr/bin/chromium``. Without it the tests fail when ``CI`` is set
  (``.ci/run`` installs it) and are skipped, loudly, otherwise.
- ``live_server`` (session): ``python -m ketamine_therapy serve --demo`` on a free port with a fresh SQLite
  database; yields :class:`LiveServer` (``base_url``, ``log_path``, ``logins``: role -> (username, password)).
- ``page``: a new 1024x768 (tablet-sized) browser context and page per test.
- ``shot``: ``shot(page, name)`` saves ``tests/e2e/screenshots/<name>.png`` (git-ignored).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT: ViewportSize = {"width": 1024, "height": 768}  # a tablet in landscape
SCREENSHOTS = Path(__file__).parent / "screenshots"
STARTUP_TIMEOUT_S = 90.0
LOGIN_LINE = re.compile(r"^demo login: (\S+) (\S+) (\S+)\s*$", re.MULTILINE)
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 never goes through a proxy


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_status(url: str, timeout_s: float = 2.0) -> int | None:
    """The HTTP status of ``GET url`` (no proxy), or ``None`` if nothing answers."""
    try:
        with _NO_PROXY.open(url, timeout=timeout_s) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return None


def log_tail(path: Path, lines: int = 60) -> str:
    """The last ``lines`` lines of a log file (or a note that it is empty)."""
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def parse_logins(text: str) -> dict[str, tuple[str, str]]:
    """``demo login: <role> <username> <password>`` lines -> {role: (username, password)}."""
    return {role: (username, password) for role, username, password in LOGIN_LINE.findall(text)}


@dataclass
class LiveServer:
    """The app running as a subprocess: its address, its log and the demo logins it printed."""

    base_url: str
    log_path: Path
    logins: dict[str, tuple[str, str]] = field(default_factory=dict)

    def url(self, path: str = "/") -> str:
        """``base_url`` joined with ``path``."""
        return self.base_url + "/" + path.lstrip("/")

    def login(self, role: str) -> tuple[str, str]:
        """The demo (username, password) of ``role``; re-reads the log in case it was printed late."""
        if role not in self.logins:
            self.logins.update(parse_logins(self.log_path.read_text("utf-8", errors="replace")))
        if role not in self.logins:
            pytest.fail(f"the server printed no 'demo login: {role} ...' line; log tail:\n{log_tail(self.log_path)}")
        return self.logins[role]


def take_shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot of ``page`` as ``tests/e2e/screenshots/<name>.png``."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"screenshot name {name!r}: use letters, digits, _ . -")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def shot() -> Callable[[Page, str], Path]:
    """``shot(page, name)``: save a screenshot to ``tests/e2e/screenshots/<name>.png``."""
    return take_shot


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium through Playwright's sync API (one per test session)."""
    if not CHROMIUM.exists():
        message = f"!!! BROWSER TESTS NOT RUN: {CHROMIUM} is missing (apt-get install chromium) !!!"
        if os.environ.get("CI"):
            pytest.fail(message)
        sys.stderr.write(f"\n{message}\n")
        pytest.skip(message)
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh tablet-sized (1024x768) context and page for one test."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        yield context.new_page()
    finally:
        context.close()


@contextmanager
def serve(command: list[str], port: int, log_path: Path, env: dict[str, str], cwd: Path) -> Iterator[LiveServer]:
    """Run ``command`` (a server on 127.0.0.1:``port``) until ``/healthz`` answers 200; stop it afterwards.

    Fails the test (with the log's tail) if the process exits or is not healthy within ``STARTUP_TIMEOUT_S``.
    """
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited with code {process.returncode}; log tail:\n{log_tail(log_path)}")
            if http_status(base_url + "/healthz") == 200:
                break
            if time.monotonic() > deadline:
                pytest.fail(f"no 200 from {base_url}/healthz within {STARTUP_TIMEOUT_S:g} s; log tail:\n"
                            f"{log_tail(log_path)}")  # fmt: skip
            time.sleep(0.25)
        yield LiveServer(base_url, log_path, parse_logins(log_path.read_text("utf-8", errors="replace")))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``python -m ketamine_therapy serve --demo`` on a free port with its own SQLite database."""
    tmp = tmp_path_factory.mktemp("live-server")
    port = free_port()
    env = {
        **os.environ,
        "KETAMINE_THERAPY_DATABASE_URL": f"sqlite:///{tmp / 'e2e.db'}",
        "PYTHONUNBUFFERED": "1",  # the demo login lines reach the log at once
    }
    command = [sys.executable, "-m", "ketamine_therapy", "serve", "--host", "127.0.0.1", "--port", str(port), "--demo"]
    with serve(command, port, tmp / "server.log", env, tmp) as server:
        yield server
