"""FeedbackStore on DynamoDB: feedback, the members' feedback index, cluster counts, episodes,
batch holds and the product board in one table (FeedbackTable).

Keys:
- feedback        pk=FB#<channel>#<feedback_id>   sk=FB        the text lives only here; a
                  suggestion also carries gsi1pk=BOARD, gsi1sk=<received_at>#<ref>
- member's file   pk=MFB#<member_id>  sk=<received_at>#<ref>   the reading, never the text;
                  both carry `via`, the lineage that brought it (moves read it from here)
- reporter mark   pk=MK#<scope>#<key>#<topic>  sk=<reporter>   (TTL) `last_at` and `ref` of the
                  reporter's latest report under the key (topic food_safety: a batch's hold)
- day count       pk=CNT#<scope>#<key>#<shard>  sk=D#<Shanghai day>   (TTL) one number per
                  topic: the reporters (of that shard) whose latest report is on that day
- quarter count   pk=FSC#<batch_no>  sk=Q#<first day of the Shanghai quarter>   (TTL)
                  `food_safety`, the same for holds
- open episode    pk=EP#<scope>#<key>#<topic>  sk=EPISODE    `until`: no second alarm before
- cluster         pk=CLUSTER#<cluster_id>  sk=CLUSTER  gsi1pk=CLUSTER gsi1sk=<detected_at>#<id>
- batch hold      pk=HOLD#<batch_no>  sk=HOLD  gsi1pk=HOLD gsi1sk=<requested_at>#<batch_no>

Nothing grows with traffic inside an item: a mark is one reporter's, a count item holds at most
one number per topic (under 100 bytes after any number of reports). Before its transaction a
report reads its marks with the open markers (one BatchGetItem); after it, one strongly
consistent BatchGetItem reads every bucket of its tallies' windows (7 days of its SKU, 7 of its
batch, 9 quarters of the batch's holds: 23 keys, 23 read units). A day item takes one update
per report on its SKU or batch that day (2 WCU in a transaction: 500 reports/s per SKU before
DynamoDB's 1,000 WCU/s per partition); reports racing on one item get TransactionConflict and
are read and written again. COUNT_SHARDS would spread the reporters over that many items per day
(by a hash of the reporter, so an increment and its later decrement meet in one item) at that
many times the count's keys and read units; one is enough at the rates of docs/capacity.md.
The marks of a key are queried only when it raises, for the references. The episode and hold
markers are written once per episode or batch; the CLUSTER, HOLD and BOARD index partitions
only when a cluster is detected, a hold is requested or a customer makes a suggestion (tens a
second at the very most).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from omnihub.adapters.dynamo import batch_get, from_attributes, to_attributes, transact
from omnihub.adapters.event_log import outbox_put
from omnihub.adapters.member_checks import lineage_still_with, still_live
from omnihub.adapters.member_store import member_key
from omnihub.clock import iso, parse_iso
from omnihub.errors import ConcurrentChange
from omnihub.events.domain import DomainEvent
from omnihub.feedback.model import (
    BatchHold,
    ClusterKey,
    CountChange,
    Episode,
    FeedbackRecord,
    FeedbackWrite,
    Mark,
    MarkKey,
    MarkMove,
    Seen,
    Tally,
)
from omnihub.sharding import shard_of

#: Day-count items per tally and day: a reporter's moves all go to one, by its hash.
COUNT_SHARDS = 1
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


def mark_key(at: MarkKey) -> dict[str, str]:
    key = at.key
    return {"pk": f"MK#{key.scope}#{key.key}#{key.topic}", "sk": at.reporter}


def count_key(tally: Tally, bucket: date, shard: int) -> dict[str, str]:
    """A bucket's count item: a day of a tally's shard, or a quarter of a batch's holds."""
    if tally.kind == "food_safety":
        return {"pk": f"FSC#{tally.key}", "sk": f"Q#{bucket.isoformat()}"}
    return {"pk": f"CNT#{tally.scope}#{tally.key}#{shard}", "sk": f"D#{bucket.isoformat()}"}


def count_shards(tally: Tally) -> int:
    """Food-safety reports are few per batch: its quarters are not sharded."""
    return 1 if tally.kind == "food_safety" else COUNT_SHARDS


def reporter_shard(tally: Tally, reporter: str) -> int:
    return shard_of(reporter, count_shards(tally))


def _expires(when: datetime) -> int:
    return int(when.timestamp())


