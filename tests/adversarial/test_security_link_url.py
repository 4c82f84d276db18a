"""A questionnaire link's URL comes from the configured public URL, never from the request's ``Host`` header."""

from __future__ import annotations

import shutil
from pathlib import Path

from ..integration.api.conftest import Api, api_on


def test_the_host_header_never_makes_the_link(api: Api) -> None:
    pid = api.patient_ids[0]
    r = api.client.post(f"/api/v1/patients/{pid}/questionnaire-links", json={"scale_id": "PHQ-9"},
                        headers={**api.headers("nurse"), "Host": "evil.example"})  # fmt: skip
    assert r.status_code == 201
    assert r.json()["url"].startswith("https://clinic.example.org/q/")


def test_without_a_public_url_links_are_refused_clearly(seeded_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    shutil.copy(seeded_template, path)
    for api in api_on(f"sqlite:///{path}", public_url=""):
        pid = api.patient_ids[0]
        r = api.client.post(f"/api/v1/patients/{pid}/questionnaire-links", json={"scale_id": "PHQ-9"},
                            headers={**api.headers("nurse"), "Host": "evil.example"})  # fmt: skip
        assert r.status_code == 409
        assert "KETAMINE_THERAPY_PUBLIC_URL" in r.json()["detail"]
        log = api.get("admin", "/audit", params={"patient_id": str(pid)}).json()["items"]
        assert not any(e["entity"] == "questionnaire-link" for e in log)  # refused before any link was made
