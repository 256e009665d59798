"""Leader binding rules on the in-memory store: first link binds, any channel counts, one
leader per member, no self-binding, admin rebinding, merges keep the earliest binding."""

from datetime import timedelta

import pytest

from omnihub.errors import Conflict, NotFound
from tests.unit.leaders.leaders_support import Hub, via

RICE = ("L1", "rice", 10_000)


@pytest.fixture
def hub():
    h = Hub()
    h.register("ldr-a", "mbr_leader_a")
    h.register("ldr-b", "mbr_leader_b")
    return h


def test_the_first_order_through_a_link_binds_and_later_orders_count_in_any_channel(hub):
    first = hub.pay("o1", "mbr_1", RICE, leader="ldr-a", channel="groupbuy")
    assert (first.status, first.leader_id, first.fen) == ("applied", "ldr-a", 500)
    assert hub.store.binding("mbr_1").leader_id == "ldr-a"
    hub.now += timedelta(hours=1)
    later = hub.pay("o2", "mbr_1", RICE, channel="tmall")  # no link, another channel
    assert (later.status, later.leader_id) == ("applied", "ldr-a")
    assert hub.balance("ldr-a") == (0, 1_000)
    assert [e.data["by"] for e in hub.store.events_of("leader.member_bound")] == ["order"]


def test_another_leaders_link_does_not_rebind(hub):
    hub.pay("o1", "mbr_1", RICE, leader="ldr-a")
    hub.now += timedelta(hours=1)
    second = hub.pay("o2", "mbr_1", RICE, leader="ldr-b")
    assert second.leader_id == "ldr-a"
    assert hub.store.binding("mbr_1").leader_id == "ldr-a"
    assert hub.balance("ldr-b") == (0, 0)


def test_no_self_binding(hub):
    own = hub.pay("o1", "mbr_leader_a", RICE, leader="ldr-a")
    assert own.status == "self_binding"
    assert hub.store.binding("mbr_leader_a") is None
    assert hub.store.order("o1") is None  # nothing written
    assert hub.balance("ldr-a") == (0, 0)
    # ...also when the leader's member has merged into the buyer since registering
    hub.merge_members("mbr_leader_b", "mbr_9")
    assert hub.pay("o2", "mbr_9", RICE, leader="ldr-b").status == "self_binding"


def test_orders_of_unbound_members_without_a_link_count_for_nobody(hub):
    assert hub.pay("o1", "mbr_1", RICE).status == "no_leader"
    assert hub.store.order("o1") is None
    # the same order reported by another channel with the link: it counts, once
    assert hub.pay("o1", "mbr_1", RICE, leader="ldr-a", channel="groupbuy").status == "applied"
    assert hub.pay("o1", "mbr_1", RICE, leader="ldr-a", channel="miniprogram").status == (
        "duplicate"
    )
    assert hub.balance("ldr-a") == (0, 500)


def test_an_order_paid_before_the_binding_does_not_count(hub):
    hub.pay("o2", "mbr_1", RICE, leader="ldr-a")
    early = hub.pay("o1", "mbr_1", RICE, at=hub.now - timedelta(hours=1))
    assert early.status == "no_leader"


def test_a_link_to_a_leader_not_registered_yet_counts_when_they_register(hub):
    waiting = hub.pay("o1", "mbr_1", RICE, leader="ldr-new")
    assert waiting.status == "awaiting_leader"
    hub.complete("o1")
    assert hub.store.awaiting_orders("ldr-new") == ["o1"]
    outcome, counted = hub.register("ldr-new", "mbr_leader_new")
    assert (outcome.status, counted) == ("applied", 1)
    assert hub.store.binding("mbr_1").leader_id == "ldr-new"
    assert hub.store.order("o1").eligible_day == hub.today  # booked at once: it was completed
    assert hub.balance("ldr-new") == (0, 500)
    assert hub.store.awaiting_orders("ldr-new") == []


