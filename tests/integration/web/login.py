"""Log in through the login page as a browser does: open the form (which sets its anti-CSRF cookie), then post."""

from __future__ import annotations

import re
from typing import Any

import httpx2
from fastapi.testclient import TestClient

TOKEN = re.compile(r'name="login_token" value="([^"]+)"')


def post_login(client: TestClient, data: dict[str, str], **kw: Any) -> httpx2.Response:
    """POST /login with the token of a freshly opened login form."""
    match = TOKEN.search(client.get("/login").text)
    assert match, "the login form carries its anti-CSRF token"
    return client.post("/login", data={**data, "login_token": match.group(1)}, **kw)
