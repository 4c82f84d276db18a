"""The in-process background job runner: states, progress, failures, ordering, retention, threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC

import pytest

from ketamine_therapy.services.jobs import JobRunner, JobStatus, ProgressCallback, UnknownJobError

TIMEOUT_S = 5.0


@pytest.fixture
def runner() -> Iterator[JobRunner]:
    jobs = JobRunner()
    yield jobs
    jobs.shutdown()


def wait_finished(runner: JobRunner, job_id: str) -> JobStatus:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        status = runner.get(job_id)
        if status.finished:
            return status
        time.sleep(0.002)
    raise AssertionError(f"job {job_id} did not finish: {runner.get(job_id)}")


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def test_a_job_reports_progress_then_its_result(runner: JobRunner) -> None:
    halfway, release = threading.Event(), threading.Event()

    def work(progress: ProgressCallback) -> dict[str, int]:
        progress(0, 4)
        progress(2, 4)
        halfway.set()
        assert release.wait(TIMEOUT_S)
        progress(4, 4)
        return {"answer": 42}

    job_id = runner.submit("trial", "dr.lee", work)
    assert halfway.wait(TIMEOUT_S)
    running = runner.get(job_id)
    assert (running.state, running.done, running.total, running.fraction) == ("running", 2, 4, 0.5)
    assert running.started_at is not None
    assert running.finished_at is None
    assert running.result is None
    release.set()
    done = wait_finished(runner, job_id)
    assert done.state == "done"
    assert done.result == {"answer": 42}
    assert done.error is None
    assert (done.done, done.total, done.fraction) == (4, 4, 1.0)
    assert (done.id, done.kind, done.owner) == (job_id, "trial", "dr.lee")
    for moment in (done.submitted_at, done.started_at, done.finished_at):
        assert moment is not None
        assert moment.tzinfo is UTC
    assert done.submitted_at <= done.started_at <= done.finished_at  # type: ignore[operator]
    assert "result" not in done.to_dict()
    assert done.to_dict()["state"] == "done"


def test_a_job_that_reports_no_progress_is_complete_when_done(runner: JobRunner) -> None:
    status = wait_finished(runner, runner.submit("x", "a", lambda progress: None))
    assert (status.state, status.fraction, status.result) == ("done", 1.0, None)


def test_a_failed_job_keeps_the_exception_type_and_message_only(runner: JobRunner) -> None:
    def work(progress: ProgressCallback) -> None:
        progress(1, 10)
        raise ValueError("arms[0].dose_mg: got -1")

    status = wait_finished(runner, runner.submit("trial", "a", work))
    assert status.state == "failed"
    assert status.result is None
    assert status.error == "ValueError: arms[0].dose_mg: got -1"
    assert "Traceback" not in status.error
    assert status.fraction == pytest.approx(0.1)
    assert status.to_dict()["error"] == status.error


def test_a_very_long_error_message_is_shortened(runner: JobRunner) -> None:
    def work(progress: ProgressCallback) -> None:
        raise RuntimeError("x" * 5000)

    error = wait_finished(runner, runner.submit("k", "a", work)).error
    assert error is not None
    assert error.startswith("RuntimeError: xxx")
    assert len(error) <= 500


def test_jobs_queue_and_run_in_submission_order(runner: JobRunner) -> None:
    gate = threading.Event()
    order: list[int] = []

    def first(progress: ProgressCallback) -> None:
        assert gate.wait(TIMEOUT_S)
        order.append(0)

    ids = [runner.submit("k", "a", first)]
    ids += [runner.submit("k", "a", lambda progress, k=k: order.append(k)) for k in range(1, 5)]
    wait_until(lambda: runner.get(ids[0]).state == "running")
    assert [runner.get(i).state for i in ids[1:]] == ["queued"] * 4  # one worker: the rest wait
    gate.set()
    for job_id in ids:
        wait_finished(runner, job_id)
    assert order == [0, 1, 2, 3, 4]
    assert [s.id for s in runner.list()] == ids[::-1]  # newest first


def test_list_filters_by_owner_and_get_hides_other_owners_jobs(runner: JobRunner) -> None:
    mine = runner.submit("k", "ann", lambda progress: 1)
    theirs = runner.submit("k", "bob", lambda progress: 2)
    wait_finished(runner, theirs)
    assert [s.id for s in runner.list(owner="ann")] == [mine]
    assert {s.id for s in runner.list()} == {mine, theirs}
    assert runner.get(mine, owner="ann").result == 1
    with pytest.raises(UnknownJobError):
        runner.get(mine, owner="bob")
    with pytest.raises(UnknownJobError, match="no job"):
        runner.get("not-a-job")


def test_only_the_last_finished_jobs_are_kept() -> None:
    runner = JobRunner(keep_finished=3)
    try:
        ids = [runner.submit("k", "a", lambda progress, k=k: k) for k in range(6)]
        wait_until(lambda: all(s.finished for s in runner.list()) and len(runner.list()) == 3)
        assert [s.id for s in runner.list()] == ids[:2:-1]
        with pytest.raises(UnknownJobError):
            runner.get(ids[0])
    finally:
        runner.shutdown()


def test_the_default_history_keeps_100_finished_jobs(runner: JobRunner) -> None:
    ids = [runner.submit("k", "a", lambda progress: None) for _ in range(105)]
    wait_finished(runner, ids[-1])
    kept = runner.list()
    assert len(kept) == 100
    assert kept[-1].id == ids[5]


def test_running_jobs_are_never_dropped_from_the_history() -> None:
    runner = JobRunner(max_workers=2, keep_finished=1)
    gate = threading.Event()
    try:
        slow = runner.submit("k", "a", lambda progress: gate.wait(TIMEOUT_S))
        fast = [runner.submit("k", "a", lambda progress: None) for _ in range(4)]
        wait_until(lambda: runner.get(fast[-1]).finished)
        assert runner.get(slow).state == "running"
        gate.set()
        wait_finished(runner, slow)
    finally:
        runner.shutdown()


def test_several_threads_submit_and_report_progress_safely() -> None:
    runner = JobRunner(max_workers=4)
    try:

        def work(progress: ProgressCallback, n: int) -> int:
            for k in range(1, 201):
                progress(k, 200)
            return n * n

        ids: list[str] = []
        lock = threading.Lock()

        def client(base: int) -> None:
            for n in range(base, base + 10):
                job_id = runner.submit("k", f"user{base}", lambda progress, n=n: work(progress, n))
                with lock:
                    ids.append(job_id)

        threads = [threading.Thread(target=client, args=(b,)) for b in range(0, 80, 10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = [wait_finished(runner, job_id) for job_id in ids]
        assert len(set(ids)) == 80
        assert all(s.state == "done" and s.done == s.total == 200 for s in statuses)
        assert sorted(int(s.result) for s in statuses) == [n * n for n in range(80)]  # type: ignore[call-overload]
        assert all(len(runner.list(owner=f"user{b}")) == 10 for b in range(0, 80, 10))
    finally:
        runner.shutdown()


def test_shutdown_cancels_queued_jobs_and_refuses_new_ones() -> None:
    runner = JobRunner()
    gate = threading.Event()
    running = runner.submit("k", "a", lambda progress: gate.wait(TIMEOUT_S))
    queued = runner.submit("k", "a", lambda progress: None)
    wait_until(lambda: runner.get(running).state == "running")
    threading.Timer(0.1, gate.set).start()  # the running job ends while shutdown() waits for it
    runner.shutdown()
    assert runner.get(running).state == "done"
    cancelled = runner.get(queued)
    assert (cancelled.state, cancelled.error) == ("failed", "cancelled: the server shut down")
    with pytest.raises(RuntimeError, match="shut down"):
        runner.submit("k", "a", lambda progress: None)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="max_workers"):
        JobRunner(max_workers=0)
    with pytest.raises(ValueError, match="keep_finished"):
        JobRunner(keep_finished=-1)
