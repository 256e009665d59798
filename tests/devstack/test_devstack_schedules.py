"""Schedule expressions, and firing them by moving the virtual clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devstack.model import ScheduleSpec
from devstack.schedules import Cron, Rate, due, parse, scheduled_event
from devstack.stack import LocalStack
from tests.devstack.devstack_support import ACCOUNT, START, log_items

UTC_DAY = (datetime(2025, 3, 3, tzinfo=UTC), datetime(2025, 3, 4, tzinfo=UTC))  # Mon -> Tue


def _spec(expression: str, timezone: str = "UTC", name: str = "s") -> ScheduleSpec:
    return ScheduleSpec(name, "Fn", expression, timezone, "arn:x", "Schedule")


def test_cron_fields() -> None:
    cron = parse("cron(0/15 9-10,12 ? JAN-MAR MON-FRI 2025-2026)")
    assert isinstance(cron, Cron)
    assert cron.minutes == {0, 15, 30, 45}
    assert cron.hours == {9, 10, 12}
    assert cron.months == {1, 2, 3}
    assert cron.weekdays == {2, 3, 4, 5, 6}
    assert cron.years == {2025, 2026}
    assert cron.sub_hourly
    assert not parse("cron(0 2 * * ? *)").sub_hourly


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 2 * * *)",  # five fields
        "cron(0 2 * * 1 *)",  # neither day field is '?'
        "cron(0 2 L * ? *)",
        "cron(0 2 15W * ? *)",
        "cron(0 2 ? * 6#3 *)",
        "cron(60 2 * * ? *)",
        "rate(0 minutes)",
        "rate(5 weeks)",
        "at(2025-01-01T00:00:00)",
    ],
)
def test_invalid_expressions(expression: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse(expression)


def test_rates() -> None:
    assert parse("rate(1 minute)") == Rate(timedelta(minutes=1))
    assert parse("rate(2 hours)") == Rate(timedelta(hours=2))
    assert parse("rate(1 day)") == Rate(timedelta(days=1))
    assert due(_spec("rate(2 hours)"), *UTC_DAY)[0] == datetime(2025, 3, 3, 2, tzinfo=UTC)
    assert len(due(_spec("rate(2 hours)"), *UTC_DAY)) == 12


def test_cron_in_a_time_zone_and_day_of_week() -> None:
    nightly = due(_spec("cron(0 2 * * ? *)", "Asia/Shanghai"), *UTC_DAY)
    assert nightly == [datetime(2025, 3, 3, 18, tzinfo=UTC)]  # 02:00 +08:00 on the 4th
    sundays = due(
        _spec("cron(0 12 ? * 1 *)"),
        datetime(2025, 3, 1, tzinfo=UTC),
        datetime(2025, 3, 31, tzinfo=UTC),
    )
    assert [d.day for d in sundays] == [2, 9, 16, 23, 30]
    assert all(d.weekday() == 6 for d in sundays)
    first_of_month = due(
        _spec("cron(30 1 1 * ? *)"),
        datetime(2025, 1, 1, 2, tzinfo=UTC),
        datetime(2025, 4, 1, 2, tzinfo=UTC),
    )
    assert [d.month for d in first_of_month] == [2, 3, 4]


def test_sub_hourly_schedules_are_coalesced() -> None:
    every_minute = _spec("cron(* * * * ? *)")
    assert due(every_minute, *UTC_DAY) == [UTC_DAY[1]]
    assert len(due(every_minute, *UTC_DAY, coalesce=False)) == 1440
    assert due(_spec("rate(5 minutes)"), *UTC_DAY) == [UTC_DAY[1]]
    assert due(_spec("rate(5 minutes)"), UTC_DAY[0], UTC_DAY[0] + timedelta(minutes=4)) == []


def test_scheduled_event_shape() -> None:
    when = datetime(2025, 1, 1, 18, tzinfo=UTC)
    event = scheduled_event(_spec("rate(1 day)"), when, ACCOUNT, "cn-north-1")
    assert event["version"] == "0"
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["time"] == "2025-01-01T18:00:00Z"
    assert event["resources"] == ["arn:x"]
    assert (event["account"], event["region"], event["detail"]) == (ACCOUNT, "cn-north-1", {})
    with_input = ScheduleSpec("s", "Fn", "rate(1 day)", "UTC", "arn", "Schedule", '{"a": 1}')
    assert scheduled_event(with_input, when, ACCOUNT, "cn-north-1") == {"a": 1}


def test_moving_the_clock_fires_due_schedules_in_order(mini_stack: LocalStack) -> None:
    assert mini_stack.now() == START
    fired = mini_stack.set_clock(START + timedelta(days=1))
    assert [(f["schedule"], f["time"]) for f in fired] == [
        ("mini-nightly", "2025-01-01T18:00:00.000Z"),  # 02:00 Asia/Shanghai
        ("mini-sweep", "2025-01-02T00:00:00.000Z"),  # 288 five-minute runs coalesced to one
    ]
    assert mini_stack.now() == START + timedelta(days=1)
    runs = log_items(mini_stack, "sched")
    assert [r["sk"][:24] for r in runs] == ["2025-01-01T18:00:00.000Z", "2025-01-02T00:00:00.000Z"]
    nightly, sweep = runs
    assert nightly["event_time"] == "2025-01-01T18:00:00Z"
    assert nightly["source"] == "aws.scheduler"
    assert nightly["resource"].endswith(":schedule/default/mini-nightly")
    assert sweep["resource"] == f"arn:aws-cn:events:cn-north-1:{ACCOUNT}:rule/mini-sweep"
    assert {r["detail_type"] for r in runs} == {"Scheduled Event"}
    assert {r["kind"] for r in runs} == {"scheduled"}  # its own helpers.py
    assert mini_stack.set_clock(START) == []  # backwards fires nothing
    assert mini_stack.now() == START


def test_fire_schedule_now_and_disabled_schedules(mini_stack: LocalStack) -> None:
    before = len(log_items(mini_stack, "sched"))
    result = mini_stack.fire_schedule("mini-monthly")  # disabled: still fireable by hand
    assert result["error"] is None
    assert result["drain"]["complete"]
    assert len(log_items(mini_stack, "sched")) == before + 1
    fired = mini_stack.set_clock(datetime(2025, 1, 1, 1, 31, tzinfo=UTC))  # 01:30 on the 1st
    assert "mini-monthly" not in {f["schedule"] for f in fired}
    with pytest.raises(KeyError):
        mini_stack.fire_schedule("no-such-schedule")


def test_catch_up_fires_what_the_clock_passed(mini_stack: LocalStack) -> None:
    runtime = mini_stack.runtime
    start = mini_stack.now()
    assert runtime.catch_up() == []  # nothing passed since the last firing
    runtime.clock.set(start + timedelta(minutes=11))  # as a running clock would flow
    fired = runtime.catch_up()
    assert [f["schedule"] for f in fired] == ["mini-sweep"]
    assert runtime.catch_up() == []
