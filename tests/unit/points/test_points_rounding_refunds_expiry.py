"""Issue 11, points side: rounding once per order, refunds that cannot apply, refunds after
expiry, the activity window, expiry counted from availability, one notice per expiring month."""

from datetime import UTC, datetime, timedelta

from omnihub.clock import SHANGHAI, business_date, parse_iso
from omnihub.points.rules import PointsRules
from tests.unit.points.points_support import T0, Points


# -- 11.5 rounding once per order ----------------------------------------------------------------
def test_points_round_once_per_order_not_per_line():
    p = Points()
    assert p.pay("o1", *[(f"L{n}", "rice", 990) for n in range(3)]).points == 29  # not 27
    assert p.pay("o2", *[(f"L{n}", "rice", 99) for n in range(10)]).points == 9  # not 0
    assert p.balances()["pending"] == 38


def test_a_refund_reverses_exactly_what_the_order_earned_recomputed_on_net_amounts():
    p = Points()
    p.pay("o1", *[(f"L{n}", "rice", 990) for n in range(3)])  # 29.70 yuan: 29
    assert p.refund("o1", "r1", L0=990).points == -10  # 19.80 yuan: 19
    assert p.refund("o1", "r2", L1=990, L2=990).points == -19
    assert p.balances() == {"available": 0, "pending": 0, "debt": 0}
    gold = Points(PointsRules())
    gold.store.accounts["mbr_a"] = gold.account.__class__(member_id="mbr_a", version=1, tier="gold")
    assert gold.pay("o1", ("L1", "rice", 2_970)).points == 34  # 29 whole yuan x 1.2
    assert gold.refund("o1", "r1", L1=2_970).points == -34


# -- 11.9 a refund held before its payment never blocks it ------------------------------------
def test_a_held_refund_naming_a_missing_line_or_exceeding_a_line_never_blocks_the_payment():
    p = Points()
    p.refund("o1", "r-missing", L9=100)
    p.refund("o1", "r-over", L1=20_000)
    p.refund("o1", "r-ok", L1=2_000)
    earned = p.pay("o1", ("L1", "rice", 10_000))
    assert (earned.status, earned.points) == ("applied", 80)
    assert p.balances()["pending"] == 80
    assert sorted(p.store.orders["o1"].rejected) == ["r-missing", "r-over"]
    assert {c.reason for c in earned.cases} == {"refund_exceeds_line"}
    assert len({c.case_id for c in earned.cases}) == 2
    assert p.pay("o1", ("L1", "rice", 10_000)).status == "duplicate"


# -- 11.10 a refund beyond what is left of a line applies nothing --------------------------------
def test_a_refund_above_what_is_left_of_a_line_applies_nothing_and_opens_a_case():
    p = Points()
    p.pay("o1", ("L1", "rice", 30_000))  # a 300-yuan line
    refused = p.refund("o1", "r1", L1=90_000)  # 900 yuan
    assert (refused.status, refused.points) == ("refused", 0)
    (case,) = refused.cases
    assert (case.reason, case.member_ids) == ("refund_exceeds_line", ("mbr_a",))
    assert p.balances()["pending"] == 300
    assert p.refund("o1", "r1", L1=90_000).cases == refused.cases  # a redelivery: the same case
    assert p.store.orders["o1"].lines["L1"].refunded_fen == 0


def test_one_refund_reported_by_two_channels_under_two_ids_is_reversed_once():
    p = Points()
    p.pay("o1", ("L1", "rice", 30_000), ("L2", "oil", 10_000))
    assert p.refund("o1", "tmall-RF1", L1=30_000).points == -300
    again = p.refund("o1", "pos-778", L1=30_000)
    assert (again.status, len(again.cases)) == ("refused", 1)
    assert p.balances()["pending"] == 100


# -- 11.11 a refund after expiry takes no other points -------------------------------------------
def test_a_refund_of_an_order_whose_points_expired_takes_no_other_points():
    p = Points()
    p.pay("o1", ("L1", "rice", 10_000))
    p.complete("o1")
    p.daily(days=7)  # o1's 100 available (expire at the end of November 2027)
    p.now = datetime(2027, 11, 20, 2, 0, tzinfo=UTC)
    p.pay("o2", ("L1", "rice", 5_000))
    p.complete("o2")
    p.daily(days=12)  # December 2027: o1's points expired, o2's 50 available
    assert p.balances() == {"available": 50, "pending": 0, "debt": 0}
    refund = p.refund("o1", "r1", L1=10_000)
    assert refund.points == 0
    assert p.balances() == {"available": 50, "pending": 0, "debt": 0}
    assert p.store.ledger("mbr_a", 1)[0].note == "points expired"