def test_only_an_admin_rebinds_and_later_orders_follow(hub):
    hub.pay("o1", "mbr_1", RICE, leader="ldr-a")
    hub.now += timedelta(days=1)
    bound, previous = hub.rebind("mbr_1", "ldr-b")
    assert (bound.leader_id, previous) == ("ldr-b", "ldr-a")
    assert bound.first_bound_at < bound.bound_at  # seniority kept for merges
    assert hub.rebind("mbr_1", "ldr-b")[0] == bound  # again: no change
    hub.now += timedelta(minutes=1)
    assert hub.pay("o2", "mbr_1", RICE).leader_id == "ldr-b"
    assert hub.balance("ldr-a") == (0, 500)
    assert hub.balance("ldr-b") == (0, 500)
    with pytest.raises(Conflict):
        hub.rebind("mbr_leader_a", "ldr-a")
    with pytest.raises(NotFound):
        hub.rebind("mbr_1", "ldr-nobody")


def test_merges_keep_the_earliest_binding(hub):
    hub.pay("o1", "mbr_old", RICE, leader="ldr-a")
    hub.now += timedelta(days=2)
    hub.pay("o2", "mbr_new", RICE, leader="ldr-b")
    hub.now += timedelta(days=1)
    assert hub.merge("mbr_new", "mbr_old").leader_id == "ldr-a"  # the survivor's is earlier
    assert hub.store.binding("mbr_new").moved_to == "mbr_old"
    assert hub.store.binding("mbr_old").leader_id == "ldr-a"
    # the other way round: the absorbed member's earlier binding wins
    hub.pay("o3", "mbr_x", RICE, leader="ldr-a")
    hub.now += timedelta(days=1)
    hub.pay("o4", "mbr_y", RICE, leader="ldr-b")
    assert hub.merge("mbr_x", "mbr_y").leader_id == "ldr-a"
    assert hub.store.binding("mbr_y").leader_id == "ldr-a"
    assert hub.merge("mbr_x", "mbr_y").status == "duplicate"
    hub.now += timedelta(minutes=1)
    assert hub.pay("o5", "mbr_x", RICE).leader_id == "ldr-a"  # an absorbed id's orders too
    # an unbound survivor takes the absorbed member's binding
    hub.pay("o6", "mbr_p", RICE, leader="ldr-b")
    assert hub.merge("mbr_p", "mbr_q").leader_id == "ldr-b"
    assert hub.store.binding("mbr_q").by == "merge:mbr_p"
    assert [b.member_id for b in hub.store.bound_members("ldr-b", 10)] == ["mbr_q"]


# -- issue 11: merges out of order, races with merges, un-merge, erasure ---------------------------
def test_merges_handled_out_of_order_move_the_binding_to_the_live_survivor(hub):
    """A absorbs B, then C absorbs A; the leaders queue handles C<-A before A<-B."""
    hub.pay("o1", "mbr_b", RICE, leader="ldr-a")  # B: the earliest binding
    hub.now += timedelta(days=1)
    hub.pay("o2", "mbr_c", RICE, leader="ldr-b")  # C: bound later
    hub.merge_members("mbr_b", "mbr_a")
    hub.merge_members("mbr_a", "mbr_c")
    assert hub.follow("mbr_a", "mbr_c").status == "duplicate"  # A had no binding of its own
    assert hub.follow("mbr_b", "mbr_a").leader_id == "ldr-a"
    assert hub.store.binding("mbr_c").leader_id == "ldr-a"  # the earliest binding wins
    assert hub.store.binding("mbr_a") is None  # nothing landed on the absorbed A
    assert [b.member_id for b in hub.store.bound_members("ldr-a", 10)] == ["mbr_c"]
    assert hub.store.bound_members("ldr-b", 10) == []
    hub.now += timedelta(minutes=1)
    assert hub.pay("o3", "mbr_b", RICE).leader_id == "ldr-a"
    assert hub.follow("mbr_b", "mbr_a").status == "duplicate"  # redelivered: nothing moves


