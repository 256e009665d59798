"""SLA clocks run on a calendar: all hours (24x7) or daily business hours in Asia/Shanghai.

`add` moves a start time forward by a duration of *counted* time; `counted` measures the counted
time between two instants. Pausing a ticket and resuming it adds the counted paused time to its
open targets, so a business-hours clock does not lose the night while it waits on a customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from omnihub.clock import SHANGHAI, to_utc


@dataclass(frozen=True)
class Calendar:
    """`opens`/`closes` in Shanghai local time; None means the clock never stops."""

    opens: time | None = None
    closes: time | None = None

    @property
    def always(self) -> bool:
        return self.opens is None or self.closes is None

    @property
    def spec(self) -> str:
        """The calendar as text ("24x7" or "09:00-21:00"): what a ticket keeps of it."""
        if self.always:
            return "24x7"
        assert self.opens is not None
        assert self.closes is not None
        return f"{self.opens:%H:%M}-{self.closes:%H:%M}"

    @classmethod
    def parse(cls, spec: str) -> Calendar:
        """The inverse of `spec`."""
        if spec == "24x7":
            return ALWAYS
        opens, closes = (time.fromisoformat(part) for part in spec.split("-", 1))
        return cls(opens=opens, closes=closes)

    def _window(self, day_start: datetime) -> tuple[datetime, datetime]:
        assert self.opens is not None
        assert self.closes is not None
        return (
            day_start.replace(hour=self.opens.hour, minute=self.opens.minute),
            day_start.replace(hour=self.closes.hour, minute=self.closes.minute),
        )

    def add(self, start: datetime, duration: timedelta) -> datetime:
        if self.always:
            return to_utc(start) + duration
        local = to_utc(start).astimezone(SHANGHAI)
        left = duration
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        cursor = local
        while True:
            opens, closes = self._window(day)
            begin = max(cursor, opens)
            if begin < closes:
                available = closes - begin
                if left <= available:
                    return to_utc(begin + left)
                left -= available
            day += timedelta(days=1)  # Shanghai keeps no daylight saving
            cursor = day

    def counted(self, start: datetime, end: datetime) -> timedelta:
        if end <= start:
            return timedelta(0)
        if self.always:
            return to_utc(end) - to_utc(start)
        local_start = to_utc(start).astimezone(SHANGHAI)
        local_end = to_utc(end).astimezone(SHANGHAI)
        total = timedelta(0)
        day = local_start.replace(hour=0, minute=0, second=0, microsecond=0)
        while day <= local_end:
            opens, closes = self._window(day)
            begin, finish = max(opens, local_start), min(closes, local_end)
            if finish > begin:
                total += finish - begin
            day += timedelta(days=1)  # Shanghai keeps no daylight saving
        return total


ALWAYS = Calendar()
BUSINESS_HOURS = Calendar(opens=time(9), closes=time(21))
