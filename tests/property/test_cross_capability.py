"""Issue 11: one property across capabilities, and one example per defect it must find.

Property: for any history of identity, order (paid, completed, refunded), activity, feedback and
ticket events, delivered to each capability's queue in any order, interleaved and duplicated, with
merges and un-merges handled by each queue in any order, the end state (points, tiers, leader
bindings, tickets, feedback, leaders' statements and balances), read person by person, equals the
history applied once in time order. Un-merges are judged against the history without the glue
that the admin undid; a refund of an order whose points have expired is judged against the
history without that refund (it may take nothing but what is left of the order's points).

The harness (tests/property/cross_support.py) drives the real consumers' `handle` on in-memory
stores, routes by template.yaml's rules, and moves a virtual clock through the daily jobs.
"""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.property.cross_support import (
    T0,
    History,
    Hub,
    Identity,
    body,
    histories,
    queue_consumers,
    run,
)

WRONG_LINK = "wrong_link"
EXPIRED_REFUND = "expired_refund"


# -- the property ------------------------------------------------------------------------------
@settings(
    max_examples=300,
    deadline=None,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    history=histories(),
    delivery=st.integers(0, 2**32 - 1),  # seeds the order each queue is worked in
    duplicate_rate=st.sampled_from([0.0, 0.15, 0.4]),
)
def test_any_delivery_of_any_history_ends_as_the_history_applied_once_in_time_order(
    history: History, delivery: int, duplicate_rate: float
) -> None:
    for shape in sorted(history.notes.get("shapes", ())):
        event(shape)  # see --hypothesis-show-statistics: how often each shape was drawn
    _, expected = run(history.without(WRONG_LINK))  # an un-merge undoes the glue entirely
    hub, delivered = run(history, random.Random(delivery), duplicate_rate)

    assert hub.lost == [], history.describe()  # a message that failed until it was parked
    assert hub.orphans() == [], history.describe()
    problems = delivered.differences(expected)
    assert not problems, "\n".join([*problems, f"parked: {sorted(hub.parked)}", history.describe()])
    if history.tagged(EXPIRED_REFUND):
        _, baseline = run(history.without(EXPIRED_REFUND))
        assert _points(delivered.people) == _points(baseline.people), history.describe()


def _points(people: dict[str, Any]) -> dict[str, tuple[int, int, int] | None]:
    return {
        name: (p.available, p.pending, p.debt) if p is not None else None
        for name, p in people.items()
    }


# -- the defects, one example each ---------------------------------------------------------------
PHONE: Identity = ("phone", "13900000001")
UNIONID: Identity = ("wechat_unionid", "union-zhang")
OMID: Identity = ("tmall_omid", "omid-zhang")
CARD: Identity = ("store_card", "SC-100001")
VICTIM: Identity = ("phone", "13900000002")  # the daughter's phone, typed into Zhang's account
LEADER: Identity = ("phone", "13700000009")
COMPLAINT = "油桶漏油了，箱子里全是油"
PRAISE = "米很香，孩子爱吃，下次还买"
_ids = itertools.count(1)


def queue(consumer: str) -> str:
    (found,) = (q for q, fn in queue_consumers().items() if fn == consumer)
    return found


def on_day(hub: Hub, day: int) -> None:
    """10:00 Shanghai on day `day` of the story, the daily jobs of the days between done."""
    hub.drain()
    hub.advance(T0 + timedelta(days=day))


def send(
    hub: Hub,
    channel: str,
    event_type: str,
    identities: list[Identity],
    data: dict[str, Any] | None = None,
) -> None:
    event_id = f"ex-{next(_ids):05d}"
    hub.post(channel, body(event_id, event_type, hub.clock.now(), identities, data))


def paid(order_id: str, *lines: int, leader: str | None = None) -> dict[str, Any]:
    items = [
        {"line_id": f"L{n}", "sku": f"RICE-{n}", "category": "rice", "qty": 1, "paid_fen": fen}
        for n, fen in enumerate(lines, start=1)
    ]
    data: dict[str, Any] = {
        "order_id": order_id,
        "amount_fen": sum(lines),
        "items": items,
    }
    if leader:
        data["leader_id"] = leader
    return data


