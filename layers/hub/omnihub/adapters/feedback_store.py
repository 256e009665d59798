"""FeedbackStore on DynamoDB: feedback, the members' feedback index, cluster counts, episodes,
batch holds and the product board in one table (FeedbackTable).

Keys:
- feedback        pk=FB#<channel>#<feedback_id>   sk=FB        the text lives only here; a
                  suggestion also carries gsi1pk=BOARD, gsi1sk=<received_at>#<ref>
- member's file   pk=MFB#<member_id>  sk=<received_at>#<ref>   the reading, never the text
- observation     pk=CL#<scope>#<key>#<topic>#<shard 0..7>  sk=<received_at>#<ref>   (TTL)
- open episode    pk=EP#<scope>#<key>#<topic>  sk=EPISODE    `until`: no second alarm before
- cluster         pk=CLUSTER#<cluster_id>  sk=CLUSTER  gsi1pk=CLUSTER gsi1sk=<detected_at>#<id>
- batch hold      pk=HOLD#<batch_no>  sk=HOLD  gsi1pk=HOLD gsi1sk=<requested_at>#<batch_no>

No hot item at a Double 11 peak: a busy SKU's reports land on SHARDS partitions (by a hash of
the report), each written a few times a second at most, and are counted with one strongly
consistent Query (Select=COUNT) per shard over the window, nothing is incremented. The only
single items are the episode and hold markers, written once per episode or batch, and the
CLUSTER, HOLD and BOARD index partitions, written only when a cluster is detected, a hold is
requested or a customer makes a suggestion (tens a second at the very most).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from omnihub.adapters.dynamo import batch_get, from_attributes, to_attributes, transact
from omnihub.adapters.event_log import outbox_put
from omnihub.adapters.member_store import member_key
from omnihub.clock import iso
from omnihub.errors import ConcurrentChange
from omnihub.events.domain import DomainEvent
from omnihub.feedback.model import (
    BatchHold,
    ClusterKey,
    Episode,
    FeedbackRecord,
    FeedbackWrite,
    Observation,
)

SHARDS = 8
FEEDBACK_SK = "FB"
EPISODE_SK = "EPISODE"
CLUSTER_SK = "CLUSTER"
HOLD_SK = "HOLD"
BOARD = "BOARD"
CLUSTERS = "CLUSTER"
HOLDS = "HOLD"
INDEX = "gsi1"
#: Three actions per moved feedback stay within DynamoDB's 100 per transaction.
MOVE_PAGE = 30
MOVE_ATTEMPTS = 8
_RACE_CODES = {"ConditionalCheckFailed", "TransactionConflict"}
SUMMARY_FIELDS = (
    "feedback_id",
    "channel",
    "kind",
    "intent",
    "sentiment",
    "topics",
    "risk",
    "priority",
    "outcome",
    "received_at",
)


def feedback_key(channel: str, feedback_id: str) -> dict[str, str]:
    return {"pk": f"FB#{channel}#{feedback_id}", "sk": FEEDBACK_SK}


def member_feedback_pk(member_id: str) -> str:
    return f"MFB#{member_id}"


def shard_of(ref: str) -> int:
    """A report's shard: spread evenly, and the same for the same report on every retry."""
    return int(hashlib.sha256(ref.encode()).hexdigest()[:8], 16) % SHARDS


def observation_pk(key: ClusterKey, shard: int) -> str:
    return f"CL#{key.scope}#{key.key}#{key.topic}#{shard}"


def observation_row(observation: Observation) -> dict[str, Any]:
    return {
        "pk": observation_pk(observation.key, shard_of(observation.ref)),
        "sk": f"{iso(observation.at)}#{observation.ref}",
        "ref": observation.ref,
        "expires_at": int((observation.at + observation.keep_for).timestamp()),
    }


def episode_key(key: ClusterKey) -> dict[str, str]:
    return {"pk": f"EP#{key.scope}#{key.key}#{key.topic}", "sk": EPISODE_SK}


def hold_key(batch_no: str) -> dict[str, str]:
    return {"pk": f"HOLD#{batch_no}", "sk": HOLD_SK}


def _decimal(value: float) -> Decimal:
    return Decimal(str(value))


def feedback_item(record: FeedbackRecord) -> dict[str, Any]:
    f = record.incoming
    c = record.classification
    item: dict[str, Any] = {
        **feedback_key(f.channel, f.feedback_id),
        "feedback_id": f.feedback_id,
        "channel": f.channel,
        "kind": f.kind,
        "member_id": record.member_id,
        "text": f.text,
        "order_id": f.order_id,
        "sku": f.sku,
        "batch_no": f.batch_no,
        "rating": f.rating,
        "intent": c.intent,
        "sentiment": c.sentiment,
        "score": _decimal(c.score),
        "intensity": _decimal(c.intensity),
        "topics": list(c.topics),
        "risk": c.risk,
        "evidence": list(c.evidence),
        "outcome": record.outcome,
        "priority": record.priority,
        "knowledge_entry": record.knowledge_entry,
        "causing_event_id": f.causing_event_id,
        "occurred_at": iso(f.occurred_at),
        "received_at": iso(f.received_at),
    }
    if record.on_board:
        item["gsi1pk"] = BOARD
        item["gsi1sk"] = f"{iso(f.received_at)}#{f.ref}"
    return item


