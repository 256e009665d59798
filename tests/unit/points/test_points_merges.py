"""Points follow merges and un-merges: to the live survivor, once, in any order;
idempotency keys survive merges; un-merge takes back what came through the identity."""

from datetime import timedelta

import pytest

from omnihub.errors import Conflict
from omnihub.points import merges
from tests.unit.points.points_support import T0, Points

U = "wechat_unionid|key-u"  # the identity B brought, split out again by the un-merge
P = "phone|key-p"  # the survivor's own phone


def _earned(p, member, order_id, fen, via=None):
    """`member` earns an order of `fen` and it matures."""
    p.member = member
    p.pay(order_id, ("L1", "rice", fen), via=via)
    p.complete(order_id)
    p.daily(days=7)


# -- issue 11.1: merges applied out of order -------------------------------------------------------
def test_merges_applied_out_of_order_move_points_to_the_live_survivor():
    """A absorbs B, then C absorbs A; points handle C<-A first (A has no account yet)."""
    p = Points()
    p.person("mbr_c")
    p.person("mbr_a", merged_into="mbr_c")
    p.person("mbr_b", merged_into="mbr_a")
    _earned(p, "mbr_c", "oc", 15_000)
    _earned(p, "mbr_b", "ob", 30_000)
    p.absorb("mbr_a", "mbr_c", "merge:c-a")
    p.absorb("mbr_b", "mbr_a", "merge:a-b")
    assert p.balances_of("mbr_c") == {"available": 450, "pending": 0, "debt": 0}
    assert (
        p.balances_of("mbr_a")
        == p.balances_of("mbr_b")
        == {
            "available": 0,
            "pending": 0,
            "debt": 0,
        }
    )
    assert p.store.orders["ob"].member_id == "mbr_c"  # the order follows its points
    p.absorb("mbr_b", "mbr_a", "merge:a-b")  # a redelivery moves nothing twice
    assert p.balances_of("mbr_c")["available"] == 450


def test_an_absorbed_member_without_an_account_leaves_a_pointer_for_late_operations():
    p = Points()
    p.person("mbr_s")
    p.person("mbr_x", merged_into="mbr_s")
    p.absorb("mbr_x", "mbr_s")  # mbr_x never earned anything
    assert p.store.accounts["mbr_x"].merged_into == "mbr_s"
    p.member = "mbr_x"  # late events still resolved to the absorbed id
    p.activity("a1", "survey")
    p.pay("o1", ("L1", "rice", 10_000))
    p.refund("o1", "r1", L1=5_000)
    assert p.balances_of("mbr_s") == {"available": 20, "pending": 50, "debt": 0}
    assert p.balances_of("mbr_x") == {"available": 0, "pending": 0, "debt": 0}


def test_an_earn_racing_a_merge_onto_an_id_without_account_follows_the_pointer():
    """The earn read mbr_x's missing account, then the merge wrote its pointer: the earn's
    version check fails and its re-plan follows the pointer."""
    p = Points(member="mbr_x")
    p.person("mbr_s")
    p.person("mbr_x", merged_into="mbr_s")
    real_commit = p.store.commit
    raced = []

    def commit(change):
        if not raced and change.orders:
            raced.append(True)
            p.absorb("mbr_x", "mbr_s")
        return real_commit(change)

    p.store.commit = commit
    p.pay("o1", ("L1", "rice", 10_000))
    assert p.balances_of("mbr_s")["pending"] == 100
    assert p.store.orders["o1"].member_id == "mbr_s"


# -- issue 11.4: idempotency keys survive merges ---------------------------------------------------
def test_a_retried_redemption_after_a_merge_answers_the_first_and_spends_once():
    p = Points()
    p.person("mbr_s")
    p.person("mbr_x", merged_into="mbr_s")
    _earned(p, "mbr_x", "o1", 30_000)
    first = p.redeem("rd-1", 100)
    p.absorb("mbr_x", "mbr_s")
    p.member = "mbr_s"  # the retry names the survivor now
    assert p.redeem("rd-1", 100) == first
    assert p.balances_of("mbr_s")["available"] == 200


