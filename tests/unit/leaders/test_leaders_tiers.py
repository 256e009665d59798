"""Leader tiers, monthly: rookie under 30 days or under 5,000 yuan; growing 5,000 yuan
and repurchase over 40%; star over 20,000 yuan and NPS over 80; up and down."""

from datetime import datetime, timedelta

import pytest

from omnihub.clock import SHANGHAI
from omnihub.leaders.days import ACTIVE_SHARDS, shard_of
from omnihub.leaders.ratings import record_rating
from omnihub.leaders.tiers import MonthFigures, month_figures
from tests.unit.leaders.leaders_support import Hub, via

YUAN = 100


def settle_day(hub: Hub, day: str, orders: list[tuple[str, str, int, str | None]]) -> None:
    """Pay and complete (order id, member, fen, link) on `day`, then the T+1 run."""
    hub.at_day(day)
    for order_id, member, fen, link in orders:
        hub.pay(order_id, member, ("L1", "rice", fen), leader=link)
        hub.complete(order_id)
    hub.next_run()


@pytest.fixture
def hub():
    """ldr-a registered on 5 October; five members bound through October orders."""
    h = Hub()
    h.at_day("2026-10-05")
    h.register("ldr-a", "mbr_leader_a")
    settle_day(h, "2026-10-10", [(f"oct{n}", f"m{n}", 1_000 * YUAN, "ldr-a") for n in range(5)])
    return h


def test_a_leader_under_30_days_stays_rookie_whatever_they_sell(hub):
    hub.at_day("2026-11-01", hour=8)
    assert hub.review_tiers("2026-10") == 0  # 5,000 yuan in October, but 27 days old
    assert hub.store.leader("ldr-a").tier == "rookie"


def test_growing_needs_5000_yuan_and_repurchase_over_40_percent(hub):
    orders = [(f"n{n}", f"m{n}", 2_000 * YUAN, None) for n in range(3)]  # returning
    orders += [(f"x{n}", f"new{n}", 100 * YUAN, "ldr-a") for n in range(2)]  # first orders
    settle_day(hub, "2026-11-03", orders)
    figures = month_figures(hub.store, "ldr-a", "2026-11")
    assert figures == MonthFigures(sales_fen=620_000, orders=5, returning_orders=3)
    assert figures.repurchase_bp == 6_000
    hub.at_day("2026-12-01", hour=8)
    assert hub.review_tiers("2026-11") == 1
    leader = hub.store.leader("ldr-a")
    assert leader.tier == "growing"
    (event,) = hub.store.events_of("leader.tier_changed")
    assert (event.data["from"], event.data["to"], event.data["sales_fen"]) == (
        "rookie",
        "growing",
        620_000,
    )
    assert hub.review_tiers("2026-11") == 0  # a rerun changes nothing
    # the tier holds for December from 00:00 on the 1st: an order paid before the review and
    # reported after it is at the new rate; one paid on 30 November keeps the old one
    assert hub.pay("d1", "m0", ("L1", "rice", 10_000)).fen == 800
    early = hub.pay("d0", "m1", ("L1", "rice", 10_000), at=hub.now - timedelta(hours=7))
    assert early.fen == 800
    late = hub.pay("n9", "m2", ("L1", "rice", 10_000), at=hub.now - timedelta(hours=9))
    assert late.fen == 500


def test_low_repurchase_or_sales_stays_rookie(hub):
    settle_day(
        hub,
        "2026-11-03",
        [(f"x{n}", f"new{n}", 2_000 * YUAN, "ldr-a") for n in range(3)]  # nobody returning
        + [("n0", "m0", 1_000 * YUAN, None)],
    )
    hub.at_day("2026-12-01", hour=8)
    assert hub.review_tiers("2026-11") == 0
    assert hub.store.leader("ldr-a").tier == "rookie"


def test_star_needs_over_20000_yuan_and_nps_over_80_then_moves_down(hub):
    settle_day(hub, "2026-11-03", [(f"n{n}", f"m{n}", 5_000 * YUAN, None) for n in range(5)])
    hub.at_day("2026-11-20")
    for n, stars in enumerate([5, 5, 5, 5, 4]):
        hub.rate(f"m{n}", f"f{n}", stars)
    hub.rate("stranger", "f9", 1)  # not bound to ldr-a: not counted
    figures = month_figures(hub.store, "ldr-a", "2026-11")
    assert (figures.sales_fen, figures.ratings, figures.nps) == (2_500_000, 5, 80)
    hub.at_day("2026-12-01", hour=8)
    hub.review_tiers("2026-11")
    assert hub.store.leader("ldr-a").tier == "growing"  # NPS 80 is not over 80
    hub.at_day("2026-12-02")
    hub.rate("m4", "f10", 5)
    hub.rate("m3", "f11", 5)
    settle_day(hub, "2026-12-03", [(f"d{n}", f"m{n}", 5_000 * YUAN, None) for n in range(5)])
    hub.at_day("2027-01-01", hour=8)
    hub.review_tiers("2026-12")
    assert hub.store.leader("ldr-a").tier == "star"  # two 5-star ratings: NPS 100
    shard = shard_of("ldr-a", ACTIVE_SHARDS)
    assert hub.store.tiered_leaders(shard, None, 10)[0] == ["ldr-a"]  # reviewed even if idle
    hub.at_day("2027-02-01", hour=8)
    assert hub.review_tiers("2027-01") == 1  # nothing sold in January: down to rookie
    leader = hub.store.leader("ldr-a")
    assert leader.tier == "rookie"
    assert [s.tier for s in leader.tiers] == ["rookie", "growing", "star", "rookie"]
    assert hub.store.tiered_leaders(shard, None, 10)[0] == []


