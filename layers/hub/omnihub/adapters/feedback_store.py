"""FeedbackStore on DynamoDB: feedback, the members' feedback index, cluster counts, episodes,
batch holds and the product board in one table (FeedbackTable).

Keys:
- feedback        pk=FB#<channel>#<feedback_id>   sk=FB        the text lives only here; a
                  suggestion also carries gsi1pk=BOARD, gsi1sk=<received_at>#<ref>
- member's file   pk=MFB#<member_id>  sk=<received_at>#<ref>   the reading, never the text;
                  both carry `via`, the lineage that brought it (moves read it from here)
- observation     pk=CL#<scope>#<key>#<shard 0..7>  sk=<received_at>#<ref>   (TTL) one row per
                  report and SKU or batch: its `topics` and its `reporter`; food-safety
                  reports on a batch (holds) under pk=FS#<batch_no>#<shard 0..7>
- open episode    pk=EP#<scope>#<key>#<topic>  sk=EPISODE    `until`: no second alarm before
- cluster         pk=CLUSTER#<cluster_id>  sk=CLUSTER  gsi1pk=CLUSTER gsi1sk=<detected_at>#<id>
- batch hold      pk=HOLD#<batch_no>  sk=HOLD  gsi1pk=HOLD gsi1sk=<requested_at>#<batch_no>

No hot item at a Double 11 peak: a busy SKU's reports land on SHARDS partitions (by a hash of
the report), each written a few times a second at most, and are counted with one strongly
consistent Query per shard over the window (its rows' topics and reporters, projected), for all
of a report's topics at once; nothing is incremented. The only
single items are the episode and hold markers, written once per episode or batch, and the
CLUSTER, HOLD and BOARD index partitions, written only when a cluster is detected, a hold is
requested or a customer makes a suggestion (tens a second at the very most).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from omnihub.adapters.dynamo import batch_get, from_attributes, to_attributes, transact
from omnihub.adapters.event_log import outbox_put
from omnihub.adapters.member_checks import lineage_still_with, still_live
from omnihub.adapters.member_store import member_key
from omnihub.clock import iso
from omnihub.errors import ConcurrentChange
from omnihub.events.domain import DomainEvent
from omnihub.feedback.clusters import count_reporters
from omnihub.feedback.model import (
    BatchHold,
    ClusterKey,
    Counted,
    Episode,
    FeedbackRecord,
    FeedbackWrite,
    Observation,
    Tally,
)

SHARDS = 8
#: Actions per episode in its transaction: the marker, the cluster, the event.
EPISODE_ACTIONS = 3
FEEDBACK_SK = "FB"
EPISODE_SK = "EPISODE"
CLUSTER_SK = "CLUSTER"
HOLD_SK = "HOLD"
BOARD = "BOARD"
CLUSTERS = "CLUSTER"
HOLDS = "HOLD"
INDEX = "gsi1"
#: Three actions per moved feedback, and at most a check of its target and one of its lineage,
#: stay within DynamoDB's 100 per transaction.
MOVE_PAGE = 20
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


def observation_pk(tally: Tally, shard: int) -> str:
    if tally.kind == "food_safety":
        return f"FS#{tally.key}#{shard}"
    return f"CL#{tally.scope}#{tally.key}#{shard}"


def observation_row(observation: Observation) -> dict[str, Any]:
    return {
        "pk": observation_pk(observation.tally, shard_of(observation.ref)),
        "sk": f"{iso(observation.at)}#{observation.ref}",
        "ref": observation.ref,
        "topics": list(observation.topics),
        "reporter": observation.reporter,
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
        "via": record.via,
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
        "via": record.via,
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
            if record.via:  # an un-merge moving that identity meanwhile: resolve again
                actions.append(
                    lineage_still_with(self._members_table, record.via, record.member_id)
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

    def _tally_pages(
        self, tally: Tally, shard: int, since: datetime
    ) -> Iterator[tuple[str, str, list[str], str]]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk >= :since",
            "ExpressionAttributeValues": {
                ":pk": {"S": observation_pk(tally, shard)},
                ":since": {"S": iso(since)},
            },
            "ProjectionExpression": "sk, #ref, topics, reporter",
            "ExpressionAttributeNames": {"#ref": "ref"},
            "ConsistentRead": True,
        }
        while True:
            page = self._client.query(**request)
            for item in page.get("Items", []):
                row = from_attributes(item)
                yield row["sk"], row["ref"], list(row.get("topics", [])), row["reporter"]
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def tally(
        self, tally: Tally, topics: Collection[str], since: datetime, limit: int
    ) -> dict[str, Counted]:
        rows = (row for shard in range(SHARDS) for row in self._tally_pages(tally, shard, since))
        return count_reporters(rows, topics, limit)

    def open_episodes(self, found: Sequence[tuple[Episode, DomainEvent]]) -> tuple[Episode, ...]:
        """One transaction for all of a report's new episodes; a marker whose episode another
        writer opened first is left out and the rest written again."""
        pending = list(found)
        while pending:
            actions: list[dict[str, Any]] = []
            for episode, event in pending:
                actions.extend(self._episode_actions(episode, event))
            try:
                self._client.transact_write_items(TransactItems=actions)
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                codes = _cancellation_codes(error)
                taken = {
                    i // EPISODE_ACTIONS
                    for i, c in enumerate(codes)
                    if c == "ConditionalCheckFailed"
                }
                if taken:
                    pending = [p for i, p in enumerate(pending) if i not in taken]
                    continue
                if set(codes) & _RACE_CODES:
                    raise ConcurrentChange("another writer raced the episode markers") from error
                raise
            return tuple(episode for episode, _ in pending)
        return ()

    def _episode_actions(self, episode: Episode, event: DomainEvent) -> list[dict[str, Any]]:
        """The marker (conditional: no episode of the key open), the cluster and its event."""
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
        return [
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

    def _member_rows(self, member_id: str) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": member_feedback_pk(member_id)}},
            "ConsistentRead": True,
        }
        while True:
            page = self._client.query(**request)
            yield from (from_attributes(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def move_feedback(self, member_id: str, where: Callable[[str | None], tuple[str, bool]]) -> int:
        moved = 0
        races = 0
        while True:
            try:
                for actions, rows in self._moves(member_id, where):
                    transact(self._client, actions)
                    moved += rows
                return moved
            except ConcurrentChange:  # another mover, or a target merged meanwhile: look again
                races += 1
                if races >= MOVE_ATTEMPTS:
                    raise

    def _moves(
        self, member_id: str, where: Callable[[str | None], tuple[str, bool]]
    ) -> Iterator[tuple[list[dict[str, Any]], int]]:
        """Transactions (and how many feedback each moves) for the feedback that leaves."""
        targets: dict[str | None, tuple[str, bool]] = {}
        leaving: list[tuple[dict[str, Any], str, bool]] = []
        for row in self._member_rows(member_id):
            via = row.get("via")
            if via not in targets:
                targets[via] = where(via)
            root, erased = targets[via]
            if root != member_id:
                leaving.append((row, root, erased))
            if len(leaving) == MOVE_PAGE:
                yield self._move_actions(leaving), len(leaving)
                leaving = []
        if leaving:
            yield self._move_actions(leaving), len(leaving)

    def _move_actions(
        self, leaving: list[tuple[dict[str, Any], str, bool]]
    ) -> list[dict[str, Any]]:
        actions: list[dict[str, Any]] = []
        for row, root, erased in leaving:
            actions.append(
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": to_attributes({"pk": row["pk"], "sk": row["sk"]}),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                }
            )
            moved = {**row, "pk": member_feedback_pk(root), "member_id": root}
            if erased:
                moved.pop("via", None)
            actions.append(self._put(moved))
            actions.append(self._reassign(row, root, erased))
        live = [(row.get("via"), root) for row, root, erased in leaving if not erased]
        actions += [still_live(self._members_table, root) for root in sorted({r for _, r in live})]
        actions += [
            lineage_still_with(self._members_table, via, root)
            for via, root in sorted({(v, r) for v, r in live if v})
        ]
        return actions

    def _reassign(self, row: Mapping[str, Any], root: str, erased: bool) -> dict[str, Any]:
        update = "SET member_id = :root"
        if erased:
            update += " REMOVE #text, via"
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": to_attributes(feedback_key(row["channel"], row["feedback_id"])),
            "UpdateExpression": update,
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":root": {"S": root}},
        }
        if erased:
            request["ExpressionAttributeNames"] = {"#text": "text"}
        return {"Update": request}

    def redact_feedback(self, member_id: str, at: datetime) -> int:
        redacted = 0
        for row in self._member_rows(member_id):
            if not self._update_if_kept(
                feedback_key(row["channel"], row["feedback_id"]),
                "REMOVE #text, via SET text_erased_at = if_not_exists(text_erased_at, :at)",
                names={"#text": "text"},
                values={":at": {"S": iso(at)}},
            ):
                continue
            if "via" in row:  # the file's row no longer names the lineage either
                self._update_if_kept({"pk": row["pk"], "sk": row["sk"]}, "REMOVE via")
            redacted += 1
        return redacted

    def _update_if_kept(
        self,
        key: Mapping[str, Any],
        update: str,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> bool:
        """UpdateItem on an item that exists (never creating one); False when it is gone."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": to_attributes(key),
            "UpdateExpression": update,
            "ConditionExpression": "attribute_exists(pk)",
        }
        if names:
            request["ExpressionAttributeNames"] = dict(names)
        if values:
            request["ExpressionAttributeValues"] = dict(values)
        try:
            self._client.update_item(**request)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

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
