"""Every role x every endpoint: allowed (any answer but 401/403) or 403, by the permission each endpoint needs.

The table below is written from the product's rules (DESIGN.md section 5 and services.authorization); a new
route must be added here, and the completeness test fails until it is.
"""

from __future__ import annotations

import re
import uuid

import pytest

from ketamine_therapy.services.authorization import PERMISSIONS, Permission, Role

from .conftest import Api

P = Permission
ANY = None  # any logged-in user
STABLE = dict.fromkeys(("clinically_stable", "sedation_resolved", "dissociation_resolved",
                        "respiratory_depression_resolved", "bp_decreasing_or_safe"), True)  # fmt: skip
SESSION_STEPS: dict[str, dict[str, object]] = {
    "check-in": {"consent": True, "ride_home": True, "pregnancy_test": "not_applicable",
                 "bp": {"systolic": 120, "diastolic": 80}},
    "bp-decision": {"proceed": True, "reason": "x"},
    "dose": {"mg_per_kg": 0.5, "duration_min": 40},
    "monitoring": {},
    "vitals": {"heart_rate": 70},
    "cadss6": {"value": 1},
    "moaas": {"value": 5},
    "adverse-events": {"description": "x", "severity": "mild"},
    "discharge": STABLE,
    "stop": {"reason": "x"},
}  # fmt: skip
"""A valid body per step, so that a refusal is the permission's and not the request's shape."""
ENDPOINTS: list[tuple[str, str, object, Permission | None]] = [
    ("GET", "/auth/me", None, ANY),
    ("POST", "/auth/password", {"current_password": "not the password", "new_password": "long enough, but refused"},
     ANY),  # a wrong current password: 422 (one failed login of five)
    ("GET", "/patients", None, P.PATIENT_READ),
    ("POST", "/patients", {"given_name": "A", "family_name": "B", "date_of_birth": "1980-01-01", "sex": "male"},
     P.PATIENT_WRITE),
    ("GET", "/patients/{pid}", None, P.PATIENT_READ),
    ("PATCH", "/patients/{pid}", {"reason": "r", "phone": "1"}, P.PATIENT_WRITE),
    ("POST", "/patients/{pid}/weights", {"measured_on": "2026-01-01", "weight_kg": 70}, P.PATIENT_WRITE),
    ("POST", "/patients/{pid}/consents", {"document": "IV ketamine consent", "signed_on": "2026-01-01"},
     P.PATIENT_WRITE),
    ("GET", "/patients/{pid}/history", None, P.PATIENT_READ),
    ("POST", "/patients/{pid}/screenings", {"screened_on": "2026-01-01", "route": "iv", "episode_months": 12,
     "severity": "moderate", "trials": [], "augmentation_used": False, "ect_used": False}, P.SCREENING_WRITE),
    ("GET", "/patients/{pid}/screenings", None, P.PATIENT_READ),
    ("PUT", "/patients/{pid}/coverage", {"payer": "commercial", "prior_authorization_approved": True,
                                          "patient_coinsurance": "0.2"}, P.PATIENT_WRITE),
    ("GET", "/patients/{pid}/coverage", None, P.COST_READ),
    ("GET", "/patients/{pid}/costs", None, P.COST_READ),
    ("POST", "/patients/{pid}/scales", {"scale_id": "GAD-7", "answers": [1] * 7, "taken_on": "2026-01-01"},
     P.SCALE_WRITE),
    ("GET", "/patients/{pid}/scales", None, P.SCALE_READ),
    ("GET", "/patients/{pid}/course", None, P.SCALE_READ),
    ("GET", "/patients/{pid}/booster", None, P.SCALE_READ),
    ("GET", "/patients/{pid}/forecast", None, P.FORECAST_READ),
    ("POST", "/patients/{pid}/questionnaire-links", {"scale_id": "PHQ-9"}, P.QUESTIONNAIRE_LINK),
    ("GET", "/protocols", None, ANY),
    ("POST", "/patients/{pid}/plans", {"protocol_id": "iv-acute-series", "start": "2027-01-04"}, P.PLAN_WRITE),
    ("GET", "/patients/{pid}/plans", None, P.PATIENT_READ),
    ("GET", "/plans/{plan}", None, P.PATIENT_READ),
    ("GET", "/plans/{plan}/estimate", None, P.COST_READ),
    ("GET", "/sessions", None, P.PATIENT_READ),
    ("POST", "/patients/{pid}/sessions", {"kind": "iv-ketamine", "scheduled_at": "2027-01-04T14:00:00Z"},
     P.PLAN_WRITE),
    ("GET", "/patients/{pid}/sessions", None, P.PATIENT_READ),
    ("GET", "/sessions/{sid}", None, P.PATIENT_READ),
    ("GET", "/sessions/{sid}/history", None, P.PATIENT_READ),
    *[("POST", f"/sessions/{{sid}}/{step}", body, P.SESSION_RUN) for step, body in SESSION_STEPS.items()],
    ("POST", "/patients/{pid}/rems-enrollment", {"enrolled_on": "2026-01-01", "patient_signed": True,
                                                 "prescriber_signed": True}, P.REMS_WRITE),
    ("GET", "/patients/{pid}/rems-enrollment", None, P.REMS_READ),
    ("GET", "/rems/forms", None, P.REMS_READ),
    ("GET", "/rems/forms/{form}", None, P.REMS_READ),
    ("GET", "/rems/forms/{form}/export", None, P.REMS_READ),
    ("POST", "/rems/forms/{form}/submitted", {"submitted_on": "2030-01-01"}, P.REMS_WRITE),
    ("POST", "/simulations", {"dose_mg_per_kg": 0.5, "n_subjects": 5, "hours": 2}, P.RESEARCH_RUN),
    ("POST", "/simulations/plot", {"dose_mg_per_kg": 0.5, "n_subjects": 5, "hours": 2}, P.RESEARCH_RUN),
    ("POST", "/trials", {"spec": "name: x", "format": "yaml"}, P.RESEARCH_RUN),
    ("GET", "/jobs/{job}", None, P.RESEARCH_RUN),
    ("GET", "/jobs/{job}/plot", None, P.RESEARCH_RUN),
    ("GET", "/research/outcomes", None, P.DEIDENTIFIED_READ),
    ("GET", "/audit", None, P.AUDIT_READ),
    ("GET", "/users", None, P.USER_ADMIN),
    ("POST", "/users", {"username": "new.user.{n}", "role": "therapist"}, P.USER_ADMIN),
    ("POST", "/users/{user}/password-reset", None, P.USER_ADMIN),
    ("GET", "/clinic/settings", None, ANY),
    ("PATCH", "/clinic/settings", {"reason": "x"}, P.USER_ADMIN),
]  # fmt: skip
PUBLIC = {("POST", "/auth/token"), ("GET", "/scales"), ("GET", "/questionnaires/{token}"),
          ("POST", "/questionnaires/{token}"), ("DELETE", "/auth/token")}  # fmt: skip
