"""The web pages over a real SQLite clinic: login/logout, CSRF, what each role may open, forms that re-render with
the field named and store nothing, the plan editor, the questionnaire link end to end, REMS, audit and users."""

from __future__ import annotations

import csv
import io
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from ketamine_therapy.app import create_app
from ketamine_therapy.bootstrap import unit_of_work_factory
from ketamine_therapy.clinic.scales import SCALES
from ketamine_therapy.config import Settings
from ketamine_therapy.services.accounts.questionnaire_links import LINK_SCALES
from ketamine_therapy.services.authorization import SYSTEM
from ketamine_therapy.services.demo_clinic import demo_logins, seed_demo_clinic
from ketamine_therapy.services.patients import list_patients
from ketamine_therapy.services.plans import plans_for
from ketamine_therapy.services.rems_forms import form_statuses
from ketamine_therapy.storage.db import make_engine
from ketamine_therapy.storage.migrate import upgrade
from ketamine_therapy.web.auth_pages import safe_next
from ketamine_therapy.web.questionnaire_pages import QUESTIONNAIRES

from .login import post_login

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PATIENT_LINK = re.compile(r'href="/patients/([0-9a-f-]{36})"')
REMS_LINK = re.compile(r'href="/rems/([0-9a-f-]{36})"')


@dataclass(frozen=True)
class Template:
    path: Path
    logins: dict[str, tuple[str, str]]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """A migrated database with 5 demo patients and the demo staff logins (seeded once per module)."""
    path = tmp_path_factory.mktemp("web-template") / "clinic.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    new_uow = unit_of_work_factory(Settings(database_url=f"sqlite:///{path}"))
    seed_demo_clinic(new_uow, n_patients=5, seed=5, today=date.today())  # noqa: DTZ011 - the clinic's calendar day
    logins = {role: (user, password) for role, user, password in demo_logins(new_uow)}
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:  # move the write-ahead log into the file, so that a copy of the file has it all
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return Template(path, logins)


@dataclass
class Web:
    """A browser-like client (https, cookies) on a fresh copy of the seeded clinic."""

    client: TestClient
    logins: dict[str, tuple[str, str]]
    settings: Settings

    def login(self, role: str, next_url: str = "/") -> httpx2.Response:
        username, password = self.logins[role]
        response = post_login(self.client, {"username": username, "password": password, "next": next_url},
                                    follow_redirects=False)  # fmt: skip
        assert response.status_code == 303, response.text
        return response

    def csrf(self, path: str = "/patients") -> str:
        match = CSRF.search(self.client.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def patient_ids(self) -> list[str]:
        return list(dict.fromkeys(PATIENT_LINK.findall(self.client.get("/patients").text)))

    def post(self, path: str, data: dict[str, str | list[str]], **kw: object) -> httpx2.Response:
        return self.client.post(path, data={"csrf_token": self.csrf(), **data}, follow_redirects=False, **kw)  # type: ignore[arg-type]


@pytest.fixture
def web(template: Template, tmp_path: Path) -> Iterator[Web]:
    path = tmp_path / "clinic.db"
    shutil.copy(template.path, path)
    settings = Settings(database_url=f"sqlite:///{path}", public_url="https://clinic.example.org")
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield Web(client, template.logins, settings)


def patient_count(web: Web) -> int:
    return len(list_patients(unit_of_work_factory(web.settings)(), SYSTEM, limit=1000))


# --- login and logout ------------------------------------------------------------------------------------------


def test_login_sets_a_strict_http_only_secure_cookie_and_goes_to_next(web: Web) -> None:
    page = web.client.get("/login?next=/patients")
    assert page.status_code == 200
    assert "Decision-support software, not a medical device" in page.text
    response = web.login("prescriber", "/patients")
    assert response.headers["location"] == "/patients"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("kt_session="))
    for part in ("HttpOnly", "Path=/", "SameSite=strict", "Secure"):
        assert part.lower() in cookie.lower()
    assert web.client.get("/patients").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:x", ""])
def test_next_never_leaves_the_site(target: str) -> None:
    assert safe_next(target) == "/"
    assert safe_next("/patients?page=2") == "/patients?page=2"


def test_wrong_password_says_so_and_sets_no_cookie(web: Web) -> None:
    username, _ = web.logins["nurse"]
    response = post_login(web.client, {"username": username, "password": "wrong-password-123"})
    assert response.status_code == 401
    assert "Invalid username or password" in response.text
    assert "kt_session" not in response.headers.get("set-cookie", "")
    assert web.client.get("/", follow_redirects=False).headers["location"] == "/login?next=/"


