"""The event backbone: event-log rows become bus events, and bus events become consumer input.

Rows reach the bus through the table's stream, so an accepted event or a committed domain event
is published even if the function that wrote it dies a moment later. A row too large for
EventBridge (256 KB) travels as a reference that consumers resolve from the event log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from omnihub.clock import parse_iso
from omnihub.errors import MalformedBody

MAX_DETAIL_BYTES = 200 * 1024
REFERENCE_KEY = "event_log_key"


@dataclass(frozen=True)
class BusEntry:
    source: str
    detail_type: str
    detail: str
    time: datetime


def entry_from_row(row: Mapping[str, Any]) -> BusEntry:
    """A stream NewImage (DynamoDB attribute values) as the bus event it announces."""
    detail = row["detail"]["S"]
    if len(detail.encode()) > MAX_DETAIL_BYTES:
        head = json.loads(detail)
        detail = json.dumps(
            {
                REFERENCE_KEY: row["pk"]["S"],
                "channel": head.get("channel"),
                "event_id": head.get("event_id"),
                "type": head.get("type"),
            }
        )
    return BusEntry(
        source=row["source"]["S"],
        detail_type=row["detail_type"]["S"],
        detail=detail,
        time=parse_iso(row["time"]["S"]),
    )


def forward(
    records: Sequence[Mapping[str, Any]], publish: Callable[[Sequence[BusEntry]], list[bool]]
) -> list[str]:
    """Publish the INSERT records of a stream batch; return the sequence numbers that failed."""
    inserts = [r for r in records if r.get("eventName") == "INSERT"]
    if not inserts:
        return []
    entries = [entry_from_row(r["dynamodb"]["NewImage"]) for r in inserts]
    published = publish(entries)
    return [
        record["dynamodb"]["SequenceNumber"]
        for record, ok in zip(inserts, published, strict=True)
        if not ok
    ]


@dataclass(frozen=True)
class BusEvent:
    """An EventBridge event as an SQS consumer receives it."""

    source: str
    detail_type: str
    detail: dict[str, Any]

    @classmethod
    def from_sqs_body(cls, body: str) -> BusEvent:
        """Parse what an EventBridge rule delivered; anything else is a malformed message."""
        try:
            event = json.loads(body)
            parsed = cls(
                source=event["source"], detail_type=event["detail-type"], detail=event["detail"]
            )
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise MalformedBody(
                "the message is not an EventBridge event", details=[{"field": "body"}]
            ) from error
        if not isinstance(parsed.detail, dict):
            raise MalformedBody("the event detail is not an object", details=[{"field": "detail"}])
        return parsed

    @property
    def reference(self) -> str | None:
        """The event-log key when the event was too large to travel whole."""
        ref = self.detail.get(REFERENCE_KEY)
        return ref if isinstance(ref, str) else None