def test_refunds_after_settlement_come_off_the_months_sales(hub):
    settle_day(hub, "2026-11-03", [(f"n{n}", f"m{n}", 2_000 * YUAN, None) for n in range(3)])
    hub.at_day("2026-11-10")
    hub.refund("n0", "r1", L1=1_500 * YUAN)
    hub.next_run()
    assert month_figures(hub.store, "ldr-a", "2026-11").sales_fen == 450_000
    hub.at_day("2026-12-01", hour=8)
    hub.review_tiers("2026-11")
    assert hub.store.leader("ldr-a").tier == "rookie"


# -- issue 12: the tier decided for a month holds from 00:00 on its 1st, whenever the review runs -
def growing_in_november(hub: Hub) -> None:
    """November earns ldr-a `growing` for December (6,200 yuan, 60% returning)."""
    orders = [(f"n{n}", f"m{n}", 2_000 * YUAN, None) for n in range(3)]
    orders += [(f"x{n}", f"new{n}", 100 * YUAN, "ldr-a") for n in range(2)]
    settle_day(hub, "2026-11-03", orders)


def pending_and_available(hub: Hub) -> tuple[int, int]:
    available, pending = hub.balance("ldr-a")
    return pending, available


def test_a_redriven_review_prices_the_orders_of_the_1st_and_2nd_at_the_new_tier(hub):
    """The review of November runs on 3 December (redriven): December's orders paid before it
    were counted at the rookie rate; they earn the growing rate, whatever state they are in."""
    growing_in_november(hub)
    hub.at_day("2026-11-30", hour=23)
    assert hub.pay("nov30", "m3", ("L1", "rice", 10_000)).fen == 500  # November: rookie
    hub.at_day("2026-12-01", hour=10)
    assert hub.pay("d1", "m0", ("L1", "rice", 10_000)).fen == 500
    hub.complete("d1")
    hub.next_run()  # 02:05 on the 2nd: d1 settled at 500
    hub.at_day("2026-12-02", hour=10)
    assert hub.pay("d2", "m1", ("L1", "rice", 10_000)).fen == 500  # pending
    hub.next_run()  # 02:05 on the 3rd
    hub.at_day("2026-12-03", hour=9)
    hub.pay("d3", "m2", ("L1", "rice", 10_000))
    hub.complete("d3")  # in the open day of the 3rd
    before = pending_and_available(hub)
    hub.at_day("2026-12-03", hour=10)
    assert hub.review_tiers("2026-11") == 1
    rates = {o: hub.store.order(o).lines["L1"].rate_bp for o in ("nov30", "d1", "d2", "d3")}
    assert rates == {"nov30": 500, "d1": 800, "d2": 800, "d3": 800}
    leader = hub.store.leader("ldr-a")
    assert leader.tiers[-1].since == "2026-11-30T16:00:00.000Z"  # 00:00 on 1 December
    assert (leader.tier, leader.tier_month) == ("growing", "2026-12")
    # d2 pending +300, d3's open entry +300, d1 (settled at 500): +300 on the next statement
    assert pending_and_available(hub) == (before[0] + 900, before[1])
    assert hub.store.entry("ldr-a", "2026-12-03", "d3").lines == {"L1": 800}
    assert hub.store.price_marks("ldr-a") == []
    assert hub.review_tiers("2026-11") == 0  # a rerun prices nothing again
    assert pending_and_available(hub) == (before[0] + 900, before[1])
    assert hub.pay("d4", "m3", ("L1", "rice", 10_000)).fen == 800
    assert hub.store.price_marks("ldr-a") == []  # decided: nothing to mark any more
    hub.next_run()
    last = hub.statements("ldr-a")[-1]
    assert (last.date, last.earned_fen, last.orders, last.sales_fen) == (
        "2026-12-03",
        800 + 300,
        1,
        10_000,
    )
    assert hub.reconciles("ldr-a")


