"""Commission: rates frozen per line, pending until the T+1 run after completion, refunds
before settlement void at the line's own rate, after it they are the next statement's reversal."""

from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest

from omnihub.leaders.days import add_days
from omnihub.leaders.model import Statement
from omnihub.leaders.reconcile import reconcile_leader
from omnihub.leaders.scheme import CommissionScheme, commission_fen
from tests.unit.leaders.leaders_support import DAY0, Hub, row


@pytest.fixture
def hub():
    h = Hub()
    h.register("ldr-a", "mbr_leader_a")
    return h


def test_commission_is_floored_per_line_in_integer_fen():
    assert commission_fen(11_980, 500) == 599
    assert commission_fen(3_333, 500) == 166  # 166.65
    assert commission_fen(1_999, 800) == 159  # 159.92
    assert commission_fen(0, 1000) == 0
    assert isinstance(commission_fen(3_333, 800), int)


def test_rates_follow_tier_and_category_and_are_frozen_at_payment():
    scheme = CommissionScheme(category_rates_bp={"gift_box": {"rookie": 300}})
    hub = Hub(scheme)
    hub.register("ldr-a", "mbr_leader_a")
    paid = hub.pay("o1", "mbr_1", ("L1", "rice", 3_333), ("L2", "gift_box", 10_000), leader="ldr-a")
    assert paid.fen == 166 + 300
    lines = hub.store.order("o1").lines
    assert (lines["L1"].rate_bp, lines["L2"].rate_bp) == (500, 300)
    # the leader becomes star; an order paid before (reported late) keeps the rookie rate
    star_since = hub.now + timedelta(hours=1)
    hub.set_tier("ldr-a", "star", since=star_since)
    hub.now += timedelta(hours=2)
    late = hub.pay("o2", "mbr_1", ("L1", "rice", 10_000), at=star_since - timedelta(minutes=5))
    now = hub.pay("o3", "mbr_1", ("L1", "rice", 10_000))
    assert (late.fen, now.fen) == (500, 1_000)


def test_paid_is_pending_completed_day_d_settles_on_d_plus_1(hub):
    hub.pay("o1", "mbr_1", ("L1", "rice", 11_980), ("L2", "oil", 4_000), leader="ldr-a")
    assert hub.balance("ldr-a") == (0, 799)
    hub.next_run()  # nothing completed: nothing settled
    assert hub.balance("ldr-a") == (0, 799)
    assert hub.statements("ldr-a") == []
    hub.complete("o1")  # on DAY0 + 1
    completed_day = hub.today
    assert hub.settle(day=add_days(completed_day, -1)) == 0  # the day before: nothing
    hub.next_run()
    assert hub.balance("ldr-a") == (799, 0)
    (statement,) = hub.statements("ldr-a")
    assert row(statement) == (completed_day, 0, 799, 0, 0, 799)
    assert (statement.orders, statement.lines, statement.sales_fen) == (1, 2, 15_980)
    (settled,) = hub.store.events_of("commission.settled")
    assert settled.data == {
        "leader_id": "ldr-a",
        "date": completed_day,
        "opening_fen": 0,
        "earned_fen": 799,
        "reversed_fen": 0,
        "withdrawn_fen": 0,
        "closing_fen": 799,
    }
    assert hub.reconciles("ldr-a")


def test_a_completion_reported_late_is_booked_on_the_day_the_hub_learns_of_it(hub):
    hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), leader="ldr-a")
    hub.next_run()
    hub.next_run()
    hub.complete("o1", at=hub.now - timedelta(days=2))  # happened two days ago
    assert hub.store.order("o1").eligible_day == hub.today
    hub.next_run()
    assert [s.earned_fen for s in hub.statements("ldr-a")] == [500]


def test_a_refund_before_completion_voids_pending_at_the_lines_own_rate(hub):
    hub.pay("o1", "mbr_1", ("L1", "rice", 3_333), ("L2", "oil", 4_000), leader="ldr-a")
    assert hub.balance("ldr-a") == (0, 166 + 200)
    hub.refund("o1", "r1", L1=1_111)
    assert hub.balance("ldr-a") == (0, 111 + 200)  # floor(2222 x 5%) = 111
    hub.refund("o1", "r1", L1=1_111)  # the same refund again
    hub.refund("o1", "r2", L1=1_111)
    assert hub.balance("ldr-a") == (0, 55 + 200)  # floor(1111 x 5%): no drift from 166-55-55
    hub.complete("o1")
    hub.next_run()
    assert hub.balance("ldr-a") == (255, 0)
    assert hub.reconciles("ldr-a")


