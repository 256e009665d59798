"""DynamoDB stream event source mappings: moto's stream read and delivered as Lambda would.

Each consumer remembers its position (the next sequence number), applies FilterCriteria, invokes
in batches of BatchSize, honours `batchItemFailures` (retry from the reported SequenceNumber),
halves the batch on a function error when BisectBatchOnFunctionError is set, and after
MaximumRetryAttempts sends AWS's failure record to the OnFailure SQS destination and moves on.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from devstack.model import StreamMapping
from devstack.patterns import any_matches, reported_failures

log = logging.getLogger("devstack")

#: MaximumRetryAttempts -1 means "until the record expires" in AWS; locally it is capped so a
#: poison record cannot spin the pump forever.
LOCAL_INFINITE_RETRIES = 50

Invoke = Callable[[str, Any], Any]


def _jsonable(value: Any) -> Any:
    """boto3 returns B/BS attributes as bytes; Lambda events carry them base64-encoded."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_jsonable(v) for v in value]
    return value


def lambda_record(raw: dict[str, Any], region: str, stream_arn: str) -> dict[str, Any]:
    """A stream record as it appears in the Lambda DynamoDB event."""
    dynamodb = _jsonable(dict(raw["dynamodb"]))
    created = raw["dynamodb"].get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        "eventID": raw["eventID"],
        "eventName": raw["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


class StreamConsumer:
    """One DynamoDB event source mapping and its checkpoint."""

    def __init__(
        self,
        mapping: StreamMapping,
        *,
        function_arn: str,
        region: str,
        streams: Any,
        sqs: Any,
        invoke: Invoke,
        on_failure_url: str | None,
    ) -> None:
        self.mapping = mapping
        self.stream_arn = mapping.stream_arn
        self.function_arn = function_arn
        self.region = region
        self.streams = streams
        self.sqs = sqs
        self.invoke = invoke
        self.on_failure_url = on_failure_url
        shard = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"][0]
        self.shard_id: str = shard["ShardId"]
        self.position = int(shard["SequenceNumberRange"]["StartingSequenceNumber"])
        self.attempts = 0
        self.limit = mapping.batch_size
        if mapping.starting_position == "LATEST":
            while records := self._read(1000):
                self.position = int(records[-1]["dynamodb"]["SequenceNumber"]) + 1

    @property
    def max_retries(self) -> int:
        retries = self.mapping.maximum_retry_attempts
        return LOCAL_INFINITE_RETRIES if retries < 0 else retries

    def _read(self, limit: int) -> list[dict[str, Any]]:
        iterator = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn,
            ShardId=self.shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=str(self.position),
        )["ShardIterator"]
        records: list[dict[str, Any]] = self.streams.get_records(
            ShardIterator=iterator, Limit=limit
        )["Records"]
        return records

    def pump(self) -> bool:
        """Deliver one batch (or skip filtered records); False when the stream is consumed."""
        raw = self._read(self.limit)
        if not raw:
            return False
        records = [lambda_record(r, self.region, self.stream_arn) for r in raw]
        batch = [r for r in records if any_matches(self.mapping.filters, r)]
        last_seq = int(raw[-1]["dynamodb"]["SequenceNumber"])
        if not batch:
            self._advance(last_seq + 1)
            return True
        failed_from = self._deliver(batch)
        if failed_from is None:
            self._advance(last_seq + 1)
            return True
        if failed_from > self.position:
            self.position, self.attempts = failed_from, 1
        else:
            self.attempts += 1
        if self.attempts > self.max_retries:
            remaining = [r for r in batch if int(r["dynamodb"]["SequenceNumber"]) >= failed_from]
            self._send_failure(remaining)
            self._advance(last_seq + 1)
        return True

    def _advance(self, position: int) -> None:
        self.position, self.attempts, self.limit = position, 0, self.mapping.batch_size

    def _deliver(self, batch: list[dict[str, Any]]) -> int | None:
        """Invoke; None on success, else the sequence number to retry from."""
        first = int(batch[0]["dynamodb"]["SequenceNumber"])
        try:
            result = self.invoke(self.mapping.function, {"Records": batch})
        except Exception:  # a function error fails the whole batch, as in Lambda
            log.warning("%s failed on a stream batch", self.mapping.function, exc_info=True)
            if self.mapping.bisect_on_error and len(batch) > 1:
                self.limit = max(1, math.ceil(len(batch) / 2))
            return first
        numbers = {r["dynamodb"]["SequenceNumber"] for r in batch}
        failed = reported_failures(result, self.mapping.report_failures, numbers)
        if failed is None:
            return first
        return min(int(n) for n in failed) if failed else None

    def _send_failure(self, records: list[dict[str, Any]]) -> None:
        """AWS's on-failure record for a stream batch that ran out of retries."""
        if self.on_failure_url is None or not records:
            return
        arrivals = [r["dynamodb"].get("ApproximateCreationDateTime") for r in records]
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.function_arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": self.attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "DDBStreamBatchInfo": {
                "shardId": self.shard_id,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(arrivals[0]),
                "approximateArrivalOfLastRecord": _iso(arrivals[-1]),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        self.sqs.send_message(QueueUrl=self.on_failure_url, MessageBody=json.dumps(message))


def _iso(epoch: Any) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(float(epoch), UTC).isoformat(timespec="milliseconds")