def test_a_merge_committed_while_a_payment_binds_moves_the_new_binding_after(hub):
    """The payment resolved mbr_1; mbr_1 merges into mbr_2 (and the leaders consumer handles
    that merge) before the payment's binding is written."""
    raced = []

    def merge_first(change):
        if change.bindings and not raced:
            raced.append(True)
            hub.merge("mbr_1", "mbr_2")  # sees no binding on mbr_1 yet

    hub.store.before_commit = merge_first
    assert hub.pay("o1", "mbr_1", RICE, leader="ldr-a").leader_id == "ldr-a"
    assert raced
    assert hub.store.binding("mbr_2").leader_id == "ldr-a"
    assert [b.member_id for b in hub.store.bound_members("ldr-a", 10)] == ["mbr_2"]


def test_a_merge_committed_while_a_binding_moves_moves_it_on(hub):
    hub.pay("o1", "mbr_b", RICE, leader="ldr-a")
    hub.merge_members("mbr_b", "mbr_a")
    raced = []

    def merge_on(change):
        if change.bindings and not raced:
            raced.append(True)
            hub.merge("mbr_a", "mbr_c")  # A has no binding yet: nothing to move

    hub.store.before_commit = merge_on
    hub.follow("mbr_b", "mbr_a")
    assert raced
    assert hub.store.binding("mbr_c").leader_id == "ldr-a"
    assert [b.member_id for b in hub.store.bound_members("ldr-a", 10)] == ["mbr_c"]


def test_a_rebind_racing_a_merge_ends_on_the_survivor(hub):
    raced = []

    def merge_first(change):
        if change.bindings and not raced:
            raced.append(True)
            hub.merge("mbr_1", "mbr_2")

    hub.store.before_commit = merge_first
    hub.rebind("mbr_1", "ldr-b")
    assert raced
    assert hub.store.binding("mbr_2").leader_id == "ldr-b"
    assert [b.member_id for b in hub.store.bound_members("ldr-b", 10)] == ["mbr_2"]


def test_an_order_resolved_before_a_merge_counts_for_the_survivors_leader(hub):
    """The consumer resolved the buyer to mbr_b; mbr_b has merged into mbr_a since (and its
    binding moved there). The order counts for the survivor's leader, not the link's."""
    hub.pay("o1", "mbr_a", RICE, leader="ldr-a")
    hub.now += timedelta(days=1)
    hub.pay("o2", "mbr_b", RICE, leader="ldr-b")
    hub.merge("mbr_b", "mbr_a")
    hub.now += timedelta(minutes=1)
    late = hub.pay("o3", "mbr_b", RICE, leader="ldr-b", stale=True)
    assert (late.status, late.leader_id) == ("applied", "ldr-a")
    assert hub.store.order("o3").member_id == "mbr_a"
    assert hub.store.binding("mbr_b").moved_to == "mbr_a"


def test_a_rating_from_a_member_absorbed_since_counts_for_the_survivors_leader(hub):
    hub.pay("o1", "mbr_a", RICE, leader="ldr-a")
    hub.merge("mbr_b", "mbr_a")
    rated = hub.rate("mbr_b", "1", 5, stale=True)
    assert (rated.status, rated.leader_id) == ("applied", "ldr-a")


def test_an_unmerge_takes_the_binding_that_came_with_the_identity(hub):
    hub.pay("o1", "mbr_b", RICE, leader="ldr-a")  # B's phone brought the earlier binding
    hub.now += timedelta(days=1)
    hub.pay("o2", "mbr_a", RICE, leader="ldr-b")
    hub.merge("mbr_b", "mbr_a")
    assert hub.store.binding("mbr_a").leader_id == "ldr-a"
    split = hub.unmerge("mbr_a", "mbr_b")
    assert hub.store.binding(split).leader_id == "ldr-a"
    assert hub.store.binding("mbr_a").leader_id == "ldr-b"  # the root keeps its own
    assert sorted(b.member_id for b in hub.store.bound_members("ldr-a", 10)) == [split]
    hub.now += timedelta(minutes=1)
    assert hub.pay("o3", split, RICE).leader_id == "ldr-a"  # later orders follow the binding
    assert hub.pay("o4", "mbr_a", RICE).leader_id == "ldr-b"
    # commission lines stay with the leader who earned them
    assert (hub.store.order("o1").leader_id, hub.store.order("o2").leader_id) == ("ldr-a", "ldr-b")
    assert hub.balance("ldr-a") == (0, 1_000)
    assert hub.follow_unmerge("mbr_a", split).status == "duplicate"  # once


