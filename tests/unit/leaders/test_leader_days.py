"""Issue 12: a booking goes into the leader-day of the day it happened on while that day
is open, else the first open day after it, and never into a day that settled: enforced by the
booking's own transaction (the day must still be open, or its run must not have started), not by
the two hours before 02:00."""

from datetime import datetime, timedelta

import pytest

from omnihub.clock import SHANGHAI
from omnihub.leaders.days import ACTIVE_SHARDS, add_days, shard_of
from omnihub.leaders.reconcile import reconcile_leader
from tests.unit.leaders.leaders_support import DAY0, Hub, row

DAY1 = add_days(DAY0, 1)


def at(day: str, clock: str) -> datetime:
    """An instant of a Shanghai day, 'HH:MM:SS'."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=SHANGHAI)


@pytest.fixture
def hub():
    h = Hub()
    h.register("ldr-a", "mbr_leader_a")
    return h


def run_for(hub: Hub, day: str, clock: str = "02:00:00") -> int:
    """The T+1 run of `day` at `clock` on the next day."""
    hub.now = at(add_days(day, 1), clock)
    return hub.settle(day)


def run_before_commit(hub: Hub, day: str, when=lambda change: True) -> list[int]:
    """Make the run of `day` (at 02:00 the next day) happen between the next booking's plan and
    its commit."""
    ran: list[int] = []

    def hook(change):
        if not ran and when(change):
            hub.store.before_commit = None
            ran.append(run_for(hub, day))

    hub.store.before_commit = hook
    return ran


# -- 6: a completion just before midnight, processed just after ----------------------------------
def test_a_completion_at_23_59_50_processed_at_00_00_10_settles_in_its_own_day(hub):
    hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), leader="ldr-a")
    hub.now = at(DAY1, "00:00:10")
    hub.complete("o1", at=at(DAY0, "23:59:50"))
    assert hub.store.order("o1").eligible_day == DAY0
    assert run_for(hub, DAY0) == 1
    assert [row(s) for s in hub.statements("ldr-a")] == [(DAY0, 0, 500, 0, 0, 500)]
    assert hub.balance("ldr-a") == (500, 0)
    assert hub.reconciles("ldr-a")


def test_a_completion_of_a_day_whose_run_started_goes_to_the_next_open_day(hub):
    hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), leader="ldr-a")
    run_for(hub, DAY0)  # the leader had nothing to settle on DAY0; the run has started
    hub.complete("o1", at=at(DAY0, "23:59:50"))  # reported at 02:00 on DAY1
    assert hub.store.order("o1").eligible_day == DAY1
    run_for(hub, DAY1)
    assert [row(s) for s in hub.statements("ldr-a")] == [(DAY1, 0, 500, 0, 0, 500)]
    assert hub.reconciles("ldr-a")


# -- 7: a booking planned before the run and committed after it ----------------------------------
def test_a_completion_planned_before_the_run_and_committed_after_goes_to_the_next_open_day(hub):
    """DAY0 is open (o1 completed in it); o2's completion is planned into DAY0, the run settles
    DAY0, then the completion commits: its condition (DAY0 still open) fails, and it is planned
    again into DAY1."""
    hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), leader="ldr-a")
    hub.pay("o2", "mbr_1", ("L1", "rice", 20_000))
    hub.complete("o1")
    hub.now = at(DAY0, "23:59:59")
    ran = run_before_commit(hub, DAY0, lambda change: bool(change.entries))
    hub.complete("o2", at=at(DAY0, "23:59:00"))
    assert ran == [1]
    assert hub.store.order("o2").eligible_day == DAY1
    assert [row(s) for s in hub.statements("ldr-a")] == [(DAY0, 0, 500, 0, 0, 500)]
    assert hub.balance("ldr-a") == (500, 1_000)
    assert hub.reconciles("ldr-a")
    run_for(hub, DAY1)
    assert [row(s) for s in hub.statements("ldr-a")][-1] == (DAY1, 500, 1_000, 0, 0, 1_500)
    assert hub.balance("ldr-a") == (1_500, 0)
    result = reconcile_leader(hub.store, "ldr-a")
    assert result.ok, result.problems
    assert result.earned_fen == result.settled_lines_fen == 1_500


def test_a_first_booking_of_a_day_planned_before_its_run_started_goes_to_the_next_day(hub):
    """The leader has no DAY0 item yet: the booking plans to create it, the run of DAY0 starts
    (and finds nothing), then the creation commits: refused (the run started), planned again."""
    hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), leader="ldr-a")
    hub.now = at(DAY0, "23:59:59")
    ran = run_before_commit(hub, DAY0, lambda change: bool(change.entries))
    hub.complete("o1", at=at(DAY0, "23:59:00"))
    assert ran == [0]
    assert hub.store.order("o1").eligible_day == DAY1
    assert hub.store.day("ldr-a", DAY0) is None
    assert hub.store.run_started(DAY0, shard_of("ldr-a", ACTIVE_SHARDS))
    run_for(hub, DAY1)
    assert [row(s) for s in hub.statements("ldr-a")] == [(DAY1, 0, 500, 0, 0, 500)]
    assert hub.balance("ldr-a") == (500, 0)
    assert hub.reconciles("ldr-a")


@pytest.mark.parametrize("kind", ["withdrawal", "return", "reversal"])
def test_a_movement_planned_before_the_run_and_committed_after_is_on_the_next_statement(hub, kind):
    """Withdrawals, returned payouts and reversals are bookings too: none lands in a day the run
    settled without it (its statement would not show it, and the chain would break)."""
    hub.pay("o1", "mbr_1", ("L1", "rice", 100_000), leader="ldr-a")
    hub.complete("o1")
    run_for(hub, DAY0)
    hub.now = at(DAY1, "10:00:00")
    hub.pay("o2", "mbr_1", ("L1", "rice", 10_000))
    hub.complete("o2")  # DAY1 is open
    if kind == "return":
        hub.provider.failing.add("w1-1")
        hub.withdraw("ldr-a", "w1", 2_000)
    hub.now = at(DAY1, "23:59:59")
    moving = {
        "withdrawal": lambda change: bool(change.withdrawals),
        "return": lambda change: bool(change.movements),
        "reversal": lambda change: bool(change.movements),
    }[kind]
    ran = run_before_commit(hub, DAY1, moving)
    if kind == "withdrawal":
        hub.withdraw("ldr-a", "w1", 1_000)
    elif kind == "return":
        hub.pay_out()
    else:
        hub.refund("o1", "r1", L1=40_000)
    assert ran == [1]
    run_for(hub, add_days(DAY1, 1))
    last = hub.statements("ldr-a")[-1]
    assert last.date == add_days(DAY1, 1)
    name, fen = {
        "withdrawal": ("withdrawals_fen", 1_000),
        "return": ("returned_fen", 2_000),
        "reversal": ("reversed_fen", 2_000),
    }[kind]
    assert getattr(last, name) == fen
    assert hub.reconciles("ldr-a")


def test_a_day_left_closing_by_a_run_that_died_is_settled_by_the_rerun(hub):
    hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), leader="ldr-a")
    hub.complete("o1")
    hub.now = at(DAY1, "02:00:00")
    assert hub.store.close_day("ldr-a", DAY0).status == "closing"  # then the run died
    hub.pay("o2", "mbr_1", ("L1", "rice", 20_000))
    hub.complete("o2", at=at(DAY0, "23:00:00"))  # a closing day takes no booking
    assert hub.store.order("o2").eligible_day == DAY1
    assert hub.settle(DAY0) == 1
    assert [row(s) for s in hub.statements("ldr-a")] == [(DAY0, 0, 500, 0, 0, 500)]
    assert hub.reconciles("ldr-a")


def test_a_completion_reported_days_late_skips_to_the_first_open_day_cheaply(hub):
    """A completion reported four days late walks from its day to the first open one; the days
    up to the last statement are skipped without reading them."""
    hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), leader="ldr-a", at=hub.now - timedelta(days=1))
    hub.pay("o0", "mbr_1", ("L1", "rice", 10_000))
    hub.complete("o0")
    for d in range(3):
        run_for(hub, add_days(DAY0, d))
    hub.now = at(add_days(DAY0, 3), "12:00:00")
    reads: list[str] = []
    day_of_store = hub.store.day

    def counting(leader_id, day):
        reads.append(day)
        return day_of_store(leader_id, day)

    hub.store.day = counting  # type: ignore[method-assign]
    hub.complete("o1", at=hub.now - timedelta(days=4))
    assert hub.store.order("o1").eligible_day == add_days(DAY0, 3)
    # the day before DAY0, then (DAY0 is the last statement) DAY1 on
    assert reads == [add_days(DAY0, -1), DAY1, add_days(DAY0, 2), add_days(DAY0, 3)]


def test_a_day_whose_run_is_due_is_never_opened_late_even_without_a_run_marker(hub):
    """No run ever marked the days of three weeks ago (a new hub, or runs that found nothing on
    that shard): a completion from then, reported now, is not booked into a day no run will come
    back for; it goes to today's."""
    hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), leader="ldr-a", at=hub.now - timedelta(days=21))
    hub.complete("o1", at=hub.now - timedelta(days=21))
    assert hub.store.order("o1").eligible_day == DAY0
    assert hub.store.days("ldr-a", "0001-01-01", "9999-12-31")[0].day == DAY0
    run_for(hub, DAY0)
    assert [row(s) for s in hub.statements("ldr-a")] == [(DAY0, 0, 500, 0, 0, 500)]
