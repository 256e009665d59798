"""Faults in the middle of the work: each is retried or parked, nothing lost, nothing twice."""

from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from omnihub import wiring
from omnihub.adapters.aws import client
from tests.conftest import load_event


def paid(event_id, order_id, phone, fen=10_000):
    event = load_event("channel/order-paid.json")
    event["event_id"] = event_id
    event["member"] = {"identities": [{"type": "phone", "value": phone}]}
    event["data"] = {
        "order_id": order_id,
        "amount_fen": fen,
        "items": [{"line_id": "L1", "sku": "RICE", "category": "rice", "qty": 1, "paid_fen": fen}],
    }
    return event


def points(stack, phone):
    found = stack.http(
        "GET",
        "/v1/members/lookup",
        query={"type": "phone", "value": phone},
        headers=stack.auth("agent"),
    )[2]
    return stack.http(
        "GET", f"/v1/members/{found['member_id']}/points", headers=stack.auth("agent")
    )[2]


def member_rows(stack):
    items = stack.client("dynamodb").scan(TableName=stack.table_name("MembersTable"))["Items"]
    return [i for i in items if i["sk"]["S"] == "MEMBER"]


def test_the_bus_refusing_entries_delays_them_and_loses_none(stack, monkeypatch):
    real = wiring.publisher
    refusals = {"left": 3}

    class Refusing:
        def publish(self, entries):
            if refusals["left"] > 0:
                refusals["left"] -= 1
                return [False] * len(entries)  # EventBridge answered FailedEntryCount
            return real().publish(entries)

    monkeypatch.setattr(wiring, "publisher", lambda: Refusing())
    for n in range(3):
        stack.post_channel_event("tmall", paid(f"bus-{n}", f"SO-B{n}", f"1380000010{n}"))
    stack.drain()
    assert refusals["left"] == 0
    assert len(member_rows(stack)) == 3
    assert all(points(stack, f"1380000010{n}")["pending"] == 100 for n in range(3))


def test_a_forwarder_crash_after_publishing_duplicates_on_the_bus_and_counts_once(
    stack, monkeypatch
):
    real = wiring.publisher
    crashes = {"left": 2}

    class PublishesThenDies:
        def publish(self, entries):
            published = real().publish(entries)
            if crashes["left"] > 0:
                crashes["left"] -= 1
                raise TimeoutError("the function died after PutEvents")
            return published

    monkeypatch.setattr(wiring, "publisher", lambda: PublishesThenDies())
    stack.post_channel_event("jd", paid("dup-1", "SO-D1", "13800000201", fen=25_000))
    stack.drain()
    assert crashes["left"] == 0
    balances = points(stack, "13800000201")
    assert (balances["pending"], len(balances["ledger"])) == (250, 1)
    assert len(member_rows(stack)) == 1


@pytest.mark.parametrize("code", ["ThrottlingException", "InternalServerError"])
def test_a_dynamodb_fault_on_one_record_of_a_batch_retries_it_alone_and_counts_it_once(
    stack, monkeypatch, code
):
    real = wiring.points_store
    throttled = {"left": 2}

    class ThrottledOnce:
        def __init__(self, inner):
            self._inner = inner

        def commit(self, change):
            if throttled["left"] and any(o.order_id == "SO-T1" for o, _ in change.orders):
                throttled["left"] -= 1
                raise ClientError(
                    {"Error": {"Code": "ThrottlingException", "Message": "slow"}},
                    "TransactWriteItems",
                )
            return self._inner.commit(change)

        def __getattr__(self, name):
            return getattr(self._inner, name)

    monkeypatch.setattr(wiring, "points_store", lambda: ThrottledOnce(real()))
    for n in range(3):
        stack.post_channel_event("tmall", paid(f"thr-{n}", f"SO-T{n}", f"1380000030{n}"))
    stack.drain()
    assert throttled["left"] == 0
    assert [points(stack, f"1380000030{n}")["pending"] for n in range(3)] == [100, 100, 100]
    assert stack.dlq_messages("PointsQueue") == []


def test_a_daily_worker_that_dies_half_way_is_rerun_and_matures_each_order_once(stack, monkeypatch):
    for n in range(6):
        stack.post_channel_event("tmall", paid(f"mat-{n}", f"SO-M{n}", "13800000401"))
        done = load_event("channel/order-completed.json")
        done.update(
            event_id=f"mat-c{n}",
            member={"identities": [{"type": "phone", "value": "13800000401"}]},
            data={"order_id": f"SO-M{n}"},
        )
        stack.post_channel_event("tmall", done)
    stack.drain()
    real = wiring.points_store
    commits = {"n": 0}

    class DiesAfterTwo:
        def __init__(self, inner):
            self._inner = inner

        def commit(self, change):
            self._inner.commit(change)
            commits["n"] += 1
            if commits["n"] == 2:
                raise RuntimeError("the worker died between two orders")

        def __getattr__(self, name):
            return getattr(self._inner, name)

    monkeypatch.setattr(wiring, "points_store", lambda: DiesAfterTwo(real()))
    stack.runtime.clock.set(stack.now() + timedelta(days=8))
    stack.fire_schedule("points-daily")
    assert commits["n"] > 2  # it died once and the rerun went on
    balances = points(stack, "13800000401")
    assert (balances["available"], balances["pending"]) == (600, 0)
    assert sorted(e["kind"] for e in balances["ledger"]).count("mature") == 6
    assert stack.dlq_messages("PointsWorkQueue") == []


def test_a_queue_refusing_the_daily_fan_out_fails_the_run_and_the_retry_does_it_once(
    stack, monkeypatch
):
    stack.post_channel_event("tmall", paid("q-1", "SO-Q1", "13800000501"))
    done = load_event("channel/order-completed.json")
    done.update(
        event_id="q-c1",
        member={"identities": [{"type": "phone", "value": "13800000501"}]},
        data={"order_id": "SO-Q1"},
    )
    stack.post_channel_event("tmall", done)
    stack.drain()
    sqs = client("sqs")
    real_send = sqs.send_message_batch
    refusals = {"left": 1}

    def refusing(**kwargs):
        if refusals["left"]:
            refusals["left"] -= 1
            return {
                "Successful": [],
                "Failed": [
                    {"Id": e["Id"], "SenderFault": False, "Code": "InternalError"}
                    for e in kwargs["Entries"]
                ],
            }
        return real_send(**kwargs)

    monkeypatch.setattr(sqs, "send_message_batch", refusing)
    stack.runtime.clock.set(stack.now() + timedelta(days=8))
    first = stack.fire_schedule("points-daily")
    assert first["error"]  # the run failed loudly: EventBridge retries a failed invocation
    assert points(stack, "13800000501")["available"] == 0
    stack.fire_schedule("points-daily")
    stack.fire_schedule("points-daily")  # a spare retry changes nothing more
    balances = points(stack, "13800000501")
    assert (balances["available"], balances["pending"]) == (100, 0)
