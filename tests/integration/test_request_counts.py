"""DynamoDB requests per event, counted on the handlers' own clients (botocore event hooks)."""

import os
from collections import Counter

import pytest

from omnihub.adapters.aws import client
from tests.conftest import load_event


@pytest.fixture
def meter(stack):
    calls = Counter()

    def count(event_name, **_):
        function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "?").removeprefix("devstack-")
        calls[(function, event_name.split(".")[-1])] += 1

    ddb = client("dynamodb")
    ddb.meta.events.register("before-call.dynamodb.*", count)
    yield calls
    ddb.meta.events.unregister("before-call.dynamodb.*", count)


def identified(event_id, *identities):
    event = load_event("channel/member-identified.json")
    event["event_id"] = event_id
    event["member"] = {"identities": [{"type": t, "value": v} for t, v in identities]}
    return event


WATCHED = ("WebhookFunction", "IdentityConsumerFunction", "PointsConsumerFunction")


def consume(stack, meter, event):
    """Requests of the webhook and the One ID and points consumers for one event."""
    stack.post_channel_event("tmall", event)
    stack.drain()
    counts = Counter()
    for (function, operation), n in meter.items():
        if function in WATCHED:
            counts[operation] += n
    meter.clear()
    return dict(counts)


def test_requests_per_identity_event(stack, meter):
    new = consume(stack, meter, identified("a", ("phone", "13800000001")))
    # webhook: one conditional PutItem; consumer: one BatchGetItem, one transaction
    assert new == {"PutItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}
    known = consume(stack, meter, identified("b", ("phone", "13800000001")))
    assert known == {"PutItem": 1, "BatchGetItem": 2}
    consume(stack, meter, identified("c", ("wechat_unionid", "u-1")))
    merge = consume(
        stack, meter, identified("d", ("phone", "13800000001"), ("wechat_unionid", "u-1"))
    )
    # + the points consumer on member.merged: GetItem of the absorbed member's account (it had
    # none) and one TransactWriteItems writing its pointer (issue 11: a late operation on the
    # absorbed id must follow it; no live-root lookup or order query when nothing moves)
    assert merge == {"PutItem": 1, "BatchGetItem": 2, "TransactWriteItems": 2, "GetItem": 1}


def order_event(kind, event_id, data, phone="13800000001"):
    event = load_event(f"channel/{kind}.json")
    event.update(
        event_id=event_id, data=data, member={"identities": [{"type": "phone", "value": phone}]}
    )
    return event


def test_requests_per_order_event(stack, meter):
    consume(stack, meter, identified("known", ("phone", "13800000001")))
    line = {"line_id": "L1", "sku": "RICE", "category": "rice", "qty": 1, "paid_fen": 10_000}
    paid = consume(
        stack,
        meter,
        order_event(
            "order-paid", "p1", {"order_id": "SO-9", "amount_fen": 10_000, "items": [line]}
        ),
    )
    # webhook PutItem; resolve 2 BatchGetItem; points GetItem order and account, 1 transaction
    assert paid == {"PutItem": 1, "BatchGetItem": 2, "GetItem": 2, "TransactWriteItems": 1}
    again = consume(
        stack,
        meter,
        order_event(
            "order-paid", "p2", {"order_id": "SO-9", "amount_fen": 10_000, "items": [line]}
        ),
    )
    assert again == {"PutItem": 1, "BatchGetItem": 2, "GetItem": 1}  # the order earned already
    done = consume(stack, meter, order_event("order-completed", "c1", {"order_id": "SO-9"}))
    assert done == {"PutItem": 1, "GetItem": 1, "TransactWriteItems": 1}
    refund = consume(
        stack,
        meter,
        order_event(
            "order-refunded",
            "r1",
            {
                "order_id": "SO-9",
                "refund_id": "RF",
                "lines": [{"line_id": "L1", "amount_fen": 100}],
            },
        ),
    )
    assert refund == {"PutItem": 1, "GetItem": 2, "TransactWriteItems": 1}


def per_function(stack, meter, event):
    """Requests per function (webhook and every consumer) for one event."""
    stack.post_channel_event("tmall", event)
    stack.drain()
    counts: dict[str, dict[str, int]] = {}
    for (function, operation), n in sorted(meter.items()):
        counts.setdefault(function, {})[operation] = n
    meter.clear()
    return counts


def at(event, event_id, occurred_at, order_id=None):
    event = {**event, "event_id": event_id, "occurred_at": occurred_at}
    if order_id:
        event["data"] = {**event["data"], "order_id": order_id}
    return event


def test_an_identity_event_with_nothing_new_writes_nothing(stack, meter):
    """Issue 17: the same identities and profile again, stated no later than what the member
    holds, cost the One ID consumer its reads and no write (docs/decisions.md D86)."""
    first = load_event("channel/member-identified.json")
    per_function(stack, meter, first)
    late = at(first, "tm-id-late", "2026-11-11T09:00:00+08:00")
    assert per_function(stack, meter, late) == {
        "WebhookFunction": {"PutItem": 1},
        "IdentityConsumerFunction": {"BatchGetItem": 2},
    }


def test_requests_per_order_paid_per_function(stack, meter):
    """order.paid with the buyer's identities and profile (the fixture): the points path writes
    the member only when the event states a profile value later than the one held (one
    transaction), and earns in one more; nothing else writes (docs/decisions.md D86)."""
    per_function(stack, meter, load_event("channel/member-identified.json"))
    paid = load_event("channel/order-paid.json")
    leaders = {"BatchGetItem": 4, "GetItem": 2}
    older = per_function(stack, meter, at(paid, "op-1", "2026-11-11T09:00:00+08:00", "SO-1"))
    assert older == {
        "WebhookFunction": {"PutItem": 1},
        "PointsConsumerFunction": {"BatchGetItem": 2, "GetItem": 2, "TransactWriteItems": 1},
        "LeadersConsumerFunction": leaders,
    }
    later = per_function(stack, meter, at(paid, "op-2", "2026-11-11T11:00:00+08:00", "SO-2"))
    assert later == {
        "WebhookFunction": {"PutItem": 1},
        "PointsConsumerFunction": {"BatchGetItem": 2, "GetItem": 2, "TransactWriteItems": 2},
        "LeadersConsumerFunction": leaders,
    }


def test_requests_per_feedback_event_per_function(stack, meter):
    """Issue 17: the fixture (a food-safety report with a SKU and a batch, from a known member)
    costs the feedback consumer at most 4 reads: resolving the member (2 BatchGetItem), the
    reporter's marks with the open markers (1), and after its one transaction the window's
    counts of the SKU, the batch and the batch's holds (1); no Query (docs/decisions.md D89)."""
    per_function(stack, meter, load_event("channel/member-identified.json"))
    warm = load_event("channel/feedback-received.json")
    warm = {**warm, "event_id": "fb-warm", "data": {**warm["data"], "feedback_id": "FB-warm"}}
    per_function(stack, meter, warm)  # an instance's first feedback loads the knowledge base
    counted = per_function(stack, meter, load_event("channel/feedback-received.json"))
    feedback = counted["FeedbackConsumerFunction"]
    assert feedback == {"BatchGetItem": 4, "TransactWriteItems": 1}
    reads = ("BatchGetItem", "GetItem", "Query", "Scan", "TransactGetItems")
    assert sum(n for op, n in feedback.items() if op in reads) <= 4


def test_every_function_stays_within_its_request_budget_for_every_channel_event():
    """The bench's own per-event measurement (one copy of each events/channel/ example after a
    warm-up) against scripts/request_budgets.json, the goal column of docs/performance.md: a
    new request fails here, and so does a budget row no event reaches any more."""
    from scripts.bench import per_event
    from scripts.request_budgets import budgets, overruns

    measured = per_event(1)
    assert overruns(measured) == []
    rows = {(k, f) for k, fs in measured.items() for f in fs if f != "outside"}
    assert rows == {(k, f) for k, fs in budgets().items() for f in fs}
