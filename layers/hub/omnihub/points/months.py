"""Calendar months in Asia/Shanghai, as 'YYYY-MM' keys that sort as text."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from omnihub.clock import SHANGHAI, to_utc


def month_of(when: datetime) -> str:
    return to_utc(when).astimezone(SHANGHAI).strftime("%Y-%m")


def add_months(month: str, n: int) -> str:
    year, mon = (int(p) for p in month.split("-"))
    index = year * 12 + (mon - 1) + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def first_day(month: str) -> date:
    year, mon = (int(p) for p in month.split("-"))
    return date(year, mon, 1)


def start_of(month: str) -> datetime:
    """The instant a month begins in Shanghai (points of the month before expire then)."""
    return datetime.combine(first_day(month), datetime.min.time(), tzinfo=SHANGHAI)


def expiry_instant(bucket: str) -> datetime:
    """Points in bucket M expire at the end of month M: the start of the next month."""
    return start_of(add_months(bucket, 1))


def notice_instant(bucket: str, notice_days: int) -> datetime:
    return expiry_instant(bucket) - timedelta(days=notice_days)