def test_a_redemption_id_used_by_another_member_is_a_conflict():
    p = Points()
    _earned(p, "mbr_a", "o1", 30_000)
    _earned(p, "mbr_b", "o2", 30_000)
    p.member = "mbr_a"
    p.redeem("rd-1", 100)
    p.member = "mbr_b"
    with pytest.raises(Conflict):
        p.redeem("rd-1", 100)
    assert p.balances_of("mbr_b")["available"] == 300


def test_an_activity_replayed_after_a_merge_awards_once_and_the_daily_cap_holds():
    p = Points()
    p.person("mbr_s")
    p.person("mbr_x", merged_into="mbr_s")
    p.member = "mbr_x"
    assert p.activity("a1", "survey").points == 20
    p.absorb("mbr_x", "mbr_s")
    for member in ("mbr_x", "mbr_s"):  # redelivered after the merge, under either id
        p.member = member
        assert p.activity("a1", "survey").points == 0
    assert p.balances_of("mbr_s")["available"] == 20
    # the day's count came along: 10 more today, then nothing
    assert [p.activity(f"s{n}", "review").points for n in range(3)] == [10, 0, 0]
    p.now += timedelta(days=1)
    assert p.activity("s9", "review").points == 10


def test_an_activity_id_another_member_used_still_awards_each_member_once():
    """Channels may reuse an activity id across members (`checkin-20261111`)."""
    p = Points()
    p.person("mbr_a")
    p.person("mbr_b")
    awards = []
    for member in ("mbr_a", "mbr_b", "mbr_a", "mbr_b"):
        p.member = member
        awards.append(p.activity("checkin-20261111", "checkin").points)
    assert awards == [5, 5, 0, 0]


# -- issue 11.8: un-merge ------------------------------------------------------------------------
def _merged_history(p):
    """B (unionid U) earned o1 before B merged into R; after it, o2 came through U and o3
    through R's phone; R checked in. The members table has the merge (R holds U now)."""
    p.person("mbr_r", holds=[P, U])
    p.person("mbr_b", merged_into="mbr_r")
    _earned(p, "mbr_b", "o1", 20_000, via=U)
    p.member = "mbr_r"
    p.pay("o2", ("L1", "oil", 5_000), via=U)
    _earned(p, "mbr_r", "o3", 10_000, via=P)
    p.activity("c1", "checkin")


def _split(p):
    """The admin splits U out: its claim names the new member."""
    p.person("mbr_n", holds=[U])


def test_an_unmerge_moves_the_orders_that_came_through_the_identity_with_points_and_spend():
    p = Points()
    _merged_history(p)
    p.absorb("mbr_b", "mbr_r")
    assert p.balances_of("mbr_r") == {"available": 305, "pending": 50, "debt": 0}
    assert p.store.orders["o1"].member_id == "mbr_r"
    _split(p)
    for _ in range(2):  # once, however often it is delivered
        merges.follow_unmerge(p.store, p.members, "mbr_r", "mbr_n", [U], p.rules, p.now)
    assert p.balances_of("mbr_n") == {"available": 200, "pending": 50, "debt": 0}
    assert p.balances_of("mbr_r") == {"available": 105, "pending": 0, "debt": 0}  # o3 + check-in
    assert {o: p.store.orders[o].member_id for o in ("o1", "o2", "o3")} == {
        "o1": "mbr_n",
        "o2": "mbr_n",
        "o3": "mbr_r",
    }
    assert sum(p.store.accounts["mbr_n"].spend.values()) == 20_000
    assert sum(p.store.accounts["mbr_r"].spend.values()) == 10_000
    p.complete("o2")
    p.daily(days=7)  # o2 matures where it lives now
    assert p.balances_of("mbr_n")["available"] == 250