def test_a_refund_of_points_the_member_spent_before_expiry_still_becomes_debt():
    p = Points()
    p.pay("o1", ("L1", "rice", 10_000))
    p.complete("o1")
    p.daily(days=7)
    p.redeem("x1", 100)
    p.refund("o1", "r1", L1=10_000)
    assert p.balances() == {"available": 0, "pending": 0, "debt": 100}


# -- 11.12 expiry counts from availability --------------------------------------------------------
def test_expiry_is_counted_from_when_the_points_became_available_not_from_payment():
    p = Points()
    p.now = datetime(2026, 2, 3, 2, 0, tzinfo=UTC)
    p.pay("o1", ("L1", "rice", 10_000), at=datetime(2025, 1, 20, 2, 0, tzinfo=UTC))
    p.complete("o1")
    p.daily(days=8)  # available since 2026-02-10
    assert p.balances()["available"] == 100
    assert p.store.orders["o1"].expiry_month == "2027-02"
    p.now = datetime(2027, 2, 27, 2, 0, tzinfo=UTC)
    p.daily()
    assert p.balances()["available"] == 100
    (notice,) = p.store.events_of("notification.requested")
    assert notice.data["expires_at"] == "2027-02-28T16:00:00.000Z"  # 2027-03-01 in Shanghai
    p.now = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)
    p.daily()
    assert p.balances()["available"] == 0


# -- 11.13 one notice per expiring month, 30 days ahead --------------------------------------------
def test_each_expiring_month_gets_its_own_notice_30_days_ahead_once():
    p = Points()
    for month in (1, 2, 3):  # buckets 2028-01, 2028-02 (29 days), 2028-03
        p.now = datetime(2027, month, 15, 2, 0, tzinfo=UTC)
        p.activity(f"a{month}", "survey")
    p.now = datetime(2027, 12, 20, 2, 0, tzinfo=UTC)  # every day at 10:00 Shanghai
    sent = {}
    while p.now < datetime(2028, 4, 2, tzinfo=UTC):
        p.daily(days=1)
        for notice in p.store.events_of("notification.requested"):
            sent.setdefault(notice.event_id, (notice, business_date(p.now)))
    ahead = sorted(
        (parse_iso(n.data["expires_at"]).astimezone(SHANGHAI).date() - day).days
        for n, day in sent.values()
    )
    assert ahead == [30, 30, 30]
    assert sorted(n.data["expires_at"][:10] for n, _ in sent.values()) == [
        "2028-01-31",
        "2028-02-29",
        "2028-03-31",
    ]


# -- 11.6 the activity window ------------------------------------------------------------------
def test_activity_back_dated_past_the_counters_window_awards_nothing_and_is_recorded():
    p = Points()
    long_ago = p.now - timedelta(days=35)  # a day the counter no longer keeps
    outcome = p.activity("old-1", "survey", at=long_ago)
    assert (outcome.status, outcome.points) == ("outside_window", 0)
    assert p.activity("old-2", "survey", at=long_ago).points == 0  # the cap cannot be bypassed
    assert p.balances()["available"] == 0
    (line, _) = p.store.ledger("mbr_a", 5)
    assert (line.note, line.available_delta) == ("outside_window: before the window", 0)
    assert p.activity("old-1", "survey", at=long_ago).status == "duplicate"
    # the oldest day the counter keeps still counts, capped
    edge = p.now - timedelta(days=30)
    assert [p.activity(f"e{n}", "survey", at=edge).points for n in range(2)] == [20, 10]


def test_activity_dated_in_the_future_awards_nothing():
    p = Points()
    assert p.activity("f1", "survey", at=p.now + timedelta(days=3)).status == "outside_window"
    assert p.activity("f2", "survey", at=p.now + timedelta(minutes=5)).points == 20  # clock skew
    assert p.balances()["available"] == 20
    assert set(p.account.activity) == {business_date(T0).isoformat()}
