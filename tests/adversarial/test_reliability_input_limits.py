"""Inputs at the limits answer 4xx, never 500: dates whose time-zone conversion leaves years 1-9999, a booster
asked for before the first session, a NUL byte or an unpaired surrogate in any text. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ketamine_therapy.http.input_guard import MAX_BODY_BYTES

from ..integration.api.conftest import Api


def _post(api: Api, path: str, body: object) -> Any:
    """POST ``body`` as ASCII JSON (``\\u`` escapes: an unpaired surrogate travels as the client sent it)."""
    return api.client.post(f"/api/v1{path}", content=json.dumps(body).encode(),
                           headers=api.headers("prescriber", **{"Content-Type": "application/json"}))  # fmt: skip


def test_dates_at_the_limits(db_api: Api) -> None:
    pid = db_api.patient_ids[0]
    for at in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        r = db_api.send("prescriber", "POST", f"/patients/{pid}/sessions", {"kind": "iv-ketamine", "scheduled_at": at})
        assert r.status_code == 422, (at, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    for day in ("9999-12-31", "0001-01-01"):
        assert db_api.get("nurse", "/sessions", params={"day": day}).status_code in (200, 422)


def test_booster_before_the_first_session(db_api: Api) -> None:
    codes = {db_api.get("prescriber", f"/patients/{pid}/booster", params={"today": "2000-01-01"}).status_code
             for pid in db_api.patient_ids}  # fmt: skip
    assert codes == {422}


def test_control_characters_in_any_text(db_api: Api) -> None:
    patient = {"given_name": "Ada", "family_name": "Nul", "date_of_birth": "1970-01-01", "sex": "female"}
    for bad in ("Ada\u0000", "Ada\ud800", "Ada\u001b[31m"):
        r = _post(db_api, "/patients", {**patient, "given_name": bad})
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["field"] == "given_name"
    nested = db_api.send("prescriber", "POST", f"/patients/{db_api.patient_ids[0]}/screenings",
                         {"medications": ["sertraline\u0000"]})  # fmt: skip
    assert nested.status_code == 422
    assert nested.json()["field"] == "medications.0"
    query = db_api.get("nurse", "/rems/forms", params={"as_of": "2026-01-01\u0000"})
    assert query.status_code == 422
    fine = db_api.send("prescriber", "POST", "/patients", {**patient, "given_name": "Ada\tLovelace\r\nByron"})
    assert fine.status_code in (201, 422)  # tabs and line breaks pass this check (the name rules may refuse them)
    assert "control character" not in fine.text
    listing = db_api.get("nurse", "/patients", params={"limit": 100}).json()["items"]
    assert not [p for p in listing if p["family_name"] == "Nul" and "\x00" in p["given_name"]]


def test_control_characters_in_a_web_form(api: Api) -> None:
    api.client.cookies.set("kt_session", api.tokens["prescriber"])
    page = api.client.get("/patients/new")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    r = api.client.post("/patients/new", data={"csrf_token": csrf.group(1), "given_name": "A\x00", "family_name": "B"})
    assert r.status_code == 422
    assert "given_name" in r.text


def test_a_date_out_of_its_window_names_the_field_and_the_allowed_range(db_api: Api) -> None:
    pid = db_api.patient_ids[0]
    r = db_api.send("prescriber", "POST", f"/patients/{pid}/sessions",
                    {"kind": "iv-ketamine", "scheduled_at": "0001-01-01T00:00:00+14:00"})  # fmt: skip
    assert (r.status_code, r.json()["field"]) == (422, "scheduled_at")
    assert r.json()["allowed"] == "a time from 1900-01-01 to 9998-12-31"
    r = db_api.get("nurse", "/sessions", params={"day": "9999-12-31"})
    assert (r.status_code, r.json()["field"], r.json()["allowed"]) == (
        422,
        "day",
        "a date from 1900-01-01 to 9998-12-31",
    )


def test_a_body_over_the_limit_is_refused_before_it_is_read(api: Api) -> None:
    """1 MB: a declared oversize body is refused at once; a streamed one (no Content-Length) once it passes the cap."""
    big = json.dumps({"given_name": "A" * (MAX_BODY_BYTES + 10)}).encode()
    headers = api.headers("prescriber", **{"Content-Type": "application/json"})
    r = api.client.post("/api/v1/patients", content=big, headers=headers)
    assert (r.status_code, r.headers["content-type"], r.json()["field"]) == (413, "application/problem+json", "body")

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    r = api.client.post("/api/v1/patients", content=chunks(), headers=headers)
    assert "content-length" not in {k.lower() for k in r.request.headers}
    assert r.status_code == 413
    api.client.cookies.set("kt_session", api.tokens["prescriber"])
    r = api.client.post("/patients/new", content=b"given_name=" + b"A" * (MAX_BODY_BYTES + 1),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.status_code == 413
    assert "at most 1000000 bytes" in r.text
    small = _post(api, "/patients", {"given_name": "Ada", "family_name": "Small", "date_of_birth": "1970-01-01",
                                     "sex": "female"})  # fmt: skip
    assert small.status_code == 201, small.text
