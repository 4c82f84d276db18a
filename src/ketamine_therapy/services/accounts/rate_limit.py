"""At most so many login attempts per source (IP) within a window, whatever the usernames tried."""

from __future__ import annotations

import math
import threading
from collections import deque
from datetime import datetime, timedelta

from ...clinic.exceptions import InvalidAnswerError
from .errors import RateLimitedError


class LoginRateLimiter:
    """At most ``max_attempts`` login attempts per source (IP) within ``window``, whatever the usernames.

    Call :meth:`check` before authenticating and :meth:`record` for each attempt. In memory, per process,
    thread-safe.
    """

    def __init__(self, max_attempts: int = 20, window: timedelta = timedelta(minutes=15)) -> None:
        if max_attempts < 1:
            raise InvalidAnswerError("max_attempts", f"{max_attempts} is below 1", ">= 1")
        if window <= timedelta(0):
            raise InvalidAnswerError("window", f"{window} is not positive", "a positive duration")
        self.max_attempts = max_attempts
        self.window = window
        self._attempts: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _prune(self, source: str, now: datetime) -> deque[datetime]:
        attempts = self._attempts.get(source, deque())
        while attempts and attempts[0] <= now - self.window:
            attempts.popleft()
        return attempts

    def check(self, source: str, now: datetime) -> None:
        """Raise :class:`RateLimitedError` if ``source`` used up its attempts within the window before ``now``."""
        with self._lock:
            attempts = self._prune(source, now)
            if not attempts:
                self._attempts.pop(source, None)
            elif len(attempts) >= self.max_attempts:
                wait = (attempts[-self.max_attempts] + self.window - now).total_seconds()
                raise RateLimitedError(max(1, math.ceil(wait)))

    def record(self, source: str, now: datetime) -> None:
        """Count one attempt from ``source`` at ``now``."""
        with self._lock:
            attempts = self._prune(source, now)
            attempts.append(now)
            while len(attempts) > self.max_attempts:  # older ones no longer matter
                attempts.popleft()
            self._attempts[source] = attempts
            if len(self._attempts) > 10_000:  # bound the memory: forget sources with nothing in the window
                for key in [k for k in self._attempts if not self._prune(k, now)]:
                    del self._attempts[key]