def member_feedback_item(record: FeedbackRecord, member_id: str) -> dict[str, Any]:
    f = record.incoming
    return {
        "pk": member_feedback_pk(member_id),
        "sk": f"{iso(f.received_at)}#{f.ref}",
        "member_id": member_id,
        **record.summary(),
    }


def _summary(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: item.get(name) for name in SUMMARY_FIELDS}


def _cancellation_codes(error: ClientError) -> list[str | None]:
    return [r.get("Code") for r in error.response.get("CancellationReasons", [])]


class DynamoFeedbackStore:
    def __init__(self, client: Any, table: str, event_log_table: str, members_table: str) -> None:
        self._client = client
        self._table = table
        self._event_log_table = event_log_table
        self._members_table = members_table

    # -- writing feedback --------------------------------------------------------------------
    def record(self, write: FeedbackWrite) -> bool:
        record = write.record
        f = record.incoming
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_attributes(feedback_item(record)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        if record.member_id is not None:
            actions.append(
                {
                    "ConditionCheck": {
                        "TableName": self._members_table,
                        "Key": to_attributes(member_key(record.member_id)),
                        "ConditionExpression": "attribute_exists(pk) AND "
                        "attribute_not_exists(merged_into) AND attribute_not_exists(erased_at)",
                    }
                }
            )
            actions.append(self._put(member_feedback_item(record, record.member_id)))
        actions.extend(self._put(observation_row(o)) for o in write.observations)
        actions.extend(outbox_put(self._event_log_table, e) for e in write.events)
        try:
            self._client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            codes = _cancellation_codes(error)
            if codes and codes[0] == "ConditionalCheckFailed":
                return False  # recorded before: a replay changes nothing
            if set(codes) & _RACE_CODES:
                raise ConcurrentChange(
                    f"feedback {f.ref}: the member changed or a writer raced"
                ) from error
            raise
        return True

    def _put(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {"Put": {"TableName": self._table, "Item": to_attributes(item)}}

    # -- clusters and holds ------------------------------------------------------------------
    def open_markers(
        self, keys: Sequence[ClusterKey], hold_batch: str | None, now: datetime
    ) -> tuple[frozenset[ClusterKey], bool]:
        wanted = [episode_key(k) for k in keys]
        if hold_batch is not None:
            wanted.append(hold_key(hold_batch))
        if not wanted:
            return frozenset(), False
        rows = {row["pk"]: row for row in batch_get(self._client, self._table, wanted)}
        moment = iso(now)
        open_keys = frozenset(
            k
            for k in keys
            if (row := rows.get(episode_key(k)["pk"])) is not None and row["until"] > moment
        )
        held = hold_batch is not None and hold_key(hold_batch)["pk"] in rows
        return open_keys, held

    def _count_pages(self, key: ClusterKey, shard: int, since: datetime) -> Iterator[int]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk >= :since",
            "ExpressionAttributeValues": {
                ":pk": {"S": observation_pk(key, shard)},
                ":since": {"S": iso(since)},
            },
            "Select": "COUNT",
            "ConsistentRead": True,
        }
        while True:
            page = self._client.query(**request)
            yield int(page["Count"])
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def count(self, key: ClusterKey, since: datetime, stop_at: int) -> int:
        total = 0
        for shard in range(SHARDS):
            total += sum(self._count_pages(key, shard, since))
            if total >= stop_at:
                break
        return total

    def refs(self, key: ClusterKey, since: datetime, limit: int) -> list[str]:
        found: list[tuple[str, str]] = []
        for shard in range(SHARDS):
            # The oldest `limit` of each shard hold the oldest `limit` of all.
            page = self._client.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND sk >= :since",
                ExpressionAttributeValues={
                    ":pk": {"S": observation_pk(key, shard)},
                    ":since": {"S": iso(since)},
                },
                ProjectionExpression="sk, #ref",
                ExpressionAttributeNames={"#ref": "ref"},
                ConsistentRead=True,
                Limit=limit,
            )
            found.extend((i["sk"]["S"], i["ref"]["S"]) for i in page.get("Items", []))
        return [ref for _, ref in sorted(found)[:limit]]

    def open_episode(self, episode: Episode, event: DomainEvent) -> bool:
        key = episode.key
        marker = {
            **episode_key(key),
            "scope": key.scope,
            "key": key.key,
            "topic": key.topic,
            "cluster_id": episode.cluster_id,
            "until": iso(episode.until),
        }
        cluster = {
            "pk": f"CLUSTER#{episode.cluster_id}",
            "sk": CLUSTER_SK,
            "gsi1pk": CLUSTERS,
            "gsi1sk": f"{iso(episode.detected_at)}#{episode.cluster_id}",
            **episode.view(),
        }
        return self._once(
            [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_attributes(marker),
                        "ConditionExpression": "attribute_not_exists(pk) OR #until <= :now",
                        "ExpressionAttributeNames": {"#until": "until"},
                        "ExpressionAttributeValues": {":now": {"S": iso(episode.detected_at)}},
                    }
                },
                self._put(cluster),
                outbox_put(self._event_log_table, event),
            ]
        )

    def request_hold(self, hold: BatchHold, event: DomainEvent) -> bool:
        item = {
            **hold_key(hold.batch_no),
            "gsi1pk": HOLDS,
            "gsi1sk": f"{iso(hold.requested_at)}#{hold.batch_no}",
            **hold.view(),
        }
        return self._once(
            [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_attributes(item),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                outbox_put(self._event_log_table, event),
            ]
        )

    def _once(self, actions: list[dict[str, Any]]) -> bool:
        """A marker and what it announces, unless the marker's condition fails."""
        try:
            self._client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            codes = _cancellation_codes(error)
            if codes and codes[0] == "ConditionalCheckFailed":
                return False
            if set(codes) & _RACE_CODES:
                raise ConcurrentChange("another writer raced the marker") from error
            raise
        return True

    # -- members' files ----------------------------------------------------------------------
    def recent_feedback(self, member_id: str, limit: int) -> list[dict[str, Any]]:
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": member_feedback_pk(member_id)}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [_summary(from_attributes(i)) for i in response.get("Items", [])]

    def _member_rows(self, member_id: str, limit: int | None = None) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": member_feedback_pk(member_id)}},
            "ConsistentRead": True,
        }
        if limit is not None:
            request["Limit"] = limit
        while True:
            page = self._client.query(**request)
            yield from (from_attributes(i) for i in page.get("Items", []))
            if limit is not None or "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def move_feedback(self, absorbed: str, target: Callable[[], tuple[str, bool]]) -> int:
        moved = 0
        races = 0
        where: tuple[str, bool] | None = None
        while True:
            rows = list(self._member_rows(absorbed, MOVE_PAGE))
            if not rows:
                return moved
            if where is None:
                where = target()
            survivor, redact = where
            actions: list[dict[str, Any]] = []
            for row in rows:
                actions.append(
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": to_attributes({"pk": row["pk"], "sk": row["sk"]}),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    }
                )
                actions.append(
                    self._put(
                        {
                            **row,
                            "pk": member_feedback_pk(survivor),
                            "member_id": survivor,
                        }
                    )
                )
                actions.append(self._reassign(row, survivor, redact))
            try:
                transact(self._client, actions)
            except ConcurrentChange:
                races += 1
                if races >= MOVE_ATTEMPTS:
                    raise
                continue
            moved += len(rows)

    def _reassign(self, row: Mapping[str, Any], survivor: str, redact: bool) -> dict[str, Any]:
        update = "SET member_id = :survivor"
        if redact:
            update += " REMOVE #text"
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": to_attributes(feedback_key(row["channel"], row["feedback_id"])),
            "UpdateExpression": update,
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":survivor": {"S": survivor}},
        }
        if redact:
            request["ExpressionAttributeNames"] = {"#text": "text"}
        return {"Update": request}

    def redact_feedback(self, member_id: str, at: datetime) -> int:
        redacted = 0
        for row in self._member_rows(member_id):
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key=to_attributes(feedback_key(row["channel"], row["feedback_id"])),
                    UpdateExpression="REMOVE #text SET text_erased_at = "
                    "if_not_exists(text_erased_at, :at)",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeNames={"#text": "text"},
                    ExpressionAttributeValues={":at": {"S": iso(at)}},
                )
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                continue
            redacted += 1
        return redacted

    # -- insights ----------------------------------------------------------------------------
    def _newest(self, partition: str, limit: int) -> list[dict[str, Any]]:
        response = self._client.query(
            TableName=self._table,
            IndexName=INDEX,
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues={":p": {"S": partition}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [from_attributes(i) for i in response.get("Items", [])]

    def clusters(self, limit: int) -> list[dict[str, Any]]:
        fields = (
            "cluster_id",
            "scope",
            "key",
            "topic",
            "sku",
            "batch_no",
            "count",
            "window_start",
            "detected_at",
            "until",
            "feedback_refs",
        )
        return [{f: item.get(f) for f in fields} for item in self._newest(CLUSTERS, limit)]

    def suggestions(self, limit: int) -> list[dict[str, Any]]:
        fields = ("feedback_id", "channel", "kind", "text", "topics", "sku", "received_at")
        return [{f: item.get(f) for f in fields} for item in self._newest(BOARD, limit)]

    def holds(self, limit: int) -> list[dict[str, Any]]:
        fields = ("batch_no", "sku", "reports", "feedback_refs", "evidence", "requested_at")
        return [{f: item.get(f) for f in fields} for item in self._newest(HOLDS, limit)]
