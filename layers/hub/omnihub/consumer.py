"""Running an SQS consumer: one record at a time, partial batch failures, poison parked.

A record that fails for a reason retrying cannot fix (it does not parse, it breaks its contract)
is parked at once in the consumer's dead-letter queue with the reason as message attributes, and
counts as handled. Anything else (throttling, a 5xx, a lost race past its retries) fails only
that record: SQS redelivers it, and after maxReceiveCount moves it to the same DLQ.
Handlers must be idempotent: every record may arrive more than once.

The batch loop is ours, not Powertools' batch utility: that one imports asyncio and every event
source's data classes at cold start (50-80 ms) for the twenty lines below (D91).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from omnihub.adapters.aws import client
from omnihub.backbone import BusEvent
from omnihub.errors import Gone, InvalidInput, MalformedBody

PERMANENT = (InvalidInput, MalformedBody, ValidationError)
T = TypeVar("T")
SQSRecord = dict[str, Any]  # one entry of the event's "Records", as Lambda delivers it


class BatchFailed(Exception):
    """Every record of the batch failed: raised (as Powertools' batch utility does) so Lambda
    counts an error, backs off the queue's pollers, and SQS redelivers the whole batch."""


class Consumer(Generic[T]):
    """`parse` turns a message body into what `handle` takes (bus events by default); what it
    raises for a malformed body is permanent."""

    def __init__(
        self,
        handle: Callable[[T], None],
        *,
        logger: Logger,
        metrics: Metrics,
        sqs: Callable[[], Any],
        dead_letter_queue_url: str,
        parse: Callable[[str], T] = BusEvent.from_sqs_body,  # type: ignore[assignment]
        correlation: Callable[[T], str | None] = lambda m: _event_id(m),
    ) -> None:
        self._handle = handle
        self._parse = parse
        self._correlation = correlation
        self._logger = logger
        self._metrics = metrics
        self._sqs = sqs
        self._dlq = dead_letter_queue_url

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Each record on its own; the ones that failed are reported for SQS to redeliver
        (`ReportBatchItemFailures`), the others are deleted."""
        records = event.get("Records") or []
        failed: list[dict[str, str]] = []
        for record in records:
            try:
                self._record(record)
            except Exception:  # any failure is this record's alone: SQS redelivers it
                self._logger.exception(
                    "record failed; SQS will redeliver it",
                    extra={"message_id": record.get("messageId")},
                )
                failed.append({"itemIdentifier": str(record.get("messageId"))})
        if records and len(failed) == len(records):
            raise BatchFailed(f"all {len(records)} records failed; see the log")
        return {"batchItemFailures": failed}

    def _record(self, record: SQSRecord) -> None:
        try:
            message = self._parse(record["body"])
            self._logger.set_correlation_id(self._correlation(message) or record["messageId"])
            self._handle(message)
        except Gone:
            # the member was erased: their event is acknowledged and forgotten, never retried
            # into a DLQ (where a copy would outlive the erasure)
            self._logger.info("skipped an erased member's event")
            self._metrics.add_metric(name="ErasedEventsSkipped", unit=MetricUnit.Count, value=1)
        except PERMANENT as error:
            self._park(record, error)
        finally:
            self._logger.set_correlation_id(None)

    def _park(self, record: SQSRecord, error: Exception) -> None:
        reason = _reason(error)
        self._logger.warning(
            "parked a poison message", extra={"message_id": record["messageId"], "reason": reason}
        )
        self._metrics.add_metric(name="PoisonMessagesParked", unit=MetricUnit.Count, value=1)
        self._sqs().send_message(
            QueueUrl=self._dlq,
            MessageBody=record["body"],
            MessageAttributes={
                "reason": {"DataType": "String", "StringValue": reason[:1000]},
                "error_type": {"DataType": "String", "StringValue": type(error).__name__},
                "source_message_id": {"DataType": "String", "StringValue": record["messageId"]},
            },
        )


LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


class TimeBudget:
    """The time the current invocation has left, for work that pages through a shard and hands
    the rest to a new message before Lambda's timeout (`sqs_handler(..., budget=...)`)."""

    def __init__(self, reserve_ms: int) -> None:
        self._reserve_ms = reserve_ms
        self._context: Any = None

    def start(self, context: Any) -> None:
        self._context = context

    def left(self) -> bool:
        """Whether another page fits (always, outside Lambda)."""
        context = self._context
        return context is None or context.get_remaining_time_in_millis() > self._reserve_ms


def sqs_handler(
    handle: Callable[[T], None],
    *,
    logger: Logger,
    tracer: Tracer,
    metrics: Metrics,
    parse: Callable[[str], T] = BusEvent.from_sqs_body,  # type: ignore[assignment]
    correlation: Callable[[T], str | None] = lambda m: _event_id(m),
    budget: TimeBudget | None = None,
) -> LambdaHandler:
    """The `lambda_handler` of an SQS consumer: logging context, tracing and metrics around
    a Consumer whose poison goes to the function's DEAD_LETTER_QUEUE_URL."""
    consumer = Consumer(
        handle,
        logger=logger,
        metrics=metrics,
        sqs=lambda: client("sqs"),
        dead_letter_queue_url=os.environ.get("DEAD_LETTER_QUEUE_URL", ""),
        parse=parse,
        correlation=correlation,
    )

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if budget is not None:
            budget.start(context)
        return consumer(event, context)

    return lambda_handler


def _event_id(message: object) -> str | None:
    if isinstance(message, BusEvent):
        event_id = message.detail.get("event_id")
        return str(event_id) if event_id else None
    return None


def _reason(error: Exception) -> str:
    """A reason that names fields, never values (values may be personal data)."""
    if isinstance(error, ValidationError):
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in error.errors()})
        return "invalid fields: " + ", ".join(fields)
    if isinstance(error, InvalidInput | MalformedBody):
        fields = sorted({str(d.get("field")) for d in error.details})
        return f"{error.message}: {', '.join(fields)}"
    return type(error).__name__
