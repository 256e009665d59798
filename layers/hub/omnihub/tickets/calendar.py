"""SLA clocks run on a calendar: all hours (24x7), or working hours on working days.

A working day is a weekday the calendar lists, unless it is a holiday; a weekend day worked in
a holiday's place (调休) is a working day whatever its weekday. On a working day the clock runs
in each of `hours` (local time of `timezone`). The values are data (docs/operations.md,
omnihub.tickets.policies); this module is their arithmetic.

`add` moves a start time forward by a duration of *counted* time; `counted` measures the counted
time between two instants. Pausing a ticket and resuming it adds the counted paused time to its
open targets, so a business-hours clock does not lose the night while it waits on a customer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from omnihub.clock import to_utc

EVERY_DAY: frozenset[int] = frozenset(range(1, 8))  # ISO weekdays, Monday 1 .. Sunday 7
DEFAULT_TIMEZONE = "Asia/Shanghai"
#: A calendar with no working day in ten years cannot meet a target: a broken value, not a wait.
HORIZON_DAYS = 3660


@dataclass(frozen=True)
class Calendar:
    """`hours` empty means the clock never stops (24x7)."""

    hours: tuple[tuple[time, time], ...] = ()
    weekdays: frozenset[int] = EVERY_DAY
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    timezone: str = DEFAULT_TIMEZONE

    @property
    def always(self) -> bool:
        return not self.hours

    def works_on(self, day: date) -> bool:
        """Holidays stop the clock; 调休 workdays run it; otherwise the weekday decides."""
        if day in self.holidays:
            return False
        return day in self.workdays or day.isoweekday() in self.weekdays

    def kept_from(self, moment: datetime) -> Calendar:
        """The calendar without the holidays and workdays before the local day of `moment`:
        what a ticket opened then keeps of it (its clocks never look back)."""
        day = to_utc(moment).astimezone(ZoneInfo(self.timezone)).date()
        return replace(
            self,
            holidays=frozenset(d for d in self.holidays if d >= day),
            workdays=frozenset(d for d in self.workdays if d >= day),
        )

    @property
    def spec(self) -> str:
        """The calendar as text, what a ticket keeps of it (D63): "24x7", "09:00-21:00" for one
        daily window every day in Shanghai with no holidays, else the JSON of docs/operations.md."""
        if self.always:
            return "24x7"
        if (
            len(self.hours) == 1
            and self.weekdays == EVERY_DAY
            and not self.holidays
            and not self.workdays
            and self.timezone == DEFAULT_TIMEZONE
        ):
            opens, closes = self.hours[0]
            return f"{opens:%H:%M}-{closes:%H:%M}"
        return json.dumps(
            {
                "timezone": self.timezone,
                "hours": [[f"{a:%H:%M}", f"{b:%H:%M}"] for a, b in self.hours],
                "weekdays": sorted(self.weekdays),
                "holidays": sorted(d.isoformat() for d in self.holidays),
                "workdays": sorted(d.isoformat() for d in self.workdays),
            },
            separators=(",", ":"),
        )

    @staticmethod
    @cache
    def parse(spec: str) -> Calendar:
        """The inverse of `spec`."""
        if spec == "24x7":
            return ALWAYS
        if spec.startswith("{"):
            data = json.loads(spec)
            return Calendar(
                hours=tuple(
                    (time.fromisoformat(a), time.fromisoformat(b)) for a, b in data["hours"]
                ),
                weekdays=frozenset(data["weekdays"]),
                holidays=frozenset(date.fromisoformat(d) for d in data["holidays"]),
                workdays=frozenset(date.fromisoformat(d) for d in data["workdays"]),
                timezone=data["timezone"],
            )
        opens, closes = (time.fromisoformat(part) for part in spec.split("-", 1))
        return Calendar(hours=((opens, closes),))

    def _windows(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The counted intervals (UTC) from the local day `start` falls on, onwards."""
        zone = ZoneInfo(self.timezone)
        day = to_utc(start).astimezone(zone).date()
        for _ in range(HORIZON_DAYS):
            if self.works_on(day):
                for opens, closes in self.hours:
                    yield (
                        datetime.combine(day, opens, zone).astimezone(UTC),
                        datetime.combine(day, closes, zone).astimezone(UTC),
                    )
            day += timedelta(days=1)
        raise ValueError(f"no working hours within {HORIZON_DAYS} days of {start.isoformat()}")

    def add(self, start: datetime, duration: timedelta) -> datetime:
        cursor = to_utc(start)
        if self.always:
            return cursor + duration
        left = duration
        for opens, closes in self._windows(cursor):
            begin = max(cursor, opens)
            if begin < closes:
                if left <= closes - begin:
                    return begin + left
                left -= closes - begin
        raise AssertionError("unreachable: _windows raises first")

    def counted(self, start: datetime, end: datetime) -> timedelta:
        if end <= start:
            return timedelta(0)
        begin_at, end_at = to_utc(start), to_utc(end)
        if self.always:
            return end_at - begin_at
        total = timedelta(0)
        for opens, closes in self._windows(begin_at):
            if opens >= end_at:
                break
            begin, finish = max(opens, begin_at), min(closes, end_at)
            if finish > begin:
                total += finish - begin
        return total


ALWAYS = Calendar()
#: One window, 09:00-21:00 every day in Shanghai: the shape of the default P3 calendar.
BUSINESS_HOURS = Calendar(hours=((time(9), time(21)),))
