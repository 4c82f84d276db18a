"""Property-based API testing from the OpenAPI schema (schemathesis): no generated request may cause a 5xx.

Every operation of the schema gets a bounded number of generated requests, sent with a prescriber's token
(researcher for the research routes), against a seeded clinic. Schemathesis' lazy pytest fixture does not run on
pytest 9, so the operations are driven through its Python API, one Hypothesis run per operation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from .conftest import Api, make_api

RESEARCH = ("/api/v1/simulations", "/api/v1/trials", "/api/v1/jobs", "/api/v1/research")
EXAMPLES_PER_OPERATION = 15


@pytest.fixture(scope="module")
def fuzz_api(seeded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from make_api(seeded_template, tmp_path_factory.mktemp("fuzz"))


def _fuzz(operation: schemathesis.APIOperation, headers: dict[str, str]) -> Callable[[], None]:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

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
            failures.append(f"{operation.method.upper()} {operation.path}: {exc!r}"[:800])
    assert operations > 40
    assert not failures, "\n\n".join(failures)