def test_a_review_that_lowers_the_tier_takes_back_what_was_settled_at_the_old_rate(hub):
    """Growing for December; December earns rookie for January; the review of December runs
    on 3 January: the 1 January order settled at 8% gives back 3%, the pending one shrinks."""
    growing_in_november(hub)
    hub.at_day("2026-12-01", hour=8)
    hub.review_tiers("2026-11")
    hub.at_day("2027-01-01", hour=10)
    assert hub.pay("j1", "m0", ("L1", "rice", 10_000)).fen == 800
    hub.complete("j1")
    hub.next_run()
    hub.at_day("2027-01-02", hour=10)
    assert hub.pay("j2", "m1", ("L1", "rice", 10_000)).fen == 800
    available, pending = hub.balance("ldr-a")
    hub.at_day("2027-01-03", hour=10)
    assert hub.review_tiers("2026-12") == 1
    assert hub.store.leader("ldr-a").tier == "rookie"
    assert hub.balance("ldr-a") == (available - 300, pending - 300)
    assert hub.store.order("j1").reversed_fen == 300
    hub.next_run()
    assert hub.statements("ldr-a")[-1].reversed_fen == 300
    assert hub.reconciles("ldr-a")


def test_a_payment_racing_the_review_is_priced_at_the_decided_tier(hub):
    """Paid at 07:59 on the 1st, planned before the 08:00 review commits and committed after:
    its mark is conditioned on the leader, so it plans again at the decided rate."""
    growing_in_november(hub)
    hub.at_day("2026-12-01", hour=8)
    reviewed = []

    def review_first(change):
        if change.orders and not reviewed:
            hub.store.before_commit = None
            reviewed.append(hub.review_tiers("2026-11"))

    hub.store.before_commit = review_first
    paid = hub.pay("d1", "m0", ("L1", "rice", 10_000), at=hub.now - timedelta(minutes=1))
    assert reviewed == [1]
    assert paid.fen == 800
    assert hub.store.price_marks("ldr-a") == []
    assert hub.balance("ldr-a")[1] == 800


# -- the rest of the kind: inputs of a month that arrive after its review ------------------------
def test_a_rating_of_a_reviewed_month_counts_for_the_next_month_once(hub):
    """A 5-star rating given on 30 November, processed after November's review, would be lost:
    it counts for December (the first month whose review has not started), once."""
    growing_in_november(hub)
    hub.at_day("2026-12-01", hour=8)
    hub.review_tiers("2026-11")
    given = datetime(2026, 11, 30, 23, 0, tzinfo=SHANGHAI)
    cause = "fb:late"
    assert record_rating(hub.store, hub.members, "m0", via("m0"), cause, 5, given).status == (
        "applied"
    )
    assert [r.month for r in hub.store.rating_rows.values() if r.cause == cause] == ["2026-12"]
    again = record_rating(hub.store, hub.members, "m0", via("m0"), cause, 5, given)
    assert again.status == "duplicate"
    assert month_figures(hub.store, "ldr-a", "2026-12").ratings == 1


def test_a_rating_planned_before_the_review_and_committed_after_plans_again(hub):
    growing_in_november(hub)
    hub.at_day("2026-12-01", hour=8)
    reviewed = []

    def review_first(change):
        if change.ratings and not reviewed:
            hub.store.before_commit = None
            reviewed.append(hub.review_tiers("2026-11"))

    hub.store.before_commit = review_first
    given = datetime(2026, 11, 30, 23, 0, tzinfo=SHANGHAI)
    record_rating(hub.store, hub.members, "m1", via("m1"), "fb:race", 5, given)
    assert reviewed == [1]
    assert [r.month for r in hub.store.rating_rows.values() if r.cause == "fb:race"] == ["2026-12"]


def test_a_review_settles_the_days_of_its_month_a_late_run_left_open_first(hub):
    """The run of 30 November has not happened when November is reviewed: its sales count."""
    orders = [(f"n{n}", f"m{n}", 2_000 * YUAN, None) for n in range(3)]
    orders += [(f"x{n}", f"new{n}", 100 * YUAN, "ldr-a") for n in range(2)]
    hub.at_day("2026-11-30")
    for order_id, member, fen, link in orders:
        hub.pay(order_id, member, ("L1", "rice", fen), leader=link)
        hub.complete(order_id)
    hub.at_day("2026-12-01", hour=8)  # the 02:00 run of the 30th failed
    assert hub.review_tiers("2026-11") == 1
    assert hub.store.leader("ldr-a").tier == "growing"
    assert hub.store.day("ldr-a", "2026-11-30").status == "settled"
    assert hub.settle("2026-11-30") == 0  # the late run finds it done
    assert hub.reconciles("ldr-a")