def test_a_late_merge_after_the_unmerge_does_not_drag_the_orders_back():
    p = Points()
    _merged_history(p)
    _split(p)
    merges.follow_unmerge(p.store, p.members, "mbr_r", "mbr_n", [U], p.rules, p.now)
    p.absorb("mbr_b", "mbr_r")  # the merge reaches points only now
    p.absorb("mbr_b", "mbr_r")
    assert p.balances_of("mbr_n") == {"available": 200, "pending": 50, "debt": 0}
    assert p.balances_of("mbr_r") == {"available": 105, "pending": 0, "debt": 0}
    assert p.store.orders["o1"].member_id == "mbr_n"


def test_points_the_survivor_spent_become_its_debt_when_their_order_leaves():
    p = Points()
    _merged_history(p)
    p.absorb("mbr_b", "mbr_r")
    p.member = "mbr_r"
    p.redeem("rd-1", 300)  # o1's 200 among them
    _split(p)
    merges.follow_unmerge(p.store, p.members, "mbr_r", "mbr_n", [U], p.rules, p.now)
    assert p.balances_of("mbr_r") == {"available": 0, "pending": 0, "debt": 195}
    assert p.balances_of("mbr_n") == {"available": 200, "pending": 50, "debt": 0}


def test_an_earn_resolved_before_the_unmerge_committed_goes_to_the_new_member():
    p = Points()
    _merged_history(p)
    _split(p)
    merges.follow_unmerge(p.store, p.members, "mbr_r", "mbr_n", [U], p.rules, p.now)
    p.member = "mbr_r"  # resolved on the old root, written after the un-merge
    p.pay("o4", ("L1", "rice", 3_000), via=U)
    assert p.store.orders["o4"].member_id == "mbr_n"
    assert p.balances_of("mbr_n")["pending"] == 80


def test_erasure_makes_the_orders_forget_the_identity_that_brought_them():
    p = Points()
    _merged_history(p)
    p.absorb("mbr_b", "mbr_r")
    assert merges.forget_lineage(p.store, "mbr_r") == 3
    assert {o.via for o in p.store.orders.values()} == {None}
    # the freed identity claimed by someone else later pulls none of this history
    _split(p)
    merges.follow_unmerge(p.store, p.members, "mbr_r", "mbr_n", [U], p.rules, p.now)
    assert p.balances_of("mbr_n") == {"available": 0, "pending": 0, "debt": 0}


def test_a_merge_into_an_erased_member_leaves_its_orders_without_lineage():
    p = Points()
    p.person("mbr_r", erased=True)
    p.person("mbr_b", merged_into="mbr_r")
    p.person("mbr_other", holds=[U])  # U was freed by the erasure and claimed again
    _earned(p, "mbr_b", "o1", 10_000, via=U)
    p.absorb("mbr_b", "mbr_r")
    assert p.store.orders["o1"].member_id == "mbr_r"
    assert p.store.orders["o1"].via is None
    assert p.balances_of("mbr_other")["available"] == 0


def test_a_merge_moves_the_absorbed_members_orders_once_in_pages():
    p = Points()
    p.person("mbr_s")
    p.person("mbr_x", merged_into="mbr_s")
    p.member = "mbr_x"
    for n in range(merges.MOVE_PAGE + 5):
        p.pay(f"o{n}", ("L1", "rice", 100), at=T0 + timedelta(minutes=n))
    p.absorb("mbr_x", "mbr_s")
    assert {o.member_id for o in p.store.orders.values()} == {"mbr_s"}
    assert p.balances_of("mbr_s")["pending"] == merges.MOVE_PAGE + 5
    orders, cursor = p.store.orders_of("mbr_s", 10)
    assert [o.order_id for o in orders][:2] == [
        f"o{merges.MOVE_PAGE + 4}",
        f"o{merges.MOVE_PAGE + 3}",
    ]
    assert cursor is not None
