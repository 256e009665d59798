"""DynamoDB requests per event, counted on the handlers' own clients (botocore event hooks)."""

from collections import Counter

import pytest

from omnihub.adapters.aws import client
from tests.conftest import load_event


@pytest.fixture
def meter(stack):
    calls = Counter()

    def count(event_name, **_):
        calls[event_name.split(".")[-1]] += 1

    ddb = client("dynamodb")
    ddb.meta.events.register("before-call.dynamodb.*", count)
    yield calls
    ddb.meta.events.unregister("before-call.dynamodb.*", count)


def identified(event_id, *identities):
    event = load_event("channel/member-identified.json")
    event["event_id"] = event_id
    event["member"] = {"identities": [{"type": t, "value": v} for t, v in identities]}
    return event


def consume(stack, meter, event):
    stack.post_channel_event("tmall", event)
    stack.drain()
    counts = dict(meter)
    meter.clear()
    return counts


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
    assert merge == {"PutItem": 1, "BatchGetItem": 2, "TransactWriteItems": 1}
