"""The event log table: accepted channel events (audit, replay) and the domain-event outbox.

Both kinds are rows the outbox forwarder publishes from the table's stream, once each, when they
are inserted. Writing a domain event is therefore one more action in the transaction that
changes the state it reports: there is no window in which the state changed and the event
was lost, and a retried request that changes nothing publishes nothing.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError

from omnihub.channels import CHANNEL_EVENT_SOURCE
from omnihub.clock import iso
from omnihub.events.domain import DomainEvent
from omnihub.events.envelope import Envelope
from omnihub.webhook.intake import AppendOutcome

OUTBOX_RETENTION = timedelta(days=7)


def inbound_key(channel: str, event_id: str) -> str:
    return f"IN#{channel}#{event_id}"


def outbox_key(event_id: str) -> str:
    return f"OUT#{event_id}"


def _json(detail: dict[str, Any]) -> str:
    return json.dumps(detail, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def inbound_row(envelope: Envelope, body_sha256: str, retention: timedelta) -> dict[str, Any]:
    return {
        "pk": {"S": inbound_key(envelope.channel, envelope.event_id)},
        "kind": {"S": "channel"},
        "source": {"S": CHANNEL_EVENT_SOURCE},
        "detail_type": {"S": envelope.type},
        "detail": {"S": envelope.model_dump_json()},
        "time": {"S": iso(envelope.occurred_at)},
        "body_sha256": {"S": body_sha256},
        "received_at": {"S": iso(envelope.received_at)},
        "expires_at": {"N": str(int((envelope.received_at + retention).timestamp()))},
    }


def outbox_put(table: str, event: DomainEvent) -> dict[str, Any]:
    """The transaction action that publishes `event` once the transaction commits."""
    return {
        "Put": {
            "TableName": table,
            "Item": {
                "pk": {"S": outbox_key(event.event_id)},
                "kind": {"S": "domain"},
                "source": {"S": event.source},
                "detail_type": {"S": event.type},
                "detail": {"S": _json(event.detail())},
                "time": {"S": iso(event.occurred_at)},
                "expires_at": {"N": str(int((event.occurred_at + OUTBOX_RETENTION).timestamp()))},
            },
        }
    }


class EventLog:
    def __init__(self, client: Any, table: str, retention: timedelta) -> None:
        self._client = client
        self._table = table
        self._retention = retention

    def append_inbound(self, envelope: Envelope, body_sha256: str) -> AppendOutcome:
        """One conditional put: the first copy of an event wins, whoever races it.

        A repeat answers 'duplicate'; the same event id with another body answers 'conflict'
        (read from the failed write itself: ReturnValuesOnConditionCheckFailure, no extra call).
        """
        try:
            self._client.put_item(
                TableName=self._table,
                Item=inbound_row(envelope, body_sha256, self._retention),
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            old = error.response.get("Item") or {}
            stored = old.get("body_sha256", {}).get("S")
            same = stored is None or stored == body_sha256
            return "duplicate" if same else "conflict"
        return "accepted"

    def envelope(self, key: str) -> Envelope:
        """A logged channel event, for consumers handed a reference instead of the event."""
        response = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": key}}, ConsistentRead=True
        )
        return Envelope.model_validate_json(response["Item"]["detail"]["S"])
