"""Business days and months in Asia/Shanghai as 'YYYY-MM-DD' / 'YYYY-MM' text (sorts as time),
and the stable shard of a key."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta

from omnihub.clock import SHANGHAI, business_date

#: shards of the index of leaders active on a day (and of tiered leaders): one work message each
ACTIVE_SHARDS = 16
#: shards of a leader's pending balance, so a star leader's orders do not all write one item
PENDING_SHARDS = 8
#: the T+1 run of day D is scheduled at this hour (Asia/Shanghai) on D+1 (template:
#: `commission-settlement`, cron(0 18 * * ? *))
RUN_HOUR = 2


def day_of(when: datetime) -> str:
    return business_date(when).isoformat()


def add_days(day: str, n: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=n)).isoformat()


def month_of_day(day: str) -> str:
    return day[:7]


def month_of(when: datetime) -> str:
    return day_of(when)[:7]


def previous_month(month: str) -> str:
    first = date.fromisoformat(f"{month}-01")
    return (first - timedelta(days=1)).isoformat()[:7]


def next_month(month: str) -> str:
    first = date.fromisoformat(f"{month}-01")
    return (first + timedelta(days=32)).isoformat()[:7]


def month_days(month: str) -> tuple[str, str]:
    """The first and last day of a month."""
    first = date.fromisoformat(f"{month}-01")
    following = (first + timedelta(days=32)).replace(day=1)
    return first.isoformat(), (following - timedelta(days=1)).isoformat()


def day_start(day: str) -> datetime:
    """The instant a Shanghai day begins."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=SHANGHAI)


def run_due(day: str) -> datetime:
    """When the T+1 run of `day` is due: a leader-day not opened by then is never opened (the run
    may have passed it), whether or not the run has marked itself started."""
    return day_start(day) + timedelta(days=1, hours=RUN_HOUR)


def shard_of(key: str, shards: int) -> int:
    """Stable across processes (not Python's salted hash)."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % shards
