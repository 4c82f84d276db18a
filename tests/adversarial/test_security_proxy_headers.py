"""``X-Forwarded-For`` is believed only from a configured proxy: the login rate limit and the audit's source
address cannot be chosen by the client. Served by uvicorn with ``serve``'s options, as in production."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from ketamine_therapy.app import create_app
from ketamine_therapy.bootstrap import unit_of_work_factory
from ketamine_therapy.config import Settings
from ketamine_therapy.services.audit import audit_entries
from ketamine_therapy.services.authorization import Actor, Role
from ketamine_therapy.storage.db import make_engine
from ketamine_therapy.storage.migrate import upgrade

from .conftest import served

ADMIN = Actor("test-admin", Role.ADMIN, "test")


def _login(url: str, forwarded_for: str) -> int:
    body = json.dumps({"username": "nobody", "password": "wrong password!"}).encode()
    headers = {"Content-Type": "application/json", "X-Forwarded-For": forwarded_for}
    request = urllib.request.Request(f"{url}/api/v1/auth/token", body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _settings(tmp_path: Path, **fields: object) -> Settings:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return Settings.model_validate({"database_url": url, **fields})


def _sources(settings: Settings) -> set[str]:
    new_uow = unit_of_work_factory(settings)
    entries = audit_entries(new_uow(), ADMIN, limit=100)
    new_uow.dispose()
    return {e.source for e in entries if e.action == "login-failed"}


def test_a_client_cannot_choose_its_address(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with served(create_app(settings)) as url:
        codes = [_login(url, f"198.51.100.{i}") for i in range(21)]  # 21 "different" clients
    assert codes[:20] == [401] * 20
    assert codes[20] == 429  # one client: the 20-per-15-minutes limit holds
    assert _sources(settings) == {"127.0.0.1"}


def test_a_configured_proxy_is_believed(tmp_path: Path) -> None:
    settings = _settings(tmp_path, trusted_proxies=["127.0.0.1"])
    with served(create_app(settings)) as url:
        assert _login(url, "203.0.113.7, 10.0.0.2") == 401
        assert _login(url, "198.51.100.1") == 401
    # the right-most address the proxy did not add itself; what the client wrote before it is not believed
    assert _sources(settings) == {"10.0.0.2", "198.51.100.1"}