def test_an_unmerge_of_an_identity_that_brought_no_binding_leaves_the_root_bound(hub):
    hub.pay("o1", "mbr_a", RICE, leader="ldr-a")
    hub.merge("mbr_b", "mbr_a")
    split = hub.unmerge("mbr_a", "mbr_b")
    assert hub.store.binding("mbr_a").leader_id == "ldr-a"
    assert hub.store.binding(split) is None


def test_an_unmerge_that_takes_the_roots_only_binding_leaves_it_unbound(hub):
    hub.pay("o1", "mbr_b", RICE, leader="ldr-a")
    hub.merge("mbr_b", "mbr_a")
    split = hub.unmerge("mbr_a", "mbr_b")
    assert hub.store.binding(split).leader_id == "ldr-a"
    assert hub.store.binding("mbr_a") is None
    hub.now += timedelta(minutes=1)
    assert hub.pay("o2", "mbr_a", RICE, leader="ldr-b").leader_id == "ldr-b"  # binds afresh


def _bindings(hub, *member_ids):
    """Each member's leader now (None: unbound, or its binding moved on)."""
    bound = {m: hub.store.binding(m) for m in member_ids}
    return {
        m: b.leader_id if b is not None and b.moved_to is None else None for m, b in bound.items()
    }


@pytest.mark.parametrize("order", ["merge_first", "unmerge_first", "twice"])
def test_merge_and_unmerge_handled_in_any_order_give_the_same_bindings(order):
    hub = Hub()
    hub.register("ldr-a", "mbr_leader_a")
    hub.register("ldr-b", "mbr_leader_b")
    hub.pay("o1", "mbr_b", RICE, leader="ldr-a")
    hub.now += timedelta(days=1)
    hub.pay("o2", "mbr_a", RICE, leader="ldr-b")
    hub.merge_members("mbr_b", "mbr_a")
    split = hub.unmerge_members("mbr_a", "mbr_b")
    if order == "unmerge_first":
        hub.follow_unmerge("mbr_a", split)
        hub.follow("mbr_b", "mbr_a")
    else:
        hub.follow("mbr_b", "mbr_a")
        hub.follow_unmerge("mbr_a", split)
    if order == "twice":
        hub.follow_unmerge("mbr_a", split)
        hub.follow("mbr_b", "mbr_a")
    assert _bindings(hub, "mbr_a", "mbr_b", split) == {
        "mbr_a": "ldr-b",
        "mbr_b": None,
        split: "ldr-a",
    }


def test_erasure_clears_the_lineage_so_a_later_holder_of_the_identity_pulls_nothing(hub):
    hub.pay("o1", "mbr_b", RICE, leader="ldr-a")
    hub.merge_members("mbr_b", "mbr_a")  # the leaders consumer will hear of it late
    hub.pay("o2", "mbr_a", RICE, leader="ldr-b")
    assert hub.store.binding("mbr_a").via == via("mbr_a")
    assert hub.erase("mbr_a").status == "applied"
    assert hub.store.binding("mbr_a").via is None
    hub.member("mbr_z")
    hub.members.claim_rows[("phone", "mbr_b")] = "mbr_z"  # the freed phone, claimed anew
    hub.follow("mbr_b", "mbr_a")  # the late merge: B's binding goes to the erased member...
    assert _bindings(hub, "mbr_a", "mbr_z") == {"mbr_a": "ldr-a", "mbr_z": None}  # (earlier)
    assert all(b.via is None for b in hub.store.binding("mbr_a").bonds())  # ...without lineage
