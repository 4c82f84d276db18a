"""A password change (an admin's reset, the demo's restart, the user's own change) ends every session of the
user; users change their own password through the API and a web page. On SQLite and PostgreSQL."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from ketamine_therapy.bootstrap import unit_of_work_factory
from ketamine_therapy.config import Settings
from ketamine_therapy.services.demo_clinic import demo_logins

from ..integration.api.conftest import Api
from ..integration.web.login import post_login

NEW = "a brand new passphrase 42"


def _second_session(api: Api, role: str) -> str:
    user, password = api.passwords[role]
    r = api.client.post("/api/v1/auth/token", json={"username": user, "password": password})
    assert r.status_code == 201
    return str(r.json()["access_token"])


def _alive(api: Api, token: str) -> bool:
    r = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code in (200, 401)
    return r.status_code == 200


def test_an_admin_reset_ends_every_session(db_api: Api) -> None:
    tokens = [db_api.tokens["nurse"], _second_session(db_api, "nurse")]
    assert all(_alive(db_api, t) for t in tokens)
    user = db_api.passwords["nurse"][0]
    r = db_api.send("admin", "POST", f"/users/{user}/password-reset")
    assert r.status_code == 200
    assert not any(_alive(db_api, t) for t in tokens)
    assert _alive(db_api, db_api.tokens["prescriber"])  # other users keep theirs
    again = db_api.client.post("/api/v1/auth/token", json={"username": user, "password": r.json()["password"]})
    assert again.status_code == 201


def test_the_demo_restart_ends_the_demo_logins_sessions(db_api: Api) -> None:
    token = db_api.tokens["therapist"]
    new_uow = unit_of_work_factory(Settings(database_url=db_api.database_url))
    demo_logins(new_uow)  # what `serve --demo` does at every start
    new_uow.dispose()
    assert not _alive(db_api, token)


def test_self_service_change_through_the_api(db_api: Api) -> None:
    user, old = db_api.passwords["therapist"]
    other = _second_session(db_api, "therapist")
    wrong = db_api.send(
        "therapist", "POST", "/auth/password", {"current_password": "not it at all", "new_password": NEW}
    )
    assert wrong.status_code == 422
    assert wrong.json()["field"] == "current_password"
    short = db_api.send("therapist", "POST", "/auth/password", {"current_password": old, "new_password": "short"})
    assert short.status_code == 422
    assert _alive(db_api, other)  # refusals change nothing
    ok = db_api.send("therapist", "POST", "/auth/password", {"current_password": old, "new_password": NEW})
    assert ok.status_code == 204
    assert not _alive(db_api, db_api.tokens["therapist"])
    assert not _alive(db_api, other)
    assert db_api.client.post("/api/v1/auth/token", json={"username": user, "password": old}).status_code == 401
    assert db_api.client.post("/api/v1/auth/token", json={"username": user, "password": NEW}).status_code == 201


def test_self_service_change_through_the_web_page(api: Api) -> None:
    user, old = api.passwords["nurse"]
    browser = TestClient(api.client.app, base_url="https://testserver")
    assert post_login(browser, {"username": user, "password": old}).status_code in (200, 303)
    page = browser.get("/account/password")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    form = {"csrf_token": csrf.group(1), "current_password": old, "new_password": NEW, "confirm_password": NEW}
    mismatch = browser.post("/account/password", data={**form, "confirm_password": NEW + "!"})
    assert mismatch.status_code == 422
    assert "confirm_password" in mismatch.text
    done = browser.post("/account/password", data=form, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == "/login?changed=1"
    assert not _alive(api, api.tokens["nurse"])  # the API session ended with the web one
    assert browser.get("/", follow_redirects=False).status_code == 303  # back to the login page
