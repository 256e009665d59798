"""AWS schedule expressions (`cron(...)`, `rate(...)`) and the events a schedule sends.

EventBridge stores schedule rules but never fires them in moto, so the local stack computes
occurrences itself and fires them when the virtual clock moves. Cron fields are AWS's six
(minutes hours day-of-month month day-of-week year; day-of-week 1-7 is SUN-SAT) with numbers,
names, `*`, `?`, lists, ranges and steps; `L`, `W` and `#` are not needed and are rejected.
Rates are anchored at the Unix epoch (AWS anchors at rule creation) so local firings are
reproducible from one run to the next.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from devstack.model import ScheduleSpec

_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, start=1)}
_DAYS = {
    name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
#: Schedules firing more often than this are coalesced to their last occurrence in a clock move.
COALESCE_BELOW = timedelta(hours=1)


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    """The values one cron field allows."""
    if text in ("*", "?"):
        return frozenset(range(low, high + 1))
    values: set[int] = set()
    for part in text.split(","):
        if re.search(r"[LW#]", re.sub(r"[A-Z]{3}", "", part.upper())):
            raise ValueError(f"cron {part!r}: L, W and # are not supported locally")
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, last = base.split("-", 1)
            start, end = _value(first, names), _value(last, names)
        else:
            start = _value(base, names)
            end = high if step_text else start
        if not (low <= start <= high and low <= end <= high) or step < 1:
            raise ValueError(f"cron field {text!r} out of range {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, names: dict[str, int] | None) -> int:
    upper = text.upper()
    if names and upper in names:
        return names[upper]
    return int(text)


@dataclass(frozen=True)
class Cron:
    """A parsed AWS cron expression evaluated in a time zone."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    years: frozenset[int]
    any_day: bool
    any_weekday: bool

    @property
    def sub_hourly(self) -> bool:
        """More than one firing within some hour (the minute field allows several values)."""
        return len(self.minutes) > 1

    def _day_matches(self, day: date) -> bool:
        if day.month not in self.months or day.year not in self.years:
            return False
        weekday = (day.weekday() + 1) % 7 + 1  # Python Monday=0 -> AWS MON=2, Sunday -> 1
        if self.any_day:
            return weekday in self.weekdays
        if self.any_weekday:
            return day.day in self.days
        return day.day in self.days and weekday in self.weekdays

    def _times(self, day: date, tz: ZoneInfo, reverse: bool = False) -> Iterator[datetime]:
        """The day's firing times (UTC), in order or backwards."""
        for hour in sorted(self.hours, reverse=reverse):
            for minute in sorted(self.minutes, reverse=reverse):
                local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
                yield local.astimezone(UTC)

    def occurrences(self, after: datetime, until: datetime, tz: ZoneInfo) -> Iterator[datetime]:
        """Firing times t with after < t <= until, in order, as UTC datetimes."""
        day, last = after.astimezone(tz).date(), until.astimezone(tz).date()
        while day <= last:
            if self._day_matches(day):
                yield from (when for when in self._times(day, tz) if after < when <= until)
            day += timedelta(days=1)

    def last(self, after: datetime, until: datetime, tz: ZoneInfo) -> datetime | None:
        """The latest firing in (after, until], found backwards so long moves stay cheap."""
        day, first = until.astimezone(tz).date(), after.astimezone(tz).date()
        while day >= first:
            if self._day_matches(day):
                for when in self._times(day, tz, reverse=True):
                    if when <= after:
                        return None
                    if when <= until:
                        return when
            day -= timedelta(days=1)
        return None


@dataclass(frozen=True)
class Rate:
    """A `rate(N unit)` schedule, anchored at the Unix epoch."""

    period: timedelta

    @property
    def sub_hourly(self) -> bool:
        return self.period < COALESCE_BELOW

    def occurrences(self, after: datetime, until: datetime, tz: ZoneInfo) -> Iterator[datetime]:
        """Firing times t with after < t <= until, in order."""
        step = self.period
        k = (after - _EPOCH) // step + 1
        when = _EPOCH + k * step
        while when <= until:
            yield when
            when += step

    def last(self, after: datetime, until: datetime, tz: ZoneInfo) -> datetime | None:
        """The latest firing in (after, until]."""
        when = _EPOCH + ((until - _EPOCH) // self.period) * self.period
        return when if when > after else None


Expression = Cron | Rate


def parse(expression: str) -> Expression:
    """Parse `cron(...)` or `rate(...)`; anything else (e.g. `at(...)`) raises ValueError."""
    text = expression.strip()
    match = re.fullmatch(r"rate\(\s*(\d+)\s+(minutes?|hours?|days?)\s*\)", text)
    if match:
        count = int(match.group(1))
        if count < 1:
            raise ValueError(f"{expression}: a rate needs a positive value")
        unit = match.group(2).rstrip("s")
        return Rate(timedelta(seconds=count * _RATE_UNITS[unit]))
    match = re.fullmatch(r"cron\((.*)\)", text)
    if not match:
        raise ValueError(f"{expression}: expected cron(...) or rate(...)")
    fields = match.group(1).split()
    if len(fields) != 6:
        raise ValueError(f"{expression}: AWS cron has six fields")
    minute, hour, dom, month, dow, year = fields
    if "?" not in (dom, dow):
        raise ValueError(f"{expression}: day-of-month or day-of-week must be '?'")
    return Cron(
        minutes=_field(minute, 0, 59),
        hours=_field(hour, 0, 23),
        days=_field(dom, 1, 31),
        months=_field(month, 1, 12, _MONTHS),
        weekdays=_field(dow, 1, 7, _DAYS),
        years=_field(year, 1970, 2199),
        any_day=dom == "?",
        any_weekday=dow == "?",
    )


def due(
    spec: ScheduleSpec, after: datetime, until: datetime, *, coalesce: bool = True
) -> list[datetime]:
    """The occurrences of a schedule in (after, until]. Sub-hourly schedules are coalesced to
    their last occurrence: a per-minute sweep that crosses a day locally need not run 1,440
    times, since each run catches up on everything due (the job's cost follows what is due)."""
    expression = parse(spec.expression)
    tz = ZoneInfo(spec.timezone)
    if coalesce and expression.sub_hourly:
        last = expression.last(after, until, tz)
        return [last] if last else []
    return list(expression.occurrences(after, until, tz))


def scheduled_event(spec: ScheduleSpec, when: datetime, account: str, region: str) -> Any:
    """The payload a schedule delivers: its Input when set, else AWS's "Scheduled Event"."""
    if spec.input is not None:
        return json.loads(spec.input)
    scheduler = spec.source in ("ScheduleV2", "AWS::Scheduler::Schedule")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler" if scheduler else "aws.events",
        "account": account,
        "time": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [spec.arn],
        "detail": {},
    }
