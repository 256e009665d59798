"""The points rules, one by one, on the in-memory store."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest

from omnihub.errors import Conflict
from omnihub.points import ledger, merges
from omnihub.points.rules import EarningRule, PointsRules
from tests.unit.points.points_support import RULES, T0, Points


def test_one_point_per_whole_yuan_is_pending_until_seven_days_after_completion():
    p = Points()
    # 160.30 yuan: rounded once per order (not 119 + 40)
    assert p.pay("o1", ("L1", "rice", 11_980), ("L2", "oil", 4_050)).points == 160
    assert p.balances() == {"available": 0, "pending": 160, "debt": 0}
    p.complete("o1")
    assert p.daily(days=6.9) == 0
    p.daily(days=0.2)
    assert p.balances() == {"available": 160, "pending": 0, "debt": 0}
    assert [e.kind for e in p.store.ledger("mbr_a", 10)] == ["mature", "earn"]


def test_an_order_reported_by_two_channels_earns_once():
    p = Points()
    p.pay("o1", ("L1", "rice", 10_000), channel="tmall")
    again = p.pay("o1", ("L1", "rice", 10_000), channel="jd")
    assert again.status == "duplicate"
    assert p.balances()["pending"] == 100
    assert len(p.store.events_of("points.changed")) == 1


def test_tier_multiplier_and_campaigns_are_frozen_at_payment():
    campaign = EarningRule(
        rule_id="oil-double",
        multiplier=Decimal(2),
        categories=("oil",),
        channels=("miniprogram",),
        starts_at=T0 - timedelta(days=1),
        ends_at=T0 + timedelta(days=1),
    )
    rules = PointsRules(earning_rules=(campaign,))
    p = Points(rules)
    p.store.accounts["mbr_a"] = p.account.__class__(member_id="mbr_a", version=1, tier="gold")
    result = p.pay("o1", ("L1", "oil", 10_050), ("L2", "rice", 10_050), channel="miniprogram")
    # 201 whole yuan (once per order) x the lines' multipliers weighted by amount (2.4, 1.2)
    assert result.points == int(201 * (Decimal("2.4") + Decimal("1.2")) / 2) == 361
    late = p.pay("o2", ("L1", "oil", 10_000), channel="miniprogram", at=T0 + timedelta(days=2))
    assert late.points == 120


def test_refunds_reverse_by_line_pending_first_then_available_then_debt():
    p = Points()
    p.pay("o1", ("L1", "rice", 20_000), ("L2", "oil", 10_000))
    p.refund("o1", "r1", L2=10_000)
    assert p.balances() == {"available": 0, "pending": 200, "debt": 0}
    p.complete("o1")
    p.daily(days=7)
    p.redeem("x1", 150)
    p.refund("o1", "r2", L1=20_000)  # 200 to take back, 50 available
    assert p.balances() == {"available": 0, "pending": 0, "debt": 150}
    p.pay("o2", ("L1", "rice", 30_000))
    p.complete("o2")
    p.daily(days=7)
    assert p.balances() == {"available": 150, "pending": 0, "debt": 0}  # 300 paid the 150 debt


def test_a_partial_line_refund_takes_back_what_the_rest_is_not_worth():
    p = Points()
    p.pay("o1", ("L1", "rice", 10_099))
    p.refund("o1", "r1", L1=150)  # 100.99 -> 99.49 yuan: 100 -> 99 points
    assert p.balances()["pending"] == 99
    p.refund("o1", "r1", L1=150)  # the same refund again
    assert p.balances()["pending"] == 99


def test_a_refund_or_completion_before_the_payment_is_kept_and_applied():
    p = Points()
    assert p.refund("o1", "r1", L2=5_000).status == "recorded"
    assert p.complete("o1").status == "recorded"
    p.pay("o1", ("L1", "rice", 10_000), ("L2", "oil", 5_000))
    assert p.balances()["pending"] == 100
    p.daily(days=7)
    assert p.balances() == {"available": 100, "pending": 0, "debt": 0}


def test_activity_points_are_capped_at_30_a_day():
    p = Points()
    awards = [
        p.activity("a1", "checkin").points,
        p.activity("a2", "survey").points,
        p.activity("a3", "review").points,
        p.activity("a1", "checkin").points,  # a replay
    ]
    assert awards == [5, 20, 5, 0]
    p.now = T0 + timedelta(days=1)
    assert p.activity("a4", "checkin").points == 5
    assert p.balances()["available"] == 35


def test_redemption_spends_oldest_first_refuses_when_short_and_answers_once():
    p = Points()
    p.activity("a1", "survey", at=T0)
    p.now = T0 + timedelta(days=40)
    p.activity("a2", "survey")
    first = p.redeem("x1", 25)
    assert p.account.buckets == {"2027-12": 15}  # the November bucket went first
    assert p.redeem("x1", 25) == first
    with pytest.raises(Conflict):
        p.redeem("x2", 16)
    assert p.balances()["available"] == 15


def test_ten_concurrent_redemptions_of_100_from_500_give_exactly_five():
    p = Points()
    p.store.accounts["mbr_a"] = p.account.__class__(
        member_id="mbr_a", version=1, buckets={"2027-11": 500}
    )
    outcomes = []

    def attempt(n):
        try:
            p.redeem(f"r{n}", 100)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("short")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok"] * 5 + ["short"] * 5
    assert p.balances()["available"] == 0


def test_points_expire_at_the_end_of_the_12th_month_with_a_notice_30_days_ahead():
    p = Points()
    p.activity("a1", "survey")  # November 2026: expires at the end of November 2027
    p.now = T0 + timedelta(days=340)  # late October 2027
    p.daily()
    assert p.store.events_of("notification.requested") == []
    p.now = T0 + timedelta(days=354)  # 2027-10-31 in Shanghai: 31 days ahead, not yet
    p.daily()
    assert p.store.events_of("notification.requested") == []
    p.now = T0 + timedelta(days=355)  # 2027-11-01 in Shanghai: 30 days ahead
    p.daily()
    (notice,) = p.store.events_of("notification.requested")
    assert notice.data["points"] == 20
    assert notice.data["expires_at"] == "2027-11-30T16:00:00.000Z"
    p.daily(days=1)
    assert len(p.store.events_of("notification.requested")) == 1
    assert p.balances()["available"] == 20
    p.now = T0 + timedelta(days=385)  # December 2027
    p.daily()
    assert p.balances()["available"] == 0
    assert p.store.ledger("mbr_a", 1)[0].kind == "expire"


def test_tiers_go_up_at_once_and_down_only_at_the_daily_review():
    p = Points()
    p.pay("o1", ("L1", "oil", 120_000))
    p.complete("o1")
    p.daily(days=7)
    assert p.account.tier == "gold"
    assert [e.data for e in p.store.events_of("tier.changed")] == [{"from": "silver", "to": "gold"}]
    p.refund("o1", "r1", L1=60_000)  # spend falls below the threshold
    assert p.account.tier == "gold"
    p.daily()
    assert p.account.tier == "silver"


def test_a_tier_falls_when_its_spend_leaves_the_12_month_window():
    p = Points()
    p.pay("o1", ("L1", "oil", 100_000))
    p.complete("o1")
    p.daily(days=7)
    assert p.account.tier == "gold"
    p.daily(days=300)
    assert p.account.tier == "gold"
    p.daily(days=80)  # December 2027: November 2026 has left the window
    assert p.account.tier == "silver"


def test_the_daily_job_costs_what_is_due_not_what_exists():
    p = Points()
    for n in range(50):
        p.member = f"mbr_{n}"
        p.activity(f"a{n}", "checkin")
    p.pay("o1", ("L1", "rice", 10_000))
    p.complete("o1")
    reads = p.store.reads
    assert p.daily(days=7) == 1  # one order matured; no account needed attention
    assert p.store.reads - reads < 10


def test_a_merge_moves_points_debt_and_spend_once():
    survivor, absorbed = Points(member="mbr_s"), Points(member="mbr_x")
    absorbed.store = survivor.store
    survivor.activity("a1", "survey")
    absorbed.pay("o1", ("L1", "rice", 50_000))
    absorbed.activity("a2", "checkin")
    for _ in range(2):
        merges.absorb(survivor.store, "mbr_x", "mbr_s", "merge:evt", RULES, T0)
    assert survivor.balances() == {"available": 25, "pending": 500, "debt": 0}
    assert absorbed.balances() == {"available": 0, "pending": 0, "debt": 0}
    assert survivor.store.accounts["mbr_x"].merged_into == "mbr_s"
    # the absorbed member's order matures onto the survivor's account
    ledger.complete_order(survivor.store, "o1", T0, RULES)
    ledger.mature_order(survivor.store, "o1", RULES, T0 + timedelta(days=7))
    assert survivor.balances() == {"available": 525, "pending": 0, "debt": 0}


def test_replayed_causes_change_nothing_and_publish_nothing():
    p = Points()
    p.pay("o1", ("L1", "rice", 10_000))
    p.activity("a1", "survey")
    events = dict(p.store.published)
    entries = dict(p.store.entries)
    for _ in range(3):
        p.pay("o1", ("L1", "rice", 10_000), channel="pdd")
        p.activity("a1", "survey")
        p.complete("o1")
        p.complete("o1")
    assert p.store.entries == entries
    assert set(p.store.published) == set(events)


def test_an_operation_that_reaches_an_absorbed_account_first_is_moved_by_the_merge():
    p = Points(member="mbr_x")
    p.pay("o1", ("L1", "rice", 10_000))
    p.complete("o1")
    p.daily(days=7)  # matures onto mbr_x before the merge reaches points
    merges.absorb(p.store, "mbr_x", "mbr_s", "merge:e", RULES, p.now)
    p.activity("a1", "survey")  # a late event for the absorbed id follows the pointer
    p.member = "mbr_s"
    assert p.balances() == {"available": 120, "pending": 0, "debt": 0}