def test_a_refund_after_completion_but_before_the_run_voids_the_days_entry(hub):
    hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), ("L2", "oil", 6_000), leader="ldr-a")
    hub.complete("o1")
    hub.refund("o1", "r1", L2=6_000)
    hub.next_run()
    (statement,) = hub.statements("ldr-a")
    assert (statement.earned_fen, statement.reversed_fen, statement.sales_fen) == (500, 0, 10_000)
    assert hub.balance("ldr-a") == (500, 0)


def test_a_refund_after_settlement_is_a_reversal_on_the_next_statement(hub):
    hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), leader="ldr-a")
    hub.complete("o1")
    hub.next_run()
    hub.refund("o1", "r1", L1=4_000)
    assert hub.balance("ldr-a") == (300, 0)  # taken at once
    hub.next_run()
    first, second = hub.statements("ldr-a")
    assert row(first)[1:] == (0, 500, 0, 0, 500)
    assert row(second) == (add_days(hub.today, -1), 500, 0, 200, 0, 300)
    assert second.refunded_sales_fen == 4_000
    assert hub.store.order("o1").reversed_fen == 200
    assert hub.reconciles("ldr-a")


def test_a_reversal_may_take_the_balance_below_zero(hub):
    hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), leader="ldr-a")
    hub.complete("o1")
    hub.next_run()
    hub.withdraw("ldr-a", "w1", 500)
    hub.refund("o1", "r1", L1=10_000)
    assert hub.balance("ldr-a") == (-500, 0)
    hub.next_run()
    assert row(hub.statements("ldr-a")[-1])[1:] == (500, 0, 500, 500, -500)
    assert hub.reconciles("ldr-a")


def test_the_same_order_from_two_channels_counts_once(hub):
    hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), leader="ldr-a", channel="groupbuy")
    assert hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), channel="tmall").status == "duplicate"
    hub.complete("o1")
    assert hub.complete("o1").status == "duplicate"
    hub.next_run()
    assert hub.balance("ldr-a") == (500, 0)


def test_completion_and_refund_before_the_payment_are_applied_when_it_comes(hub):
    assert hub.complete("o1").status == "recorded"
    assert hub.refund("o1", "r1", L1=2_000).status == "recorded"
    assert hub.store.order("o1").expires_at is not None  # a placeholder expires
    hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), leader="ldr-a")
    order = hub.store.order("o1")
    assert (order.expires_at, order.eligible_day, order.commission_fen) == (None, hub.today, 400)
    hub.next_run()
    assert hub.balance("ldr-a") == (400, 0)


def test_a_rerun_pays_nothing_and_an_earlier_open_day_is_settled_first(hub):
    hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), leader="ldr-a")
    hub.complete("o1")
    day1 = hub.today
    hub.at_day(add_days(day1, 1))
    hub.pay("o2", "mbr_1", ("L1", "rice", 20_000))
    hub.complete("o2")
    hub.at_day(add_days(day1, 2), hour=2)
    # the run for day 1 never happened; the run for day 2 settles day 1 first
    assert hub.settle() == 1
    assert [row(s) for s in hub.statements("ldr-a")] == [
        (day1, 0, 500, 0, 0, 500),
        (add_days(day1, 1), 500, 1_000, 0, 0, 1_500),
    ]
    assert hub.settle() == 0
    assert hub.settle(day=day1) == 0
    assert hub.balance("ldr-a") == (1_500, 0)
    assert len(hub.store.events_of("commission.settled")) == 2
    assert hub.reconciles("ldr-a")


