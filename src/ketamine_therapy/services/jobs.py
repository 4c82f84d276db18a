"""Background jobs for long computations (an in-silico trial of 10,000+ virtual patients takes seconds to minutes).

Jobs run in threads of the server process. They are held in memory only: a restart or crash of the
server loses every queued, running and finished job and its result, and a job submitted to one server
process is not visible from another (run one process, or use a shared queue, if that matters).
The runner keeps the last ``keep_finished`` finished jobs (100 by default) and drops the oldest.

A job is a function that takes a progress callback ``progress(done, total)`` and returns its result::

    runner = JobRunner()
    job_id = runner.submit("trial", "dr.lee", lambda progress: run_trial(spec, progress=progress))
    runner.get(job_id).fraction  # 0.0 .. 1.0

A failed job keeps only the exception's type and message (``ValueError: ...``), never a traceback.
"""

from __future__ import annotations

import builtins
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` by a job while it runs."""
JobState = Literal["queued", "running", "done", "failed"]
FINISHED: frozenset[str] = frozenset({"done", "failed"})
DEFAULT_KEEP_FINISHED = 100
MAX_ERROR_CHARS = 500

T = TypeVar("T")
logger = logging.getLogger(__name__)


class UnknownJobError(KeyError):
    """No job with this id (never submitted, dropped from the history, or owned by someone else)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.job_id = job_id

    def __str__(self) -> str:
        return f"no job {self.job_id!r}"


@dataclass(frozen=True)
class JobStatus:
    """A snapshot of one job; times are timezone-aware UTC.

    ``fraction`` is ``done / total`` (0.0 before the job reports progress, 1.0 once it is done).
    ``result`` is the function's return value once ``state`` is ``done``; ``error`` is
    ``"ExceptionType: message"`` once it is ``failed``.
    """

    id: str
    kind: str
    owner: str
    state: JobState
    done: int
    total: int
    fraction: float
    submitted_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: object | None
    error: str | None

    @property
    def finished(self) -> bool:
        """Whether the job is done or failed."""
        return self.state in FINISHED

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping of everything but ``result`` (ISO 8601 times)."""

        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "id": self.id,
            "kind": self.kind,
            "owner": self.owner,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "fraction": self.fraction,
            "submitted_at": iso(self.submitted_at),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "error": self.error,
        }


def _now() -> datetime:
    return datetime.now(UTC)


def _fraction(state: str, done: int, total: int) -> float:
    if state == "done":
        return 1.0
    if total <= 0:
        return 0.0
    return min(max(done / total, 0.0), 1.0)


def describe_error(exc: BaseException) -> str:
    """``"Type: message"`` of ``exc``, shortened to ``MAX_ERROR_CHARS`` characters; no traceback."""
    message = str(exc).strip()
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."


class JobRunner:
    """Runs submitted functions on a thread pool and tracks their state and progress (thread-safe).

    Jobs live in this server process only: they are lost when it restarts, and other processes do
    not see them. ``max_workers`` jobs run at once (one by default, so a large trial does not starve
    the web server of CPU); the rest wait, first submitted first run. The last ``keep_finished``
    finished jobs are kept for :meth:`get` and :meth:`list`; older finished jobs are dropped.
    """

    def __init__(self, max_workers: int = 1, keep_finished: int = DEFAULT_KEEP_FINISHED) -> None:
        if isinstance(max_workers, bool) or max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers!r}")
        if isinstance(keep_finished, bool) or keep_finished < 0:
            raise ValueError(f"keep_finished must be >= 0, got {keep_finished!r}")
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="ketamine-job")
        self._keep_finished = keep_finished
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, JobStatus] = OrderedDict()  # submission order
        self._finished: OrderedDict[str, None] = OrderedDict()  # finishing order
        self._closed = False

    def submit(self, kind: str, owner: str, fn: Callable[[ProgressCallback], T]) -> str:
        """Queue ``fn(progress)`` as a job of ``kind`` for ``owner``; returns the job id (a UUID string)."""
        job_id = str(uuid.uuid4())
        status = JobStatus(job_id, kind, owner, "queued", 0, 0, 0.0, _now(), None, None, None, None)
        with self._lock:
            if self._closed:
                raise RuntimeError("the job runner is shut down")
            self._jobs[job_id] = status
            self._executor.submit(self._run, job_id, fn)
        return job_id

    def get(self, job_id: str, owner: str | None = None) -> JobStatus:
        """The job's current status; with ``owner``, a job of someone else is reported as unknown.

        Raises :class:`UnknownJobError` for an unknown (or dropped, or not owned) job.
        """
        with self._lock:
            status = self._jobs.get(job_id)
        if status is None or (owner is not None and status.owner != owner):
            raise UnknownJobError(job_id)
        return status

    def list(self, owner: str | None = None) -> builtins.list[JobStatus]:
        """Every kept job (of ``owner`` only, if given), the most recently submitted first."""
        with self._lock:
            statuses = builtins.list(self._jobs.values())
        return [s for s in reversed(statuses) if owner is None or s.owner == owner]

    def shutdown(self, wait: bool = True, cancel_pending: bool = True) -> None:
        """Stop accepting jobs; queued jobs are marked failed if ``cancel_pending``; waits for running ones."""
        with self._lock:
            self._closed = True
        self._executor.shutdown(wait=wait, cancel_futures=cancel_pending)
        if cancel_pending:
            with self._lock:
                for job_id, status in self._jobs.items():
                    if status.state == "queued":
                        self._finish(job_id, state="failed", error="cancelled: the server shut down")

    # -- internals (called from worker threads) --------------------------------------------------

    def _update(self, job_id: str, **changes: Any) -> None:
        """Replace fields of a kept job (the caller holds the lock)."""
        status = self._jobs.get(job_id)
        if status is None:
            return
        status = replace(status, **changes)
        self._jobs[job_id] = replace(status, fraction=_fraction(status.state, status.done, status.total))

    def _finish(self, job_id: str, **changes: Any) -> None:
        """Mark a job finished and drop the oldest finished jobs beyond the cap (the caller holds the lock)."""
        self._update(job_id, finished_at=_now(), **changes)
        self._finished[job_id] = None
        while len(self._finished) > self._keep_finished:
            oldest, _ = self._finished.popitem(last=False)
            self._jobs.pop(oldest, None)

    def _progress(self, job_id: str) -> ProgressCallback:
        def progress(done: int, total: int) -> None:
            with self._lock:
                status = self._jobs.get(job_id)
                if status is not None and status.state == "running":
                    self._update(job_id, done=int(done), total=int(total))

        return progress

    def _run(self, job_id: str, fn: Callable[[ProgressCallback], object]) -> None:
        with self._lock:
            status = self._jobs.get(job_id)
            if status is None or status.state != "queued":  # cancelled at shutdown
                return
            self._update(job_id, state="running", started_at=_now())
        try:
            result = fn(self._progress(job_id))
        except BaseException as exc:  # recorded, so that no job stays "running" forever
            logger.warning("job %s failed with %s", job_id, type(exc).__name__)
            with self._lock:
                self._finish(job_id, state="failed", error=describe_error(exc))
            if not isinstance(exc, Exception):
                raise
            return
        with self._lock:
            status = self._jobs.get(job_id)
            if status is not None:
                total = status.total if status.total > 0 else 1
                self._finish(job_id, state="done", result=result, done=total, total=total)
