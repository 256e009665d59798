"""SPEC 4.5 binding rules on the in-memory store: first link binds, any channel counts, one
leader per member, no self-binding, admin rebinding, merges keep the earliest binding."""

from datetime import timedelta

import pytest

from omnihub.errors import Conflict, NotFound
from tests.unit.leaders.leaders_support import Hub

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
    hub.merged["mbr_leader_b"] = "mbr_9"
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
