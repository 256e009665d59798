"""Event source mappings on the mini app: streams, SQS partial batches, bus relays, drain."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devstack.runtime import DrainTimeout
from devstack.stack import LocalStack
from tests.devstack.devstack_support import ACCOUNT, log_items


@pytest.fixture
def stack(mini_stack: LocalStack) -> LocalStack:
    """The module's stack, settled and with empty DLQs, so each test counts from zero."""
    mini_stack.drain()
    sqs = mini_stack.client("sqs")
    for logical_id in mini_stack.model.dead_letter_queues():
        url = mini_stack.queue_url(logical_id)
        while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            for message in got:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return mini_stack


def _put(stack: LocalStack, *items: dict[str, Any]) -> None:
    table = stack.session.resource("dynamodb").Table(stack.table_name("EventsTable"))
    for item in items:
        table.put_item(Item=item)


def _delta(stack: LocalStack, before: dict[str, int], function: str) -> int:
    return stack.invocations.get(function, 0) - before.get(function, 0)


def test_stream_partial_failure_retries_then_parks_the_record(stack: LocalStack) -> None:
    before = stack.invocations
    _put(stack, {"pk": "s1"}, {"pk": "s2", "fail": True}, {"pk": "s3"})
    report = stack.drain()
    assert {i["sk"] for i in log_items(stack, "stream")} >= {"s1", "s3"}
    assert "s2" not in {i["sk"] for i in log_items(stack, "stream")}
    # one delivery plus MaximumRetryAttempts (2) retries from the failed record
    assert _delta(stack, before, "StreamFunction") == 3
    assert report.dlq_depths["StreamDLQ"] == 1
    (parked,) = stack.dlq_messages("StreamDLQ")
    info = parked["body"]["DDBStreamBatchInfo"]
    assert parked["body"]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["streamArn"] == stack.model.tables["EventsTable"].stream_arn
    failed_seq = next(
        r["dynamodb"]["SequenceNumber"]
        for r in _stream_records(stack)
        if r["dynamodb"]["Keys"]["pk"]["S"] == "s2"
    )
    assert info["startSequenceNumber"] == failed_seq


def _stream_records(stack: LocalStack) -> list[dict[str, Any]]:
    from devstack.stack import streams_client

    client = streams_client(stack.session, "cn-north-1")
    arn = str(stack.model.tables["EventsTable"].stream_arn)
    shard = client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = client.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[dict[str, Any]] = client.get_records(ShardIterator=iterator, Limit=1000)[
        "Records"
    ]
    return records


def test_stream_filter_skips_modify_events(stack: LocalStack) -> None:
    _put(stack, {"pk": "f1"})
    stack.drain()
    before = stack.invocations
    _put(stack, {"pk": "f1", "changed": True})  # MODIFY: filtered out by eventName INSERT
    stack.drain()
    assert _delta(stack, before, "StreamFunction") == 0


def test_stream_crash_bisects_down_to_the_bad_record(stack: LocalStack) -> None:
    _put(stack, {"pk": "c1"}, {"pk": "c2", "crash": True}, {"pk": "c3"}, {"pk": "c4"})
    stack.drain()
    logged = {i["sk"] for i in log_items(stack, "stream")}
    assert {"c1", "c3", "c4"} <= logged
    assert "c2" not in logged
    (parked,) = stack.dlq_messages("StreamDLQ")
    assert parked["body"]["DDBStreamBatchInfo"]["batchSize"] == 1


def test_sqs_partial_batch_failure_parks_only_the_poison(stack: LocalStack) -> None:
    sqs = stack.client("sqs")
    url = stack.queue_url("ConsumerQueue")
    before = stack.invocations
    for n in range(1, 6):
        body = {"pk": f"m{n}", "poison": n == 3}
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    report = stack.drain()
    logged = {i["sk"] for i in log_items(stack, "consumer")}
    assert {"m1", "m2", "m4", "m5"} <= logged
    assert "m3" not in logged
    # first batch of 5 (one failure), then the poison alone until maxReceiveCount (2)
    assert _delta(stack, before, "ConsumerFunction") == 2
    assert report.dlq_depths == {"ConsumerDLQ": 1, "StreamDLQ": 0}
    (parked,) = stack.dlq_messages("ConsumerQueue")  # the consumer queue's DLQ
    assert parked["body"] == {"pk": "m3", "poison": True}
    assert stack.queue_depths()["ConsumerQueue"] == {"visible": 0, "in_flight": 0, "delayed": 0}
    assert len(stack.dlq_messages("ConsumerDLQ")) == 1  # peeking leaves messages in place


def test_webhook_to_stream_to_bus_to_queue_to_consumer(stack: LocalStack) -> None:
    status, _, _ = stack.http("POST", "/hooks/chain", body={"pk": "chain-1", "publish": True})
    assert status == 202
    report = stack.drain()
    assert report.invocations == {"StreamFunction": 1, "ConsumerFunction": 1}
    (item,) = [i for i in log_items(stack, "consumer") if i["sk"] == "chain-1"]
    assert item["account"] == ACCOUNT  # EventBridge's envelope, as AWS sends it
    assert item["kind"] == "consumer"  # its own helpers.py, not the scheduled function's


def test_rule_with_a_function_target_relays_events(stack: LocalStack) -> None:
    events = stack.client("events")
    before = stack.invocations
    for detail in ({"pk": "r1"}, {"pk": "r2", "explode": True}):
        events.put_events(
            Entries=[
                {
                    "Source": "tests",
                    "DetailType": "item.flagged",
                    "Detail": json.dumps(detail),
                    "EventBusName": "mini-dev",
                }
            ]
        )
    stack.drain()
    assert [i["sk"] for i in log_items(stack, "rule")] == ["r1"]
    assert _delta(stack, before, "RuleFunction") == 1 + 3  # r1 once; r2 tried three times


def test_drain_times_out_while_someone_holds_a_message(stack: LocalStack) -> None:
    sqs = stack.client("sqs")
    url = stack.queue_url("ConsumerQueue")
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"pk": "held"}))
    held = sqs.receive_message(QueueUrl=url, VisibilityTimeout=60)["Messages"][0]
    with pytest.raises(DrainTimeout) as timeout:
        stack.drain(timeout=0.3)
    assert timeout.value.report.complete is False
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=held["ReceiptHandle"], VisibilityTimeout=0
    )
    report = stack.drain()
    assert report.complete
    assert report.invocations == {"ConsumerFunction": 1}