def test_a_login_post_without_the_form_token_is_refused(web: Web) -> None:
    """Login CSRF: a post from another site has no matching ``kt_login`` cookie and token."""
    username, password = web.logins["nurse"]
    forged = web.client.post("/login", data={"username": username, "password": password}, follow_redirects=False)
    assert forged.status_code == 403
    assert "kt_session" not in forged.headers.get("set-cookie", "")
    assert (
        post_login(web.client, {"username": username, "password": password}, follow_redirects=False).status_code == 303
    )


def test_lockout_after_five_failures_is_told_to_the_owner_only(web: Web) -> None:
    username, password = web.logins["therapist"]
    for _ in range(5):
        assert post_login(web.client, {"username": username, "password": "not-the-password"}).status_code == 401
    locked = post_login(web.client, {"username": username, "password": password})
    assert locked.status_code == 423
    assert "locked" in locked.text


def test_logout_needs_the_csrf_token_then_ends_the_session(web: Web) -> None:
    web.login("nurse")
    assert web.client.post("/logout", follow_redirects=False).status_code == 403  # no CSRF token
    assert web.client.get("/").status_code == 200  # still logged in
    response = web.client.post("/logout", data={"csrf_token": web.csrf("/")}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert 'kt_session=""' in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]
    after = web.client.get("/patients", follow_redirects=False)
    assert after.status_code == 303
    assert after.headers["location"] == "/login?next=/patients"


def test_a_form_post_without_csrf_is_refused(web: Web) -> None:
    web.login("prescriber")
    before = patient_count(web)
    response = web.client.post("/patients/new", data={"given_name": "A", "family_name": "B", "date_of_birth":
                               "1980-01-01", "sex": "female"})  # fmt: skip
    assert response.status_code == 403
    assert "CSRF" in response.text
    assert patient_count(web) == before


def test_pages_carry_the_idle_logoff_time(web: Web) -> None:
    web.login("nurse")
    page = web.client.get("/").text
    assert f'data-idle-seconds="{web.settings.idle_minutes * 60}"' in page
    assert "/static/app.js" in page
    for asset in ("/static/app.js", "/static/app.css", "/static/vendor/htmx.min.js", "/static/favicon.svg"):
        assert web.client.get(asset).status_code == 200


# --- who may open what -----------------------------------------------------------------------------------------


ALLOWED = {
    "prescriber": ["/", "/patients", "/patients/new", "{chart}", "{chart}/screening", "{chart}/plans/new",
                   "{chart}/chart/MADRS.png", "/rems", "/rems?show=all", "{rems}", "{rems}.csv", "{chart}/forecast"],
    "nurse": ["/", "/patients", "{chart}", "/rems", "{rems}", "{chart}/forecast"],
    "therapist": ["/", "/patients", "{chart}"],
    "admin": ["/", "/patients", "{chart}", "/rems", "/admin/audit", "/admin/users"],
}  # fmt: skip
DENIED = {
    "researcher": ["/patients", "{chart}", "/rems", "/admin/audit"],
    "nurse": ["/patients/new", "{chart}/plans/new", "{chart}/screening", "/admin/audit", "/admin/users"],
    "therapist": ["/rems", "{rems}", "/admin/users", "{chart}/forecast"],
    "admin": ["{chart}/plans/new", "{chart}/chart/MADRS.png", "{chart}/forecast"],
}


def _paths(web: Web, paths: list[str]) -> list[str]:
    new_uow = unit_of_work_factory(web.settings)
    chart = f"/patients/{list_patients(new_uow(), SYSTEM, limit=1)[0].id}"
    rems = f"/rems/{form_statuses(new_uow(), SYSTEM, date.today())[0].record.id}"  # noqa: DTZ011
    return [p.format(chart=chart, rems=rems) for p in paths]


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_each_role_opens_its_pages(web: Web, role: str) -> None:
    paths = _paths(web, ALLOWED[role])
    web.login(role)
    for path in paths:
        response = web.client.get(path)
        assert response.status_code == 200, f"{role} {path}: {response.status_code}\n{response.text[:500]}"


@pytest.mark.parametrize("role", sorted(DENIED))
def test_each_role_is_refused_other_pages(web: Web, role: str) -> None:
    paths = _paths(web, DENIED[role])
    web.login(role)
    for path in paths:
        response = web.client.get(path)
        assert response.status_code == 403, f"{role} {path}: {response.status_code}"
        if not path.endswith(".png"):
            assert "Forbidden" in response.text
            assert "Log out" in response.text  # the refusal page keeps the user's navigation


