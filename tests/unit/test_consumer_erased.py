"""An event whose member was erased meanwhile is acknowledged, not retried into a DLQ."""

from __future__ import annotations

import json

from aws_lambda_powertools import Logger, Metrics

from omnihub.consumer import Consumer
from omnihub.errors import Gone


def _record(body: dict) -> dict:
    return {
        "messageId": "m-1",
        "receiptHandle": "r",
        "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws-cn:sqs:cn-north-1:123456789012:q",
        "awsRegion": "cn-north-1",
    }


def test_an_erased_members_event_is_acknowledged_not_parked_or_retried():
    sent: list[dict] = []

    class Sqs:
        def send_message(self, **kwargs):
            sent.append(kwargs)

    def handle(message: dict) -> None:
        raise Gone("channel event tmall:e1 belonged to an erased member")

    consumer = Consumer(
        handle,
        logger=Logger(service="test"),
        metrics=Metrics(namespace="Test", service="test"),
        sqs=lambda: Sqs(),
        dead_letter_queue_url="dlq",
        parse=json.loads,
        correlation=lambda m: None,
    )
    answer = consumer({"Records": [_record({"x": 1})]}, None)
    assert answer == {"batchItemFailures": []}
    assert sent == []