def test_a_refund_racing_the_run_is_a_reversal_once_the_run_closed_the_day():
    """The run closes the day before it reads it: a refund that lands between the run's reads
    and its write cannot void the entry any more; it is the next statement's reversal."""
    hub = Hub()
    hub.register("ldr-a", "mbr_leader_a")
    hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), leader="ldr-a")
    hub.complete("o1")
    hub.at_day(add_days(DAY0, 1), hour=2)
    raced = []

    def void_first(change):
        if change.days and change.days[0][0].status == "settled" and not raced:
            raced.append(True)  # the refund lands between the run's reads and its write
            hub.refund("o1", "r1", L1=10_000)

    hub.store.before_commit = void_first
    hub.settle()
    assert raced
    (statement,) = hub.statements("ldr-a")
    assert (statement.earned_fen, statement.reversed_fen) == (500, 0)
    assert hub.balance("ldr-a") == (0, 0)  # taken back at once
    hub.store.before_commit = None
    hub.next_run()
    assert row(hub.statements("ldr-a")[-1])[2:] == (0, 500, 0, 0)
    assert hub.reconciles("ldr-a")


def test_a_refund_planned_before_the_run_closed_the_day_plans_again():
    """A void planned while the day was open and committed after the run closed it fails its
    condition (the day's version) and becomes a reversal: the entry is paid once, in full."""
    hub = Hub()
    hub.register("ldr-a", "mbr_leader_a")
    hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), leader="ldr-a")
    hub.complete("o1")
    hub.at_day(add_days(DAY0, 1), hour=2)
    ran = []

    def run_first(change):
        if change.entries and not ran:
            ran.append(True)
            hub.store.before_commit = None
            hub.settle()

    hub.store.before_commit = run_first
    assert hub.refund("o1", "r1", L1=4_000).fen == -200
    assert ran
    (statement,) = hub.statements("ldr-a")
    assert statement.earned_fen == 500
    assert hub.balance("ldr-a") == (300, 0)
    hub.next_run()
    assert hub.statements("ldr-a")[-1].reversed_fen == 200
    assert hub.reconciles("ldr-a")


def test_a_star_leaders_busy_day_writes_no_item_per_order():
    """1,000 orders of one leader in a day: each order writes its own items; the shared ones
    (pending shards, the leader-day, the account) take a bounded share."""
    hub = Hub()
    hub.register("ldr-star", "mbr_leader")
    writes: Counter[tuple] = Counter()

    def count(change):
        for key in change.pending:
            writes[("pending", *key)] += 1
        for d, _ in change.days:
            writes[("day", d.leader_id, d.day)] += 1
        for a, _ in change.accounts:
            writes[("account", a.leader_id)] += 1
        for b, _ in change.bindings:
            writes[("binding", b.member_id)] += 1

    hub.store.before_commit = count
    for n in range(1_000):
        hub.pay(f"o{n}", f"mbr_{n % 300}", ("L1", "rice", 10_000), leader="ldr-star")
        hub.complete(f"o{n}")
    pending = [n for key, n in writes.items() if key[0] == "pending"]
    assert len(pending) == 8
    assert max(pending) < 1_000 / 4  # 8 shards share the day's orders
    assert writes[("day", "ldr-star", hub.today)] == 1  # created once; entries are own items
    assert writes[("account", "ldr-star")] == 0
    hub.next_run()
    assert hub.balance("ldr-star") == (500_000, 0)
    assert hub.statements("ldr-star")[0].orders == 1_000


def test_reconciliation_finds_a_statement_that_does_not_add_up(hub):
    hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), leader="ldr-a")
    hub.complete("o1")
    hub.next_run()
    assert hub.reconciles("ldr-a")
    key = ("ldr-a", hub.statements("ldr-a")[0].date)
    day = hub.store.leader_days[key]
    broken: Statement = replace(day.statement, earned_fen=501, closing_fen=501)
    hub.store.leader_days[key] = replace(day, statement=broken)
    result = reconcile_leader(hub.store, "ldr-a")
    assert not result.ok
    assert any("sum of its settled lines" in p for p in result.problems)
    assert any("available 500 != last closing 501" in p for p in result.problems)