def test_navigation_hides_what_a_role_may_not_use(web: Web) -> None:
    web.login("nurse")
    page = web.client.get("/").text
    assert 'href="/rems"' in page
    assert 'href="/admin/users"' not in page
    assert 'href="/admin/audit"' not in page
    chart = web.client.get(f"/patients/{web.patient_ids()[0]}").text
    assert "/plans/new" not in chart  # nurses do not plan
    assert "Send a questionnaire link" in chart
    web.client.cookies.clear()
    web.login("researcher")
    assert web.client.get("/", follow_redirects=False).headers["location"] == "/research"


# --- patients, screening, scales -------------------------------------------------------------------------------


def test_registration_with_bad_input_names_the_field_and_stores_nothing(web: Web) -> None:
    web.login("prescriber")
    before = patient_count(web)
    good = {"given_name": "Robin", "family_name": "Example", "date_of_birth": "1985-06-01", "sex": "other",
            "email": "robin@example.org", "phone": "+1 555 0100", "weight_kg": "72.5", "weighed_on": ""}  # fmt: skip
    future = (date.today() + timedelta(days=30)).isoformat()  # noqa: DTZ011
    for field, bad in (("date_of_birth", future), ("date_of_birth", "yesterday"), ("weight_kg", "5"),
                       ("email", "not-an-address"), ("sex", "x"), ("given_name", "  ")):  # fmt: skip
        response = web.post("/patients/new", {**good, field: bad})
        assert response.status_code == 422, (field, bad)
        assert f"<code>{field}</code>" in response.text
        assert 'aria-invalid="true"' in response.text
        assert patient_count(web) == before
    assert "Robin" in web.post("/patients/new", {**good, "weight_kg": "5"}).text  # the form keeps what was typed
    created = web.post("/patients/new", good)
    assert created.status_code == 303
    chart = web.client.get(created.headers["location"])
    assert "Example, Robin" in chart.text
    assert "72.5 kg" in chart.text
    assert patient_count(web) == before + 1


def test_screening_form_runs_the_rules_and_shows_the_report(web: Web) -> None:
    web.login("prescriber")
    pid = web.patient_ids()[0]
    assert web.client.get(f"/patients/{pid}/screening").status_code == 200
    data: dict[str, str | list[str]] = {
        "route": "iv", "episode_months": "30", "severity": "severe", "screened_on": date.today().isoformat(),  # noqa: DTZ011
        "t0_drug": "sertraline", "t0_class": "ssri", "t0_weeks": "8", "t0_dose": "on", "t0_duration": "on",
        "t0_response": "none", "t0_current": "on",
        "t1_drug": "venlafaxine", "t1_class": "snri", "t1_weeks": "10", "t1_dose": "on", "t1_duration": "on",
        "t1_response": "partial", "t1_current": "on",
        "conditions": ["psychosis"], "medications": ["benzodiazepine"],
    }  # fmt: skip
    bad = web.post(f"/patients/{pid}/screening", {**data, "episode_months": "many"})
    assert bad.status_code == 422
    assert "<code>episode_months</code>" in bad.text
    bad_trial = web.post(f"/patients/{pid}/screening", {**data, "t1_weeks": "-3"})
    assert bad_trial.status_code == 422
    assert "trial 2 weeks" in bad_trial.text
    response = web.post(f"/patients/{pid}/screening", data)
    assert response.status_code == 303
    assert response.headers["location"].endswith("#screening")
    chart = web.client.get(f"/patients/{pid}").text
    assert "2 failed adequate antidepressant trial(s)" in chart
    assert "rk-pr-psychosis" in chart  # the precaution with its rule id
    assert "PMC10812090" in chart  # ... and its source
    assert "Maudsley" in chart


def test_recording_a_madrs_item_by_item(web: Web) -> None:
    web.login("nurse")
    pid = web.patient_ids()[1]
    items = {f"item{i}": str(i % 4) for i in range(1, 11)}
    missing = web.post(f"/patients/{pid}/scales", {**items, "item10": "", "taken_on": date.today().isoformat()})  # noqa: DTZ011
    assert missing.status_code == 422
    assert "item 10 (Suicidal thoughts)" in missing.text
    response = web.post(f"/patients/{pid}/scales", {**items, "taken_on": date.today().isoformat()})  # noqa: DTZ011
    assert response.status_code == 303
    assert web.client.get(f"/patients/{pid}/chart/MADRS.png").content.startswith(b"\x89PNG")