def mark_put(table: str, move: MarkMove) -> dict[str, Any]:
    """The mark moved to this report, conditional on it being what was read."""
    item = {
        **mark_key(move.key),
        "last_at": iso(move.mark.at),
        "ref": move.mark.ref,
        "expires_at": _expires(move.keep_until),
    }
    put: dict[str, Any] = {"TableName": table, "Item": to_attributes(item)}
    if move.read is None:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "last_at = :read"
        put["ExpressionAttributeValues"] = {":read": {"S": iso(move.read.at)}}
    return {"Put": put}


def count_update(table: str, change: CountChange, reporter: str) -> dict[str, Any]:
    """ADD each topic's delta to the bucket's item (in the reporter's shard); its TTL is set."""
    names = {f"#t{n}": topic for n, (topic, _) in enumerate(change.deltas)}
    values: dict[str, Any] = {
        f":d{n}": {"N": str(delta)} for n, (_, delta) in enumerate(change.deltas)
    }
    values[":exp"] = {"N": str(_expires(change.keep_until))}
    adds = ", ".join(f"#t{n} :d{n}" for n in range(len(change.deltas)))
    shard = reporter_shard(change.tally, reporter)
    return {
        "Update": {
            "TableName": table,
            "Key": to_attributes(count_key(change.tally, change.bucket, shard)),
            "UpdateExpression": f"SET expires_at = :exp ADD {adds}",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
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
        actions.extend(mark_put(self._table, move) for move in write.moves)
        reporters = {move.key.reporter for move in write.moves}
        if write.counts:
            (reporter,) = reporters  # one report, one reporter
            actions.extend(count_update(self._table, c, reporter) for c in write.counts)
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
    def look(
        self,
        marks: Sequence[MarkKey],
        keys: Sequence[ClusterKey],
        hold_batch: str | None,
        now: datetime,
    ) -> Seen:
        wanted = [mark_key(m) for m in marks] + [episode_key(k) for k in keys]
        if hold_batch is not None:
            wanted.append(hold_key(hold_batch))
        if not wanted:
            return Seen()
        rows = {
            (row["pk"], row["sk"]): row
            for row in batch_get(self._client, self._table, wanted, consistent=True)
        }

        def row(key: Mapping[str, str]) -> dict[str, Any] | None:
            return rows.get((key["pk"], key["sk"]))

        found = {m: r for m in marks if (r := row(mark_key(m))) is not None}
        moment = iso(now)
        return Seen(
            marks={m: Mark(parse_iso(r["last_at"]), r["ref"]) for m, r in found.items()},
            open_keys=frozenset(
                k for k in keys if (r := row(episode_key(k))) is not None and r["until"] > moment
            ),
            held=hold_batch is not None and row(hold_key(hold_batch)) is not None,
        )

    def count(self, windows: Mapping[Tally, Sequence[date]]) -> dict[Tally, dict[str, int]]:
        """One strongly consistent BatchGetItem over every shard of every bucket asked."""
        owner: dict[tuple[str, str], Tally] = {}
        for tally, buckets in windows.items():
            for bucket in buckets:
                for shard in range(count_shards(tally)):
                    key = count_key(tally, bucket, shard)
                    owner[(key["pk"], key["sk"])] = tally
        keys = [{"pk": pk, "sk": sk} for pk, sk in owner]
        sums: dict[Tally, dict[str, int]] = {tally: {} for tally in windows}
        for item in batch_get(self._client, self._table, keys, consistent=True):
            into = sums[owner[(item["pk"], item["sk"])]]
            for name, value in item.items():
                if name not in ("pk", "sk", "expires_at"):
                    into[name] = into.get(name, 0) + int(value)
        return sums

    def refs(self, key: ClusterKey, since: datetime, limit: int) -> tuple[str, ...]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "FilterExpression": "last_at >= :since",
            "ExpressionAttributeValues": {
                ":pk": {"S": mark_key(MarkKey(key, ""))["pk"]},
                ":since": {"S": iso(since)},
            },
            "ProjectionExpression": "#ref, last_at",
            "ExpressionAttributeNames": {"#ref": "ref"},
            "ConsistentRead": True,
        }
        found: list[tuple[str, str]] = []
        while True:
            page = self._client.query(**request)
            found.extend((i["last_at"]["S"], i["ref"]["S"]) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return tuple(ref for _, ref in sorted(found)[:limit])

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