def refunded(order_id: str, refund_id: str, **lines: int) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "refund_id": refund_id,
        "lines": [{"line_id": k, "amount_fen": v} for k, v in lines.items()],
    }


def registered(hub: Hub, leader_id: str) -> None:
    data = {"leader_id": leader_id, "name": "王姐", "community": "阳光小区"}
    send(hub, "groupbuy", "leader.registered", [LEADER], data)


def test_merges_handled_out_of_order_move_every_point_to_the_live_survivor() -> None:
    """A absorbs B, then C absorbs A; the points queue handles C<-A first."""
    hub = Hub()
    with hub.installed():
        # given C (a store card, day 0), A (a phone: 150 points) and B (Tmall: 300 points)
        on_day(hub, 0)
        send(hub, "pos", "member.identified", [CARD])
        on_day(hub, 1)
        send(hub, "miniprogram", "order.paid", [PHONE], paid("SO1", 15_000))
        on_day(hub, 2)
        send(hub, "tmall", "order.paid", [OMID], paid("SO2", 30_000))
        on_day(hub, 3)
        # when B's Tmall id is linked to A's phone, then A's phone to C's card
        send(hub, "tmall", "member.identified", [OMID, PHONE])
        send(hub, "pos", "member.identified", [CARD, PHONE])
        hub.drain(hold=[queue("points_consumer")])
        assert hub.waiting(queue("points_consumer")) == ["member.merged", "member.merged"]
        hub.deliver_newest_first(queue("points_consumer"))  # C<-A first, then A<-B

    # then the one person has every point, on the live member
    assert hub.person(CARD) == hub.person(PHONE) == hub.person(OMID)
    assert hub.person(CARD).pending == 450
    assert hub.orphans() == []


def test_a_retried_redemption_after_a_merge_spends_once() -> None:
    """The same redemption request again, after its member was absorbed."""
    hub = Hub()
    with hub.installed():
        # given A (a phone, 20 points) and B (Tmall, 20 points, 15 of them redeemed)
        on_day(hub, 0)
        send(hub, "miniprogram", "member.identified", [PHONE, UNIONID])
        send(
            hub, "miniprogram", "points.activity", [PHONE], {"activity_id": "a1", "kind": "survey"}
        )
        on_day(hub, 1)
        send(hub, "tmall", "points.activity", [OMID], {"activity_id": "a2", "kind": "survey"})
        on_day(hub, 1)
        assert hub.redeem(OMID, "rd-1", 15) == 201
        # when B merges into A and the redemption request comes again (for B's id)
        on_day(hub, 2)
        send(hub, "tmall", "member.identified", [OMID, PHONE])
        on_day(hub, 2)
        again = hub.redeem(OMID, "rd-1", 15, retry=True)

    # then it answers as the first time and spends nothing more: 20 + 20 - 15
    assert again == 201
    assert hub.person(PHONE).available == 25


def test_unmerge_takes_back_the_orders_points_feedback_tickets_and_binding() -> None:
    """An admin splits the daughter's phone out of Zhang's member (un-merge)."""
    hub = Hub()
    with hub.installed():
        # given Zhang (phone, praise) and the daughter (her phone: a complaint, an order
        # through leader ldr-1 that binds her)
        on_day(hub, 0)
        registered(hub, "ldr-1")
        send(hub, "miniprogram", "member.identified", [PHONE, UNIONID])
        send(hub, "miniprogram", "feedback.received", [PHONE],
             {"feedback_id": "f1", "text": PRAISE, "kind": "review"})  # fmt: skip
        send(hub, "app", "feedback.received", [VICTIM],
             {"feedback_id": "f2", "text": COMPLAINT, "kind": "chat"})  # fmt: skip
        send(hub, "groupbuy", "order.paid", [VICTIM], paid("SO1", 20_000, leader="ldr-1"))
        # when her phone is glued to Zhang's, she orders again, and an admin splits her out
        on_day(hub, 1)
        send(hub, "app", "member.identified", [PHONE, VICTIM])
        on_day(hub, 1)
        assert hub.member_of(PHONE) == hub.member_of(VICTIM)
        send(hub, "groupbuy", "order.paid", [VICTIM], paid("SO2", 10_000, leader="ldr-1"))
        on_day(hub, 2)
        hub.unmerge(VICTIM)
        hub.drain()

    # then what came through her phone went with it; Zhang keeps only his own
    daughter, zhang = hub.person(VICTIM), hub.person(PHONE)
    assert hub.member_of(PHONE) != hub.member_of(VICTIM)
    assert (daughter.pending, daughter.leader, daughter.feedback, daughter.tickets) == (
        300,
        "ldr-1",
        1,
        1,
    )
    assert (zhang.pending, zhang.leader, zhang.feedback, zhang.tickets) == (0, None, 1, 0)