def test_filing_a_consent_document_is_a_new_version(web: Web) -> None:
    web.login("prescriber")
    pid = web.patient_ids()[2]
    chart = web.client.get(f"/patients/{pid}").text
    version = re.search(r'name="version" value="(\d+)"', chart)
    assert version, "the consent form carries the record's version"
    future = web.post(f"/patients/{pid}/consents", {"document": "IV ketamine consent v3", "signed_on": "2999-01-01",
                                                    "version": version.group(1)})  # fmt: skip
    assert future.status_code == 422
    assert "signed_on" in future.text
    filed = web.post(f"/patients/{pid}/consents", {"document": "IV ketamine consent v3",
                                                   "signed_on": date.today().isoformat(), "version": version.group(1)})  # noqa: DTZ011  # fmt: skip
    assert filed.status_code == 303
    assert "IV ketamine consent v3" in web.client.get(f"/patients/{pid}").text
    stale = web.post(f"/patients/{pid}/consents", {"document": "again", "signed_on": date.today().isoformat(),  # noqa: DTZ011
                                                   "version": version.group(1)})  # fmt: skip
    assert stale.status_code == 409  # filed against the version before the first filing


# --- the plan editor -------------------------------------------------------------------------------------------


def test_plan_editor_creates_a_plan_with_an_edited_dose(web: Web) -> None:
    web.login("prescriber")
    pid = web.patient_ids()[2]
    new_uow = unit_of_work_factory(web.settings)
    before = len(plans_for(new_uow(), SYSTEM, uuid.UUID(pid)))
    form = web.client.get(f"/patients/{pid}/plans/new?protocol=iv-acute-series")
    assert form.status_code == 200
    assert "clinical.md §1b" in form.text  # the protocol's source
    start = (date.today() + timedelta(days=14)).isoformat()  # noqa: DTZ011
    fields = {"protocol_id": "iv-acute-series", "start": start, "through_week": "", "step0_dose_mg_per_kg": "0.6",
              "step0_duration_min": "40"}  # fmt: skip
    bad = web.post(f"/patients/{pid}/plans/new", {**fields, "step0_dose_mg_per_kg": "-1"})
    assert bad.status_code == 422
    assert "steps[0].dose_mg_per_kg" in bad.text
    assert len(plans_for(new_uow(), SYSTEM, uuid.UUID(pid))) == before
    spravato = {"protocol_id": "spravato-trd", "start": start, "step0_dose_mg": "70", "step0_first_dose_mg": "56",
                "step1_dose_mg": "56", "step2_dose_mg": "56"}  # fmt: skip
    label = web.post(f"/patients/{pid}/plans/new", spravato)
    assert label.status_code == 422
    assert "steps[0].dose_mg" in label.text
    assert "56 or 84 mg" in label.text
    created = web.post(f"/patients/{pid}/plans/new", fields)
    assert created.status_code == 303, created.text[:800]
    assert created.headers["location"] == f"/patients/{pid}#plans"
    plans = plans_for(new_uow(), SYSTEM, uuid.UUID(pid))
    assert len(plans) == before + 1
    assert {s.dose_mg_per_kg for s in plans[-1].plan.sessions} == {0.6}
    assert "0.6 mg/kg" in web.client.get(f"/patients/{pid}").text


# --- the patient's questionnaire link --------------------------------------------------------------------------


def test_questionnaire_wording_matches_the_scales() -> None:
    assert set(QUESTIONNAIRES) == set(LINK_SCALES)
    for scale_id, text in QUESTIONNAIRES.items():
        scale = SCALES[scale_id]
        assert len(text.items) == len(scale.items)
        assert [v for v, _ in text.options] == list(range(scale.items[0].min, scale.items[0].max + 1))


