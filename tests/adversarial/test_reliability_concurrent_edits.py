"""Two writers of one versioned record: the loser gets 412 (changed by someone else), never a 500, on SQLite and
PostgreSQL; the coverage PUT honours If-Match like every other change."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from ketamine_therapy.bootstrap import unit_of_work_factory
from ketamine_therapy.config import Settings
from ketamine_therapy.services.ports import StaleVersionError

from ..integration.api.conftest import Api


def test_the_loser_of_an_interleaved_write_gets_a_version_conflict(db_api: Api) -> None:
    new_uow = unit_of_work_factory(Settings(database_url=db_api.database_url))
    pid = db_api.patient_ids[1]
    second = new_uow().__enter__()
    patient, version = second.patients.get(pid)  # the loser read first...
    with new_uow() as first:
        mine, _ = first.patients.get(pid)
        first.patients.update(replace(mine, phone="555-0101"), version, "a", "first")
        first.commit()  # ...and the winner committed before the loser wrote
    with pytest.raises(StaleVersionError), second:  # noqa: PT012 - the unit of work reports it when its block ends
        second.patients.update(replace(patient, phone="555-0202"), version, "b", "second")
        second.commit()
    new_uow.dispose()


def test_two_concurrent_patches_answer_200_and_412(db_api: Api) -> None:
    pid = db_api.patient_ids[2]

    def patch(barrier: threading.Barrier, version: int, phone: str, codes: list[int]) -> None:
        barrier.wait()
        r = db_api.send("prescriber", "PATCH", f"/patients/{pid}", {"reason": "race", "phone": phone}, version=version)
        codes.append(r.status_code)

    for attempt in range(4):
        version = int(db_api.get("prescriber", f"/patients/{pid}").headers["ETag"].strip('"'))
        barrier = threading.Barrier(2)
        codes: list[int] = []
        threads = [threading.Thread(target=patch, args=(barrier, version, f"555-01{attempt}{i}", codes))
                   for i in range(2)]  # fmt: skip
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes) == [200, 412], codes


def test_coverage_put_honours_if_match(db_api: Api) -> None:
    pid = db_api.patient_ids[0]
    body = {"payer": "commercial", "prior_authorization_approved": True, "patient_coinsurance": "0.2"}
    current = db_api.get("prescriber", f"/patients/{pid}/coverage")
    assert current.status_code == 200
    version = int(current.headers["ETag"].strip('"'))
    assert db_api.send("prescriber", "PUT", f"/patients/{pid}/coverage", body).status_code == 428
    ok = db_api.send("prescriber", "PUT", f"/patients/{pid}/coverage", body, version=version)
    assert ok.status_code == 200
    assert ok.headers["ETag"] == f'"{version + 1}"'
    stale = db_api.send("prescriber", "PUT", f"/patients/{pid}/coverage", {**body, "payer": "medicare"},
                        version=version)  # fmt: skip
    assert stale.status_code == 412
    assert db_api.get("prescriber", f"/patients/{pid}/coverage").json()["payer"] == "commercial"
