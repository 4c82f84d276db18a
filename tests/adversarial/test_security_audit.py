"""The audit log: TRUNCATE refused on PostgreSQL, 403 refusals and CSV exports audited as such, list reads
carry the ids of the patients they showed. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError

from ..integration.api.conftest import Api


def _log(api: Api, **params: object) -> list[dict[str, object]]:
    return list(api.get("admin", "/audit", params={"limit": 200, **params}).json()["items"])


def test_the_audit_log_cannot_be_emptied(db_api: Api) -> None:
    engine = create_engine(db_api.database_url)
    statements = ["DELETE FROM audit_log", "UPDATE audit_log SET detail = 'x'"]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_log")
    for statement in statements:
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() > 0
    engine.dispose()


def test_refusals_are_audited(db_api: Api) -> None:
    pid = db_api.patient_ids[0]
    assert db_api.get("therapist", f"/patients/{pid}/coverage").status_code == 403
    assert db_api.get("researcher", "/patients").status_code == 403
    denied = [e for e in _log(db_api) if e["action"] == "denied"]
    assert {(e["username"], e["patient_id"]) for e in denied} >= {
        (db_api.passwords["therapist"][0], str(pid)),
        (db_api.passwords["researcher"][0], None),
    }
    assert any("cost:read" in str(e["detail"]) and "/coverage" in str(e["detail"]) for e in denied)
    db_api.client.cookies.set("kt_session", db_api.tokens["nurse"])  # a cookie without its CSRF token
    assert (
        db_api.client.post(f"/api/v1/patients/{pid}/questionnaire-links", json={"scale_id": "PHQ-9"}).status_code == 403
    )
    db_api.client.cookies.clear()
    assert any(e["username"] == db_api.passwords["nurse"][0] and "CSRF" in str(e["detail"])
               for e in _log(db_api, patient_id=str(pid)) if e["action"] == "denied")  # fmt: skip


def test_list_reads_carry_the_patients_they_showed(db_api: Api) -> None:
    shown = {p["id"] for p in db_api.get("nurse", "/patients").json()["items"]}
    assert len(shown) >= 3
    for pid in shown:
        entries = _log(db_api, patient_id=pid)
        assert any(e["entity"] == "patient-list" and e["username"] == db_api.passwords["nurse"][0] for e in entries)
    forms = db_api.get("nurse", "/rems/forms").json()
    for pid in {f["patient_id"] for f in forms}:
        assert any(e["entity"] == "rems-form-list" for e in _log(db_api, patient_id=pid))
