"""Clocks: business code asks a clock for the time so tests and the local stack can move it.

Times are timezone-aware UTC. Business days, schedules and business hours are Asia/Shanghai
(`business_date`). Security checks (signature windows, token expiry) use `wall_clock()`, never
the movable default, so moving business time cannot open a replay window.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    """Anything that tells the current UTC time."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """A clock you can move; thread-safe (the local stack serves in threads).

    Frozen (the default, for tests) it stands still until moved. Running (the local stack) it
    flows like real time from wherever it was last set, so events processed one after another
    get distinct times, and moving it jumps business time without stopping it.
    """

    def __init__(self, start: datetime | None = None, *, running: bool = False) -> None:
        self._set_to = to_utc(start) if start else datetime.now(UTC)
        self._set_at = time.monotonic()
        self._running = running
        self._lock = threading.Lock()

    def _current(self) -> datetime:
        if not self._running:
            return self._set_to
        return self._set_to + timedelta(seconds=time.monotonic() - self._set_at)

    def now(self) -> datetime:
        with self._lock:
            return self._current()

    def set(self, when: datetime) -> None:
        with self._lock:
            self._set_to = to_utc(when)
            self._set_at = time.monotonic()

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._set_to = self._current() + delta
            self._set_at = time.monotonic()
            return self._set_to


_WALL = SystemClock()
_default: Clock = _WALL


def default_clock() -> Clock:
    """The clock business code uses: real time in AWS, a `VirtualClock` in the local stack."""
    return _default


def set_default_clock(clock: Clock | None) -> None:
    """Swap the business clock (tests and the local stack only); None restores real time."""
    global _default
    _default = clock or _WALL


def wall_clock() -> Clock:
    """Real time, for security windows that moving business time must not widen."""
    return _WALL


def to_utc(when: datetime) -> datetime:
    """Normalise an aware datetime to UTC; a naive one is rejected rather than guessed."""
    if when.tzinfo is None:
        raise ValueError("naive datetime: a time needs its offset")
    return when.astimezone(UTC)


def business_date(when: datetime) -> date:
    """The Asia/Shanghai calendar day a UTC instant falls on."""
    return to_utc(when).astimezone(SHANGHAI).date()


def iso(when: datetime) -> str:
    """RFC 3339 in UTC with a Z suffix and millisecond precision: sortable as text."""
    return to_utc(when).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """Parse an RFC 3339 timestamp with an offset (or Z) into UTC."""
    return to_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
