"""SQS event source mappings, and the relay that lets bus rules target functions.

SQS: receive up to BatchSize, build Lambda's SQS event, delete what succeeded, and make the
failures (`batchItemFailures`, or every record when the handler raises) visible again at once so
retries are fast; moto itself moves a message to the DLQ once its receive count reaches the
queue's maxReceiveCount. Filtered-out messages are deleted, as Lambda does.

Relay: moto's EventBridge cannot invoke Lambda, so a rule's function target is provisioned as a
hidden queue; each message there is one event, invoked directly (as EventBridge's asynchronous
invoke would) with two retries.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from typing import Any

from devstack.model import SqsMapping
from devstack.patterns import any_matches, reported_failures
from devstack.provision import RelayTarget

log = logging.getLogger("devstack")

Invoke = Callable[[str, Any], Any]
#: EventBridge -> Lambda is an asynchronous invoke: one try plus two retries.
ASYNC_ATTEMPTS = 3


def _message_attributes(raw: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in raw.items():
        binary = value.get("BinaryValue")
        out[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": base64.b64encode(binary).decode() if binary else None,
            "stringListValues": list(value.get("StringListValues") or []),
            "binaryListValues": [
                base64.b64encode(b).decode() for b in value.get("BinaryListValues") or []
            ],
            "dataType": value.get("DataType"),
        }
    return out


def lambda_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """A received message as it appears in Lambda's SQS event."""
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": _message_attributes(message.get("MessageAttributes") or {}),
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _filter_view(record: dict[str, Any]) -> dict[str, Any]:
    """Lambda filters SQS records on the body parsed as JSON when it is JSON."""
    try:
        body: Any = json.loads(record["body"])
    except ValueError:
        body = record["body"]
    return {**record, "body": body}


class QueueConsumer:
    """One SQS event source mapping."""

    def __init__(
        self, mapping: SqsMapping, *, url: str, region: str, sqs: Any, invoke: Invoke
    ) -> None:
        self.mapping, self.url, self.region = mapping, url, region
        self.function = mapping.function
        self.sqs = sqs
        self.invoke = invoke

    def _receive(self, wanted: int) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < wanted:
            got = self.sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=min(10, wanted - len(messages)),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not got:
                break
            messages.extend(got)
        return messages

    def pump(self) -> bool:
        """Deliver one batch; False when nothing was visible."""
        messages = self._receive(self.mapping.batch_size)
        if not messages:
            return False
        records = [lambda_record(m, self.mapping.queue_arn, self.region) for m in messages]
        batch = [r for r in records if any_matches(self.mapping.filters, _filter_view(r))]
        kept = {r["messageId"] for r in batch}
        dropped = [r for r in records if r["messageId"] not in kept]
        self._delete(dropped)
        if batch:
            failed = self._deliver(batch)
            self._delete([r for r in batch if r["messageId"] not in failed])
            self._retry_now([r for r in batch if r["messageId"] in failed])
        return True

    def _deliver(self, batch: list[dict[str, Any]]) -> set[str]:
        """Invoke; the message ids that failed."""
        every = {r["messageId"] for r in batch}
        try:
            result = self.invoke(self.function, {"Records": batch})
        except Exception:  # a function error fails the whole batch, as in Lambda
            log.warning("%s failed on an SQS batch", self.function, exc_info=True)
            return every
        failed = reported_failures(result, self.mapping.report_failures, every)
        return every if failed is None else set(failed)

    def _delete(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)
                ],
            )

    def _retry_now(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start : start + 10]
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": r["receiptHandle"], "VisibilityTimeout": 0}
                    for i, r in enumerate(chunk)
                ],
            )


class RelayConsumer:
    """Delivers a rule's events to its function target, one asynchronous invoke per event."""

    def __init__(self, relay: RelayTarget, *, sqs: Any, invoke: Invoke) -> None:
        self.relay, self.url, self.function = relay, relay.url, relay.function
        self.sqs = sqs
        self.invoke = invoke

    def _payload(self, body: str) -> Any:
        if self.relay.input is not None:
            return json.loads(self.relay.input)
        event: Any = json.loads(body)
        if self.relay.input_path:
            for part in self.relay.input_path.removeprefix("$").strip(".").split("."):
                if part:
                    event = event.get(part) if isinstance(event, dict) else None
        return event

    def pump(self) -> bool:
        """Deliver one event; False when nothing was visible."""
        got = self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=1, AttributeNames=["All"]
        ).get("Messages", [])
        if not got:
            return False
        message = got[0]
        handle = message["ReceiptHandle"]
        try:
            self.invoke(self.function, self._payload(message["Body"]))
        except Exception:  # failures are retried like an asynchronous invoke
            log.warning("%s failed on a bus event", self.function, exc_info=True)
            count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            if count < ASYNC_ATTEMPTS:
                self.sqs.change_message_visibility(
                    QueueUrl=self.url, ReceiptHandle=handle, VisibilityTimeout=0
                )
                return True
        self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=handle)
        return True
