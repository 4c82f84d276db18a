"""Property-based API testing from the OpenAPI schema (schemathesis): no generated request may cause a 5xx or an
answer that violates the schema (status, media type, body).

Every operation of the schema gets a bounded number of generated requests, sent with a prescriber's token
(researcher for the research routes), against a seeded clinic. Schemathesis' lazy pytest fixture does not run on
pytest 9, so the operations are driven through its Python API, one Hypothesis run per operation.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import Api, make_api

RESEARCH = ("/api/v1/simulations", "/api/v1/trials", "/api/v1/jobs", "/api/v1/research")
EXAMPLES_PER_OPERATION = 15
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
"""No 5xx, and every answer as the schema declares it: status, media type (problem+json for errors) and body."""


@pytest.fixture(scope="module")
def fuzz_api(seeded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from make_api(seeded_template, tmp_path_factory.mktemp("fuzz"))


def _fuzz(operation: schemathesis.APIOperation, headers: dict[str, str]) -> Callable[[], None]:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    return run  # type: ignore[no-any-return]


def test_no_generated_request_causes_a_server_error(fuzz_api: Api) -> None:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", fuzz_api.client.app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/v1/auth/token" and operation.method.upper() == "DELETE":
            continue  # logging out would end the session the other operations use
        role = "researcher" if operation.path.startswith(RESEARCH) else "prescriber"
        operations += 1

        try:
            _fuzz(operation, fuzz_api.headers(role))()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc!s}"[:1500])
    assert operations > 40
    assert not failures, "\n\n".join(failures)


STATEFUL_SCENARIOS = 100
STATEFUL_STEPS = 8


def _copy_database(source: Path, target: Path) -> None:
    """Copy one SQLite database into another with the online backup API (the app's open connections see the copy)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def test_stateful_workflows_cause_no_server_error(fuzz_api: Api, tmp_path: Path) -> None:
    """Chains of calls along the links schemathesis infers (a patient read, then its sessions, a PATCH with the ETag,
    ...), as a prescriber: the same checks at every step.

    Every scenario starts from the same clinic (the database is restored before each one): the links draw from earlier
    responses, so a clinic that grew across scenarios would make Hypothesis' replays draw differently."""
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", fuzz_api.client.app)
    headers = fuzz_api.headers("prescriber")
    calls: list[str] = []
    live = Path(fuzz_api.database_url.removeprefix("sqlite:///"))
    snapshot = tmp_path / "start.db"
    _copy_database(live, snapshot)

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            _copy_database(snapshot, live)

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
            calls.append(case.operation.label)
            return {"headers": headers}

        def validate_response(self, response: schemathesis.Response, case: schemathesis.Case,
                              additional_checks: object = None, **kwargs: object) -> None:  # fmt: skip
            case.validate_response(response, checks=CHECKS)

    Workflow.run(settings=settings(max_examples=STATEFUL_SCENARIOS, stateful_step_count=STATEFUL_STEPS,
                                   deadline=None, derandomize=True, database=None,
                                   suppress_health_check=list(HealthCheck)))  # fmt: skip
    assert len(set(calls)) >= 20, sorted(set(calls))  # the chains reached most operations (35 when measured)


def test_tuple_shaped_bodies_validate_against_the_schema(fuzz_api: Api) -> None:
    """Course and booster answers hold (date, score) pairs: their schema must be one schemathesis can check (it
    rejected ``prefixItems``, which a stateful walk reaching a real patient's course would hit)."""
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", fuzz_api.client.app)
    for path in ("/api/v1/patients/{patient_id}/course", "/api/v1/patients/{patient_id}/booster"):
        case = schema[path]["GET"].Case(path_parameters={"patient_id": str(fuzz_api.patient_ids[0])})
        response = case.call(headers=fuzz_api.headers("prescriber"))
        assert response.status_code == 200, (path, response.text)
        case.validate_response(response, checks=[response_schema_conformance])
