"""SPEC 4.5 leader tiers, monthly: rookie under 30 days or under 5,000 yuan; growing 5,000 yuan
and repurchase over 40%; star over 20,000 yuan and NPS over 80; up and down."""

from datetime import timedelta

import pytest

from omnihub.leaders.days import ACTIVE_SHARDS, shard_of
from omnihub.leaders.tiers import MonthFigures, month_figures
from tests.unit.leaders.leaders_support import Hub

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
    # rates follow the tier from the review on; an order paid before keeps the old rate
    assert hub.pay("d1", "m0", ("L1", "rice", 10_000)).fen == 800
    late = hub.pay("d0", "m1", ("L1", "rice", 10_000), at=hub.now - timedelta(hours=1))
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
