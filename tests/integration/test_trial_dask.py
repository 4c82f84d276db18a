"""A trial on a ``dask.distributed`` cluster is bitwise identical to the single-process run."""

from __future__ import annotations

import json
from typing import Any

import pytest
from distributed import LocalCluster

from ketamine_therapy.pharmacology.trials import TrialSpec, parse_spec, run_trial

SPEC: dict[str, Any] = {
    "name": "dask-equality",
    "seed": 11,
    "population": {"n": 300},
    "arms": [
        {"name": "ketamine", "drug": "racemic-ketamine", "dose_mg_per_kg": 0.5, "days": [1, 3, 5, 8]},
        {"name": "esketamine", "drug": "esketamine", "doses_mg": [56, 84], "days": [1, 4],
         "background": "new-oral-antidepressant"},
        {"name": "placebo", "drug": "placebo", "days": [1, 3, 5, 8]},
    ],
    "endpoints": [
        {"id": "response_d1", "kind": "response", "day": 1},
        {"id": "remission_d10", "kind": "remission", "day": 10},
        {"id": "change_2h", "kind": "change", "day": 0.083},
        {"id": "relapse", "kind": "time_to_relapse", "horizon_days": 40},
        {"id": "cost_remitter_d10", "kind": "cost_per_remitter", "day": 10},
    ],
}  # fmt: skip
CHUNK = 70  # several chunks per arm, the last one shorter


@pytest.fixture(scope="module")
def spec() -> TrialSpec:
    return parse_spec(SPEC)


@pytest.fixture(scope="module")
def single_process(spec: TrialSpec) -> str:
    return json.dumps(run_trial(spec, chunk_size=CHUNK).to_dict())


def test_in_process_cluster_is_bitwise_identical(spec: TrialSpec, single_process: str) -> None:
    """Two worker threads in this process (processes=False), reached through the scheduler address."""
    done: list[int] = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        result = run_trial(spec, scheduler=cluster.scheduler_address, chunk_size=CHUNK,
                           progress=lambda d, total: done.append(d))  # fmt: skip
    assert json.dumps(result.to_dict()) == single_process
    assert sorted(done) == done
    assert done[-1] == 3 * 300


def test_worker_processes_are_bitwise_identical(spec: TrialSpec, single_process: str) -> None:
    """``workers=2``: a LocalCluster of two worker processes started (and closed) by run_trial."""
    result = run_trial(spec, workers=2, chunk_size=CHUNK)
    assert json.dumps(result.to_dict()) == single_process
