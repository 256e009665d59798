"""Leaders through the real handlers when members merge, split and are erased, and when a refund
comes before its payment (issue 11): the webhook -> One ID -> the bus -> the leaders consumer."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from omnihub.adapters.dynamo import from_attributes
from tests.conftest import load_event

LEADER_PHONES = {"ldr-i1": "13900000101", "ldr-i2": "13900000102"}


def post(stack, event: dict[str, Any], channel: str = "groupbuy") -> None:
    status, _, body = stack.post_channel_event(channel, event)
    assert status == 202, body


def settle(stack) -> None:
    stack.drain()
    assert stack.dlq_messages("LeadersQueue") == []


def later(stack, minutes: int = 1) -> None:
    stack.runtime.clock.set(stack.now() + timedelta(minutes=minutes))


def identified(stack, event_id: str, *identities: tuple[str, str]) -> dict[str, Any]:
    event = load_event("channel/member-identified.json")
    event.update(event_id=event_id, occurred_at=stack.now().isoformat())
    event["member"] = {"identities": [{"type": t, "value": v} for t, v in identities]}
    return event


def paid(
    stack, event_id: str, order_id: str, identity: tuple[str, str], fen: int, leader: str | None
) -> dict[str, Any]:
    """An order.paid of one oil line, paid now."""
    event = load_event("channel/order-paid.json")
    event.update(event_id=event_id, occurred_at=stack.now().isoformat())
    event["member"] = {"identities": [{"type": identity[0], "value": identity[1]}]}
    event["data"] = {
        "order_id": order_id,
        "amount_fen": fen,
        "items": [{"line_id": "L1", "sku": "OIL", "category": "oil", "qty": 1, "paid_fen": fen}],
    }
    if leader:
        event["data"]["leader_id"] = leader
    return event


def register_leaders(stack) -> None:
    for leader_id, phone in LEADER_PHONES.items():
        event = load_event("channel/leader-registered.json")
        event.update(event_id=f"lr-{leader_id}", occurred_at=stack.now().isoformat())
        event["member"] = {"identities": [{"type": "phone", "value": phone}]}
        event["data"] = {"leader_id": leader_id, "name": leader_id, "community": "阳光小区"}
        post(stack, event)
    settle(stack)


def member_of(stack, identity: tuple[str, str]) -> str:
    status, _, found = stack.http(
        "GET",
        "/v1/members/lookup",
        query={"type": identity[0], "value": identity[1]},
        headers=stack.auth("admin"),
    )
    assert status == 200, found
    return str(found["member_id"])


def leader_of(stack, member_id: str) -> str | None:
    status, _, file = stack.http("GET", f"/v1/members/{member_id}", headers=stack.auth("admin"))
    assert status == 200, file
    return file["leader_id"]


def bound(stack, leader_id: str) -> list[str]:
    _, _, body = stack.http("GET", f"/v1/leaders/{leader_id}/members", headers=stack.auth("admin"))
    return sorted(m["member_id"] for m in body["items"])


def pending(stack, leader_id: str) -> int:
    _, _, body = stack.http("GET", f"/v1/leaders/{leader_id}", headers=stack.auth("admin"))
    return int(body["pending_fen"])


def binding_item(stack, member_id: str) -> dict[str, Any] | None:
    item = stack.client("dynamodb").get_item(
        TableName=stack.table_name("LeadersTable"),
        Key={"pk": {"S": f"MEMBER#{member_id}"}, "sk": {"S": "BINDING"}},
    )
    return from_attributes(item["Item"]) if "Item" in item else None


@contextmanager
def leaders_consumer_held(stack) -> Iterator[None]:
    """Hold the leaders queue back while the rest of the stack drains (its events wait in it
    for `take_held`, so the test hands them to the consumer in an order of its own)."""
    runtime = stack.runtime
    queues, urls = runtime.queues, runtime.consumer_queue_urls
    url = stack.queue_url("LeadersQueue")
    runtime.queues = [q for q in queues if q.function != "LeadersConsumerFunction"]
    runtime.consumer_queue_urls = [u for u in urls if u != url]
    try:
        yield
    finally:
        runtime.queues, runtime.consumer_queue_urls = queues, urls


def take_held(stack) -> list[dict[str, Any]]:
    """The bus events waiting in the leaders queue, taken off it."""
    sqs, url = stack.client("sqs"), stack.queue_url("LeadersQueue")
    taken = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            taken.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return taken


def deliver(stack, *bodies: dict[str, Any]) -> None:
    """Hand bus events to the leaders consumer, one invocation each, in this order."""
    template = load_event("sqs/bus-event.json")["Records"][0]
    for n, body in enumerate(bodies):
        record = {**copy.deepcopy(template), "messageId": f"held-{n}", "body": json.dumps(body)}
        answer = stack.runtime.invoke("LeadersConsumerFunction", {"Records": [record]})
        assert answer == {"batchItemFailures": []}
    assert stack.dlq_messages("LeadersQueue") == []


def test_merges_handled_out_of_order_bind_the_live_survivor(stack):
    """A absorbs B, then C absorbs A; the leaders consumer hears of C<-A first."""
    register_leaders(stack)
    c, a, b = ("wechat_unionid", "u-c"), ("alipay_user_id", "ali-a"), ("phone", "13800000201")
    for n, identity in enumerate((c, a)):  # C is created first, then A
        later(stack)
        post(stack, identified(stack, f"oo-{n}", identity), channel="miniprogram")
        settle(stack)
    later(stack)
    post(stack, paid(stack, "oo-pb", "SO-OO-B", b, 10_000, "ldr-i1"))  # B: created and bound first
    settle(stack)
    later(stack)
    post(stack, paid(stack, "oo-pc", "SO-OO-C", c, 10_000, "ldr-i2"), channel="miniprogram")
    settle(stack)
    member_c = member_of(stack, c)
    assert leader_of(stack, member_c) == "ldr-i2"
    with leaders_consumer_held(stack):
        later(stack)
        post(stack, identified(stack, "oo-ab", a, b), channel="miniprogram")  # A absorbs B
        stack.drain()
        later(stack)
        post(stack, identified(stack, "oo-ca", c, a), channel="miniprogram")  # C absorbs A
        stack.drain()
        held = take_held(stack)
    merges = [e for e in held if e["detail-type"] == "member.merged"]
    assert len(merges) == 2
    merges.sort(key=lambda e: e["detail"]["data"]["survivor_member_id"] != member_c)
    deliver(stack, *merges)  # C<-A first, then A<-B
    assert leader_of(stack, member_c) == "ldr-i1"  # B's binding is the earliest
    assert bound(stack, "ldr-i1") == [member_c]
    assert bound(stack, "ldr-i2") == []
    deliver(stack, *reversed(merges))  # delivered again: nothing moves
    assert bound(stack, "ldr-i1") == [member_c]


def test_a_refund_before_its_payment_that_names_an_unknown_line_never_blocks_it(stack):
    register_leaders(stack)
    refund = load_event("channel/order-refunded.json")
    refund.update(event_id="rbp-r", occurred_at=stack.now().isoformat())
    refund["member"] = {"identities": [{"type": "phone", "value": "13800000202"}]}
    refund["data"] = {
        "order_id": "SO-RBP",
        "refund_id": "RF-RBP",
        "lines": [{"line_id": "L9", "amount_fen": 100}],
    }
    post(stack, refund)
    settle(stack)
    later(stack)
    post(
        stack, paid(stack, "rbp-p", "SO-RBP", ("phone", "13800000202"), 80_000, "ldr-i1")
    )  # 800 yuan
    settle(stack)
    assert pending(stack, "ldr-i1") == 4_000
    assert leader_of(stack, member_of(stack, ("phone", "13800000202"))) == "ldr-i1"


def test_an_unmerge_takes_the_binding_that_came_with_the_split_identity(stack):
    register_leaders(stack)
    a, b = ("alipay_user_id", "ali-u"), ("phone", "13800000203")
    post(stack, identified(stack, "um-a", a), channel="miniprogram")  # A is created first
    settle(stack)
    later(stack)
    post(stack, paid(stack, "um-pb", "SO-UM-B", b, 10_000, "ldr-i1"))  # B is bound first
    settle(stack)
    later(stack)
    post(stack, paid(stack, "um-pa", "SO-UM-A", a, 10_000, "ldr-i2"), channel="miniprogram")
    settle(stack)
    later(stack)
    post(stack, identified(stack, "um-ab", a, b), channel="miniprogram")  # A absorbs B
    settle(stack)
    root = member_of(stack, a)
    assert leader_of(stack, root) == "ldr-i1"
    assert binding_item(stack, root)["via"].startswith("phone|")
    status, _, split = stack.http(
        "POST",
        f"/v1/members/{root}/unmerge",
        body={"identity": {"type": b[0], "value": b[1]}},
        headers=stack.auth("admin"),
    )
    assert status == 200, split
    settle(stack)
    new_member = split["new_member_id"]
    assert leader_of(stack, new_member) == "ldr-i1"
    assert leader_of(stack, root) == "ldr-i2"
    assert bound(stack, "ldr-i1") == [new_member]
    before = pending(stack, "ldr-i1")
    later(stack)
    post(stack, paid(stack, "um-pb2", "SO-UM-B2", b, 10_000, None))  # no link: the binding decides
    settle(stack)
    assert pending(stack, "ldr-i1") == before + 500


def test_erasure_clears_the_lineage_of_the_members_binding(stack):
    register_leaders(stack)
    phone = ("phone", "13800000204")
    post(stack, paid(stack, "er-p", "SO-ER", phone, 10_000, "ldr-i1"))
    settle(stack)
    member = member_of(stack, phone)
    assert binding_item(stack, member)["via"].startswith("phone|")
    status, _, _ = stack.http("DELETE", f"/v1/members/{member}", headers=stack.auth("admin"))
    assert status == 200
    settle(stack)
    kept = binding_item(stack, member)
    assert (kept["leader_id"], "via" in kept) == ("ldr-i1", False)


def test_an_unmerge_that_takes_the_roots_only_binding_leaves_the_root_unbound(stack):
    register_leaders(stack)
    a, b = ("alipay_user_id", "ali-v"), ("phone", "13800000205")
    post(stack, identified(stack, "uv-a", a), channel="miniprogram")
    settle(stack)
    later(stack)
    post(stack, paid(stack, "uv-pb", "SO-UV-B", b, 10_000, "ldr-i1"))
    settle(stack)
    later(stack)
    post(stack, identified(stack, "uv-ab", a, b), channel="miniprogram")  # A absorbs B
    settle(stack)
    root = member_of(stack, a)
    assert leader_of(stack, root) == "ldr-i1"
    status, _, split = stack.http(
        "POST",
        f"/v1/members/{root}/unmerge",
        body={"identity": {"type": b[0], "value": b[1]}},
        headers=stack.auth("admin"),
    )
    assert status == 200, split
    settle(stack)
    assert (leader_of(stack, root), binding_item(stack, root)) == (None, None)
    assert bound(stack, "ldr-i1") == [split["new_member_id"]]