def test_a_refund_before_its_payment_never_blocks_the_payment() -> None:
    """Refunds reach the queues before their order's payment, one naming a line the order does
    not have (it waits, then applies, and never blocks the payment)."""
    hub = Hub()
    with hub.installed():
        on_day(hub, 0)
        registered(hub, "ldr-1")
        on_day(hub, 0)
        # given two refunds of SO1 delivered first: a wrong one (line L9) and a right one
        send(hub, "groupbuy", "order.refunded", [PHONE], refunded("SO1", "r-bad", L9=500))
        send(hub, "groupbuy", "order.refunded", [PHONE], refunded("SO1", "r-ok", L2=5_000))
        # when the payment arrives
        send(hub, "groupbuy", "order.paid", [PHONE], paid("SO1", 10_000, 5_000, leader="ldr-1"))
        hub.drain()

    # then the order earns on what is left (100 yuan): points, the binding and commission
    buyer = hub.person(PHONE)
    assert (buyer.pending, buyer.leader) == (100, "ldr-1")
    assert hub.leader_books("ldr-1")[1] == 500  # 5% of 100 yuan, pending
    assert [p for p in hub.parked if p[1] == "order.paid"] == []


def test_a_refund_of_an_order_whose_points_expired_takes_no_other_points() -> None:
    """SO1's 100 points expired; refunding SO1 then must leave SO2's 50 alone."""
    hub = Hub()
    with hub.installed():
        # given SO1 (100 points, available from day 7, expired since 2027-04-01)
        on_day(hub, 0)
        send(hub, "miniprogram", "order.paid", [PHONE], paid("SO1", 10_000))
        send(hub, "miniprogram", "order.completed", [PHONE], {"order_id": "SO1"})
        # and SO2 (50 points, available since 2027-02-22)
        on_day(hub, 350)
        send(hub, "miniprogram", "order.paid", [PHONE], paid("SO2", 5_000))
        send(hub, "miniprogram", "order.completed", [PHONE], {"order_id": "SO2"})
        on_day(hub, 410)
        assert hub.person(PHONE).available == 50
        # when SO1 is refunded in full
        send(hub, "miniprogram", "order.refunded", [PHONE], refunded("SO1", "r1", L1=10_000))
        hub.drain()

    # then nothing is left of SO1's points to take back: SO2's stay, and no debt
    buyer = hub.person(PHONE)
    assert (buyer.available, buyer.pending, buyer.debt) == (50, 0, 0)


def test_a_ticket_for_a_member_merged_meanwhile_opens_on_the_survivor() -> None:
    """The tickets queue handles the merge before the ticket request of the absorbed member
    (a ticket for an absorbed id is opened on its live survivor)."""
    hub = Hub()
    with hub.installed():
        # given A (a phone) and B (a Tmall id)
        on_day(hub, 0)
        send(hub, "miniprogram", "member.identified", [PHONE, UNIONID])
        on_day(hub, 1)
        send(hub, "tmall", "member.identified", [OMID])
        on_day(hub, 2)
        # when B complains and is merged into A, and the tickets queue sees the merge first
        send(hub, "tmall", "feedback.received", [OMID],
             {"feedback_id": "f1", "text": COMPLAINT, "kind": "review"})  # fmt: skip
        send(hub, "tmall", "member.identified", [OMID, PHONE])
        hub.drain(hold=[queue("tickets_consumer")])
        assert sorted(hub.waiting(queue("tickets_consumer"))) == [
            "member.merged",
            "ticket.requested",
        ]
        hub.deliver_newest_first(queue("tickets_consumer"))

    # then the ticket is the live member's
    assert hub.person(PHONE).tickets == 1
    assert hub.orphans() == []