"""Routes outside the matrix: no login needed (the token is the permission), or logging out (tested elsewhere)."""


def _shape(path: str) -> str:
    """A path with its parameters' names dropped: ``/patients/{}/scales``."""
    return re.sub(r"\{[^}]*\}", "{}", path)


@pytest.fixture(scope="module")
def ids(shared_api: Api) -> dict[str, str]:
    api = shared_api
    pid = next(p for p in api.patient_ids if api.get("nurse", f"/patients/{p}/sessions").json())
    session = api.get("nurse", f"/patients/{pid}/sessions").json()[-1]
    forms = api.get("nurse", "/rems/forms").json()
    return {"pid": str(pid), "sid": session["id"], "plan": session["plan_id"], "form": forms[0]["id"],
            "job": str(uuid.uuid4()), "user": "no.such.user"}  # fmt: skip


def test_every_api_route_is_in_the_table(shared_api: Api) -> None:
    schema = shared_api.client.get("/api/openapi.json").json()
    routes = {(m.upper(), _shape(path.removeprefix("/api/v1"))) for path, ops in schema["paths"].items() for m in ops}
    listed = {(m, _shape(p)) for m, p, _, _ in ENDPOINTS} | {(m, _shape(p)) for m, p in PUBLIC}
    assert routes == listed


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize(
    ("method", "path", "body", "permission"), ENDPOINTS, ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS]
)
def test_role_endpoint_matrix(
    shared_api: Api, ids: dict[str, str], role: Role, method: str, path: str, body: object,
    permission: Permission | None,
) -> None:  # fmt: skip
    url = path.format(**ids)
    if isinstance(body, dict) and "username" in body:
        body = {**body, "username": f"new.user.{role.value}"}
    r = shared_api.send(role.value, method, url, body, version=1 if method in ("PATCH", "POST", "PUT") else None)
    allowed = permission is None or permission in PERMISSIONS[role]
    if allowed:
        assert r.status_code not in (401, 403), f"{role.value} {method} {url}: {r.status_code} {r.text[:200]}"
    else:
        assert r.status_code == 403, f"{role.value} {method} {url}: {r.status_code} {r.text[:200]}"
        assert r.json()["type"] == "/problems/forbidden"
