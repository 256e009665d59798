"""Calendars as data (docs/operations.md): hours windows, weekdays, holidays and 调休 workdays."""

from datetime import UTC, date, datetime, time, timedelta

from omnihub.clock import SHANGHAI
from omnihub.tickets.calendar import BUSINESS_HOURS, Calendar
from omnihub.tickets.policies import DEFAULTS, SlaPolicies, default_value

OFFICE = Calendar(
    hours=((time(9), time(12)), (time(13), time(18))),
    weekdays=frozenset(range(1, 6)),
    holidays=frozenset({date(2026, 10, 1), date(2026, 10, 2)}),
    workdays=frozenset({date(2026, 10, 10)}),  # a Saturday worked (调休)
)


def local(*args):
    return datetime(*args, tzinfo=SHANGHAI)


def test_the_lunch_break_does_not_count():
    assert OFFICE.add(local(2026, 9, 29, 11, 0), timedelta(hours=2)) == local(2026, 9, 29, 14, 0)
    assert OFFICE.counted(local(2026, 9, 29, 11, 0), local(2026, 9, 29, 14, 0)) == timedelta(
        hours=2
    )


def test_a_weekend_does_not_count():
    # Friday 17:00 + 2 h: one hour on Friday, the next on Monday from 09:00
    assert OFFICE.add(local(2026, 9, 25, 17, 0), timedelta(hours=2)) == local(2026, 9, 28, 10, 0)


def test_holidays_do_not_count():
    # Wednesday 30 Sep 17:00 + 2 h: Thursday and Friday are holidays, the weekend too
    assert OFFICE.add(local(2026, 9, 30, 17, 0), timedelta(hours=2)) == local(2026, 10, 5, 10, 0)


def test_a_workday_in_a_holidays_place_counts_whatever_its_weekday():
    # Friday 9 Oct 17:00 + 2 h: Saturday 10 Oct is worked (调休)
    assert OFFICE.add(local(2026, 10, 9, 17, 0), timedelta(hours=2)) == local(2026, 10, 10, 10, 0)
    assert OFFICE.counted(local(2026, 10, 9, 0, 0), local(2026, 10, 12, 0, 0)) == timedelta(
        hours=16
    )


def test_the_defaults_keep_the_daily_window_and_ship_china_holidays():
    p3 = DEFAULTS.policy("P3")
    assert p3.calendar == BUSINESS_HOURS  # today's behaviour: 09:00-21:00 every day
    assert p3.calendar.add(datetime(2026, 11, 11, 12, 30, tzinfo=UTC), timedelta(hours=2)) == (
        datetime(2026, 11, 12, 2, 30, tzinfo=UTC)
    )
    china = SlaPolicies.model_validate(default_value()).calendars["cn-workdays"].calendar()
    assert not china.works_on(date(2026, 2, 17))  # 春节
    assert china.works_on(date(2026, 2, 14))  # a Saturday worked
    assert not china.works_on(date(2026, 10, 1))
    assert china.works_on(date(2026, 10, 10))
    assert not china.works_on(date(2027, 2, 6))
    assert china.works_on(date(2026, 11, 11))
    assert not china.works_on(date(2026, 11, 14))


def test_a_ticket_keeps_only_the_dates_ahead_of_it_and_reads_them_back():
    kept = OFFICE.kept_from(local(2026, 10, 2, 8, 0))
    assert kept.holidays == {date(2026, 10, 2)}
    assert kept.workdays == {date(2026, 10, 10)}
    assert Calendar.parse(kept.spec) == kept
    assert Calendar.parse(BUSINESS_HOURS.spec) == BUSINESS_HOURS
    assert BUSINESS_HOURS.spec == "09:00-21:00"  # tickets stored before this read the same
