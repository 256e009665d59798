"""The event log table: accepted channel events (audit, replay) and the domain-event outbox.

Both kinds are rows the outbox forwarder publishes from the table's stream, once each, when they
are inserted (an erasure's rewrite is a MODIFY record, never published). Writing a domain event
is therefore one more action in the transaction that changes the state it reports: there is no
window in which the state changed and the event was lost, and a retried request that changes
nothing publishes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from omnihub.channels import CHANNEL_EVENT_SOURCE
from omnihub.clock import iso
from omnihub.errors import Gone
from omnihub.events.domain import DomainEvent
from omnihub.events.envelope import Envelope
from omnihub.identity.types import rule

if TYPE_CHECKING:  # the intake's port type only: importing the intake costs consumers 20-40 ms
    from omnihub.webhook.intake import AppendOutcome

OUTBOX_RETENTION = timedelta(days=7)
MAX_RETENTION = timedelta(days=30)
"""The longest a channel event may stay, whatever EVENT_LOG_RETENTION_DAYS says (the template's
EventLogRetentionDays has the same MaxValue): its free text and sealed identities live here."""
IDENTITY_INDEX = "identity"
"""GSI of channel rows by `identity_key`: the lookup key of the event's strongest identity, so
an erasure finds the member's rows (every identity of an event joins one member, so one key
per event reaches them all; an identity that a merge limit kept out is the known gap)."""
ERASED_DETAIL = "{}"


def inbound_key(channel: str, event_id: str) -> str:
    return f"IN#{channel}#{event_id}"


def outbox_key(event_id: str) -> str:
    return f"OUT#{event_id}"


def _json(detail: dict[str, Any]) -> str:
    return json.dumps(detail, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def index_key(envelope: Envelope) -> str | None:
    """The lookup key the row is indexed by: the first merge-capable identity's, else the
    first usable one's (placeholders have none)."""
    usable = [i for i in envelope.member.identities if i.key and not i.placeholder]
    strong = [i for i in usable if rule(i.type).merges]
    chosen = strong or usable
    return chosen[0].key if chosen else None


def inbound_row(envelope: Envelope, body_digest: str, retention: timedelta) -> dict[str, Any]:
    """`body_hmac` is keyed (PiiVault.digest): an unkeyed hash of a body holding a phone next
    to its masked form gives the phone back in 10^4 guesses."""
    row = {
        "pk": {"S": inbound_key(envelope.channel, envelope.event_id)},
        "kind": {"S": "channel"},
        "source": {"S": CHANNEL_EVENT_SOURCE},
        "detail_type": {"S": envelope.type},
        "detail": {"S": envelope.model_dump_json()},
        "time": {"S": iso(envelope.occurred_at)},
        "body_hmac": {"S": body_digest},
        "received_at": {"S": iso(envelope.received_at)},
        "expires_at": {
            "N": str(int((envelope.received_at + min(retention, MAX_RETENTION)).timestamp()))
        },
    }
    key = index_key(envelope)
    if key is not None:
        row["identity_key"] = {"S": key}
    return row


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

    def append_inbound(self, envelope: Envelope, body_digest: str) -> AppendOutcome:
        """One conditional put: the first copy of an event wins, whoever races it.

        A repeat answers 'duplicate'; the same event id with another body answers 'conflict'
        (read from the failed write itself: ReturnValuesOnConditionCheckFailure, no extra call).
        """
        try:
            self._client.put_item(
                TableName=self._table,
                Item=inbound_row(envelope, body_digest, self._retention),
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            old = error.response.get("Item") or {}
            stored = old.get("body_hmac", {}).get("S")
            same = stored is None or stored == body_digest  # an erased row keeps its digest
            return "duplicate" if same else "conflict"
        return "accepted"

    def forget_identities(self, keys: Sequence[str]) -> int:
        """Erasure: every channel row indexed by one of these lookup keys keeps only what
        deduplication needs (its key, type, times and keyed body digest): the envelope with its
        sealed identities, profile and free text goes, and so does the index key. A replay of
        such an event still answers 'duplicate', so it cannot bring the member back.
        Idempotent; returns how many rows were rewritten."""
        rewritten = 0
        for key in dict.fromkeys(keys):
            request: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": IDENTITY_INDEX,
                "KeyConditionExpression": "identity_key = :k",
                "ExpressionAttributeValues": {":k": {"S": key}},
            }
            while True:
                page = self._client.query(**request)
                for item in page.get("Items", []):
                    rewritten += self._forget_row(item["pk"]["S"])
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return rewritten

    def _forget_row(self, pk: str) -> int:
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": pk}},
                UpdateExpression="SET detail = :gone, erased = :t REMOVE identity_key",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":gone": {"S": ERASED_DETAIL}, ":t": {"BOOL": True}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return 0  # expired meanwhile
        return 1

    def envelope(self, key: str) -> Envelope:
        """A logged channel event, for consumers handed a reference instead of the event."""
        response = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": key}}, ConsistentRead=True
        )
        item = response["Item"]
        if item.get("erased", {}).get("BOOL"):
            raise Gone(f"channel event {key} belonged to an erased member")
        return Envelope.model_validate_json(item["detail"]["S"])