def test_the_scheme_refuses_floats_and_takes_overrides_per_tier():
    with pytest.raises(ValueError, match="rates_bp"):
        CommissionScheme.model_validate_json('{"rates_bp": {"rookie": 5.0}}')
    with pytest.raises(ValueError, match="payout_cap_fen"):
        CommissionScheme.model_validate_json('{"payout_cap_fen": 20000.5}')
    scheme = CommissionScheme.model_validate_json(
        '{"category_rates_bp": {"oil": {"star": 1200}}, "payout_cap_fen": 5000}'
    )
    assert (scheme.rate_bp("star", "oil"), scheme.rate_bp("rookie", "oil")) == (1200, 500)
    assert scheme.payout_cap_fen == 5_000


def test_a_refund_of_a_line_the_order_does_not_have_applies_nothing(hub):
    hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), leader="ldr-a")
    assert hub.refund("o1", "r1", L9=100).status == "rejected"
    assert hub.refund("o1", "r1", L9=100).status == "duplicate"
    assert hub.balance("ldr-a") == (0, 500)
    hub.pay("o3", "mbr_2", ("L1", "rice", 10_000), leader="ldr-new")  # waits for its leader
    assert hub.refund("o3", "r1", L9=100).status == "recorded"  # judged when the order counts
    assert hub.register("ldr-new", "mbr_leader_new")[1] == 1  # the waiting order counts
    assert hub.store.order("o3").rejected == ("r1",)
    assert hub.balance("ldr-new") == (0, 500)


# -- issue 11: refunds before payments, refunds beyond a line, one refund from two channels -------
def test_a_refund_before_its_payment_naming_an_unknown_line_never_blocks_the_payment(hub):
    """An 800-yuan order: its refund came first and names a line the order lacks."""
    assert hub.refund("o2", "r1", L9=100).status == "recorded"
    paid = hub.pay("o2", "mbr_1", ("L1", "oil", 80_000), leader="ldr-a")
    assert (paid.status, paid.fen) == ("applied", 4_000)
    assert hub.store.binding("mbr_1").leader_id == "ldr-a"
    order = hub.store.order("o2")
    assert (order.rejected, order.net_paid_fen) == (("r1",), 80_000)
    hub.complete("o2")
    hub.next_run()
    assert hub.balance("ldr-a") == (4_000, 0)
    assert hub.reconciles("ldr-a")


def test_a_refund_before_its_payment_beyond_a_line_applies_nothing(hub):
    hub.refund("o1", "r1", L1=12_000)  # more than the line's 10,000
    hub.refund("o1", "r2", L1=6_000)
    hub.refund("o1", "r3", L1=6_000)  # fits alone, not after r2
    assert hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), leader="ldr-a").fen == 200
    order = hub.store.order("o1")
    assert (order.rejected, order.lines["L1"].refunded_fen) == (("r1", "r3"), 6_000)


def test_a_refund_above_what_is_left_of_a_line_applies_nothing(hub):
    hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), ("L2", "oil", 4_000), leader="ldr-a")
    hub.refund("o1", "r1", L1=6_000)
    assert hub.balance("ldr-a") == (0, 200 + 200)
    beyond = hub.refund("o1", "r2", L1=6_000, L2=1_000)  # L1 has 4,000 left
    assert (beyond.status, beyond.fen) == ("rejected", 0)
    assert hub.balance("ldr-a") == (0, 200 + 200)  # not even L2's part
    lines = hub.store.order("o1").lines
    assert (lines["L1"].refunded_fen, lines["L2"].refunded_fen) == (6_000, 0)
    assert hub.refund("o1", "r3", L1=4_000).status == "applied"  # exactly what is left
    assert hub.balance("ldr-a") == (0, 200)


def test_one_refund_reported_by_two_channels_is_reversed_once(hub):
    hub.pay("o1", "mbr_1", ("L1", "rice", 10_000), leader="ldr-a")
    hub.complete("o1")
    hub.next_run()
    assert hub.refund("o1", "tmall-rf-1", L1=6_000).fen == -300
    assert hub.refund("o1", "brand-rf-9", L1=6_000).status == "rejected"  # the same refund
    assert hub.balance("ldr-a") == (200, 0)
    hub.next_run()
    assert row(hub.statements("ldr-a")[-1])[1:] == (500, 0, 300, 0, 200)
    assert hub.reconciles("ldr-a")
