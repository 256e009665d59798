"""The SQS batch loop: a failed record is reported alone, a batch that failed whole is an error,
poison is parked, and an erased member's event is acknowledged, not retried into a DLQ."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools import Logger, Metrics

from omnihub.consumer import BatchFailed, Consumer
from omnihub.errors import Gone, InvalidInput


def _record(message_id: str, body: object) -> dict:
    return {"messageId": message_id, "receiptHandle": "r", "body": json.dumps(body)}


def _consumer(handled: list, sent: list) -> Consumer:
    class Sqs:
        def send_message(self, **kwargs):
            sent.append(kwargs)

    def handle(message: dict) -> None:
        if message.get("fail"):
            raise TimeoutError("throttled")
        if message.get("poison"):
            raise InvalidInput("breaks its contract", details=[{"field": "poison"}])
        if message.get("erased"):
            raise Gone("channel event tmall:e1 belonged to an erased member")
        handled.append(message["n"])

    return Consumer(
        handle,
        logger=Logger(service="test"),
        metrics=Metrics(namespace="Test", service="test"),
        sqs=lambda: Sqs(),
        dead_letter_queue_url="dlq",
        parse=json.loads,
        correlation=lambda m: None,
    )


def test_only_the_failed_records_are_reported_and_the_others_all_handled():
    handled: list = []
    sent: list = []
    answer = _consumer(handled, sent)(
        {
            "Records": [
                _record("a", {"n": 1}),
                _record("b", {"fail": True}),
                _record("c", {"n": 3}),
                _record("d", {"fail": True}),
            ]
        },
        None,
    )
    assert answer == {"batchItemFailures": [{"itemIdentifier": "b"}, {"itemIdentifier": "d"}]}
    assert handled == [1, 3]
    assert sent == []


def test_a_batch_whose_every_record_failed_raises_so_lambda_counts_an_error():
    with pytest.raises(BatchFailed):
        _consumer([], [])({"Records": [_record("a", {"fail": True})]}, None)


def test_a_poison_record_is_parked_and_counts_as_handled():
    sent: list = []
    answer = _consumer([], sent)({"Records": [_record("p", {"poison": True})]}, None)
    assert answer == {"batchItemFailures": []}
    assert [m["MessageAttributes"]["source_message_id"]["StringValue"] for m in sent] == ["p"]


def test_an_empty_batch_reports_nothing():
    assert _consumer([], [])({"Records": []}, None) == {"batchItemFailures": []}


def test_an_erased_members_event_is_acknowledged_not_parked_or_retried():
    sent: list = []
    answer = _consumer([], sent)({"Records": [_record("m-1", {"erased": True})]}, None)
    assert answer == {"batchItemFailures": []}
    assert sent == []