def test_questionnaire_link_end_to_end_with_a_safety_flag(web: Web) -> None:
    web.login("prescriber")
    pid = web.patient_ids()[3]
    partial = web.post(f"/patients/{pid}/questionnaire-link", {"scale_id": "PHQ-9"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "<html" not in partial.text  # the htmx partial only
    url = re.search(r'id="link-url" readonly value="([^"]+)"', partial.text)
    assert url
    assert url.group(1).startswith("https://clinic.example.org/q/")
    path = url.group(1).removeprefix("https://clinic.example.org")

    patient = TestClient(web.client.app, base_url="https://testserver")  # no login, no cookie
    page = patient.get(path)
    assert page.status_code == 200
    assert "Thoughts that you would be better off dead" in page.text
    assert "not monitored in real time" in page.text
    assert "988" in page.text
    name = web.client.get(f"/patients/{pid}").text
    family = re.search(r"<h1>([^,<]+),", name)
    assert family
    assert family.group(1) not in page.text  # no patient name on the patient's page
    answers = {f"item{i}": "1" for i in range(1, 10)}
    incomplete = patient.post(path, data={k: v for k, v in answers.items() if k != "item4"})
    assert incomplete.status_code == 422
    assert "missing: question 4" in incomplete.text
    done = patient.post(path, data=answers)
    assert done.status_code == 200
    assert 'id="crisis"' in done.text
    for resource in ("988", "911", "741741"):
        assert resource in done.text
    again = patient.post(path, data=answers)
    assert again.status_code == 404
    assert "This link cannot be used" in again.text
    assert patient.get(path).status_code == 404
    assert patient.get("/q/not-a-real-token").status_code == 404

    dashboard = web.client.get("/").text
    assert "Safety flags (1)" in dashboard
    assert f'href="/patients/{pid}#flags"' in dashboard
    assert "PHQ-9 item 9" in dashboard
    chart = web.client.get(f"/patients/{pid}").text
    assert "flag-panel" in chart
    assert "PHQ-9 total 9" in chart
    assert f"/patients/{pid}/chart/PHQ-9.png" in chart


def test_a_link_without_the_item_9_flag_thanks_without_crisis_box(web: Web) -> None:
    web.login("therapist")
    pid = web.patient_ids()[0]
    full = web.post(f"/patients/{pid}/questionnaire-link", {"scale_id": "GAD-7"})  # without htmx: the whole chart
    assert full.status_code == 200
    url = re.search(r'id="link-url" readonly value="https://clinic.example.org([^"]+)"', full.text)
    assert url
    done = web.client.post(url.group(1), data={f"item{i}": "0" for i in range(1, 8)})
    assert done.status_code == 200
    assert 'id="crisis"' not in done.text
    assert "Thank you" in done.text
    bad = web.post(f"/patients/{pid}/questionnaire-link", {"scale_id": "MADRS"})
    assert bad.status_code == 422
    assert "cannot be sent as a link" in bad.text


# --- REMS ------------------------------------------------------------------------------------------------------


def test_rems_form_mark_submitted_and_csv_export(web: Web) -> None:
    web.login("nurse")
    listing = web.client.get("/rems")
    form_id = REMS_LINK.search(listing.text)
    assert form_id, "the demo clinic has an open REMS form"
    path = f"/rems/{form_id.group(1)}"
    page = web.client.get(path)
    assert page.status_code == 200
    for label in ("Patient first name", "BP 40 min after", "Total time minutes", "Mark as submitted", "Print"):
        assert label in page.text
    exported = web.client.get(f"{path}.csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["content-disposition"].startswith('attachment; filename="rems-pmf-')
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["field", "label", "value"]
    fields = {row[0]: row[2] for row in rows[1:]}
    assert {"patient_first_name", "dose_mg", "bp_40_min_after", "total_time_minutes"} <= set(fields)
    treatment = date.fromisoformat(fields["treatment_date"])
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    early = web.post(f"{path}/submitted", {"version": version.group(1),
                                           "submitted_on": (treatment - timedelta(days=1)).isoformat()})  # fmt: skip
    assert early.status_code == 422
    assert "<code>submitted_on</code>" in early.text
    done = web.post(f"{path}/submitted", {"version": version.group(1), "submitted_on": treatment.isoformat()})
    assert done.status_code == 303
    after = web.client.get(path).text
    assert "Mark as submitted" not in after
    assert 'class="badge submitted"' in after
    stale = web.post(f"{path}/submitted", {"version": version.group(1), "submitted_on": treatment.isoformat()})
    assert stale.status_code == 412  # someone (here: we) changed it since


def test_enrolment_form_on_an_esketamine_chart(web: Web) -> None:
    web.login("prescriber")
    pid = web.patient_ids()[4]
    bad = web.post(f"/patients/{pid}/rems-enrollment", {"enrolled_on": "soon"})
    assert bad.status_code in (403, 422)
    if bad.status_code == 422:
        assert "<code>enrolled_on</code>" in bad.text
    ok = web.post(f"/patients/{pid}/rems-enrollment", {"enrolled_on": date.today().isoformat(),  # noqa: DTZ011
                  "patient_signed": "on", "prescriber_signed": "on"})  # fmt: skip
    assert ok.status_code == 303


# --- admin -----------------------------------------------------------------------------------------------------


def test_audit_page_lists_the_reads_of_a_chart(web: Web) -> None:
    web.login("prescriber")
    pid = web.patient_ids()[0]
    assert web.client.get(f"/patients/{pid}").status_code == 200
    web.client.cookies.clear()
    web.login("admin")
    page = web.client.get(f"/admin/audit?patient={pid}")
    assert page.status_code == 200
    assert "demo.prescriber" in page.text
    assert ">read<" in page.text
    assert f'href="/patients/{pid}"' in page.text
    everything = web.client.get("/admin/audit").text
    assert ">login<" in everything
    assert web.client.get("/admin/audit?page=2").status_code == 200


def test_users_page_creates_deactivates_and_resets(web: Web) -> None:
    web.login("admin")
    created = web.post("/admin/users", {"username": "new.nurse", "role": "nurse"})
    assert created.status_code == 200
    password = re.search(r'id="new-password" readonly value="([^"]+)"', created.text)
    assert password
    assert "shown only this once" in created.text
    assert password.group(1) not in web.client.get("/admin/users").text  # shown once
    taken = web.post("/admin/users", {"username": "new.nurse", "role": "nurse"})
    assert taken.status_code == 409
    bad = web.post("/admin/users", {"username": "X", "role": "nurse"})
    assert bad.status_code == 422
    assert "<code>username</code>" in bad.text

    other = TestClient(web.client.app, base_url="https://testserver")
    login = post_login(other, {"username": "new.nurse", "password": password.group(1)}, follow_redirects=False)
    assert login.status_code == 303
    assert web.post("/admin/users/new.nurse/active", {"active": "0"}).status_code == 303
    assert other.get("/", follow_redirects=False).status_code == 303  # the deactivated user's session ended
    reset = web.post("/admin/users/new.nurse/password", {})
    new_password = re.search(r'id="new-password" readonly value="([^"]+)"', reset.text)
    assert new_password
    assert new_password.group(1) != password.group(1)
    assert web.post("/admin/users/new.nurse/active", {"active": "1"}).status_code == 303
    again = post_login(other, {"username": "new.nurse", "password": new_password.group(1)},
                       follow_redirects=False)  # fmt: skip
    assert again.status_code == 303


# --- the forecast on the chart ---------------------------------------------------------------------------------


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG from its IHDR chunk."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _treated_patient(web: Web) -> str:
    """A patient with a session given and a MADRS course image on the chart."""
    for pid in web.patient_ids():
        page = web.client.get(f"/patients/{pid}").text
        if "discharged" in page and f"/patients/{pid}/chart/MADRS.png" in page:
            return pid
    raise AssertionError("no treated patient with MADRS scores")


def test_the_chart_loads_the_forecast_after_the_page_and_draws_the_band(web: Web) -> None:
    web.login("prescriber")
    pid = _treated_patient(web)
    chart = web.client.get(f"/patients/{pid}").text
    assert f'hx-get="/patients/{pid}/forecast"' in chart  # fetched after the page: the page does not wait for it
    assert 'href="#forecast"' in chart
    assert 'height="760"' in chart
    section = web.client.get(f"/patients/{pid}/forecast", headers={"HX-Request": "true"})
    assert section.status_code == 200
    text = section.text
    assert '<section class="card" id="forecast"' in text
    assert "<html" not in text  # a fragment for htmx
    assert any(advice in text for advice in ("Next session by", "stays at or below", "Session due now"))
    assert "Clinic rules" in text
    assert "How much this patient's data moved the forecast" in text
    assert "response-model" in text  # the model version
    assert "not a medical device" in text
    page = web.client.get(f"/patients/{pid}/forecast")
    assert "<html" in page.text
    assert "Back to the chart" in page.text
    assert _png_size(web.client.get(f"/patients/{pid}/chart/MADRS.png").content) == (800, 760)


def test_roles_without_the_forecast_see_the_chart_without_it(web: Web) -> None:
    web.login("therapist")
    pid = web.patient_ids()[0]
    chart = web.client.get(f"/patients/{pid}").text
    assert "/forecast" not in chart
    assert 'height="520"' in chart or "chart/MADRS.png" not in chart
