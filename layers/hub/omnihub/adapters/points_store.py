"""PointsStore on DynamoDB.

Keys:
- account       pk=ACCT#<member>  sk=ACCOUNT         due: DUE#account#<shard>, <due_at>#<member>
- ledger entry  pk=ACCT#<member>  sk=ENTRY#<cause>    ledger: LEDGER#<member>, <at>#<cause>
- redemption    pk=REDEEM#<id>    sk=REDEEM          (by its id alone: a retry after a merge)
- marker        pk=CAUSE#<key>    sk=CAUSE           (a once-only cause: an activity id)
- order         pk=ORDER#<order>  sk=ORDER           due: DUE#order#<shard>, <matures_at>#<order>
                                                     orders: HOLDER#<member>, <paid_at>#<order>
The due index is sparse (only what has a due time) and sharded so no partition takes the whole
night's writes; a daily run queries each shard up to now. The orders index lists the paid
orders a member holds now (merges and un-merges re-point them), newest first: the member's
file, and what an un-merge or erasure must look at, without a scan.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from omnihub.adapters.dynamo import (
    due_page,
    from_attributes,
    to_attributes,
    transact,
    versioned_put,
)
from omnihub.adapters.event_log import outbox_put
from omnihub.points.daily import shard_of
from omnihub.points.model import (
    Account,
    LedgerEntry,
    Line,
    Marker,
    Order,
    PointsChange,
    Redemption,
)
from omnihub.points.ports import DueKind


def account_item(account: Account) -> dict[str, Any]:
    item = {"pk": f"ACCT#{account.member_id}", "sk": "ACCOUNT", **asdict(account)}
    item["buckets"] = dict(account.buckets)
    item["spend"] = dict(account.spend)
    item["activity"] = dict(account.activity)
    item["departed"] = dict(account.departed)
    item["available"] = account.available  # for people reading the table; derived from buckets
    if account.due_at and not account.merged_into:
        item["due_pk"] = f"DUE#account#{shard_of(account.member_id)}"
        item["due_sk"] = f"{account.due_at}#{account.member_id}"
    return item


def _account_from(item: dict[str, Any]) -> Account:
    return Account(
        member_id=item["member_id"],
        version=item["version"],
        pending=item.get("pending", 0),
        debt=item.get("debt", 0),
        buckets=item.get("buckets", {}),
        spend=item.get("spend", {}),
        tier=item.get("tier", "silver"),
        activity=item.get("activity", {}),
        expiry_notified=item.get("expiry_notified", ""),
        merged_into=item.get("merged_into"),
        due_at=item.get("due_at"),
        departed=item.get("departed", {}),
    )


def order_item(order: Order) -> dict[str, Any]:
    item = {"pk": f"ORDER#{order.order_id}", "sk": "ORDER", **asdict(order)}
    item["lines"] = {k: asdict(v) for k, v in order.lines.items()}
    item["refunds"] = {k: dict(v) for k, v in order.refunds.items()}
    item["rejected"] = dict(order.rejected)
    if order.matures_at and not order.matured:
        item["due_pk"] = f"DUE#order#{shard_of(order.order_id)}"
        item["due_sk"] = f"{order.matures_at}#{order.order_id}"
    if order.member_id and order.paid_at:
        item["holder_pk"] = f"HOLDER#{order.member_id}"
        item["holder_sk"] = f"{order.paid_at}#{order.order_id}"
    return item


def _order_from(item: dict[str, Any]) -> Order:
    fields = {
        k: item.get(k)
        for k in (
            "member_id",
            "channel",
            "paid_at",
            "expiry_month",
            "spend_month",
            "completed_at",
            "matures_at",
            "via",
            "credited",
        )
    }
    return Order(
        order_id=item["order_id"],
        version=item["version"],
        matured=bool(item.get("matured")),
        lines={k: Line(**v) for k, v in item.get("lines", {}).items()},
        refunds=item.get("refunds", {}),
        rejected=item.get("rejected", {}),
        **fields,
    )


def _entry_item(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "pk": f"ACCT#{entry.member_id}",
        "sk": f"ENTRY#{entry.cause}",
        "gsi1pk": f"LEDGER#{entry.member_id}",
        "gsi1sk": f"{entry.at}#{entry.cause}",
        **asdict(entry),
    }


def _new_put(table: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": table,
            "Item": to_attributes(item),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


class DynamoPointsStore:
    def __init__(self, client: Any, table: str, event_log_table: str) -> None:
        self._client = client
        self._table = table
        self._event_log_table = event_log_table

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table, Key=to_attributes({"pk": pk, "sk": sk}), ConsistentRead=True
        )
        return from_attributes(response["Item"]) if "Item" in response else None

    def account(self, member_id: str) -> Account:
        item = self._get(f"ACCT#{member_id}", "ACCOUNT")
        return _account_from(item) if item else Account(member_id=member_id)

    def order(self, order_id: str) -> Order | None:
        item = self._get(f"ORDER#{order_id}", "ORDER")
        return _order_from(item) if item else None

    def redemption(self, redemption_id: str) -> Redemption | None:
        item = self._get(f"REDEEM#{redemption_id}", "REDEEM")
        if item is None:
            return None
        fields = Redemption.__dataclass_fields__
        return Redemption(**{k: v for k, v in item.items() if k in fields})

    def marker(self, key: str) -> Marker | None:
        item = self._get(f"CAUSE#{key}", "CAUSE")
        return Marker(item["key"], item["member_id"], item["at"]) if item else None

    def commit(self, change: PointsChange) -> None:
        table = self._table
        actions = [versioned_put(table, account_item(a), v) for a, v in change.accounts]
        actions += [versioned_put(table, order_item(o), v) for o, v in change.orders]
        first_marker = len(actions)
        actions += [_new_put(table, _entry_item(e)) for e in change.entries]
        actions += [
            _new_put(table, {"pk": f"REDEEM#{r.redemption_id}", "sk": "REDEEM", **asdict(r)})
            for r in change.redemptions
        ]
        actions += [
            _new_put(table, {"pk": f"CAUSE#{m.key}", "sk": "CAUSE", **asdict(m)})
            for m in change.markers
        ]
        markers = range(first_marker, len(actions))
        actions += [outbox_put(self._event_log_table, e) for e in change.events]
        transact(self._client, actions, idempotency_markers=markers)

    def ledger(self, member_id: str, limit: int) -> list[LedgerEntry]:
        response = self._client.query(
            TableName=self._table,
            IndexName="ledger",
            KeyConditionExpression="gsi1pk = :m",
            ExpressionAttributeValues={":m": {"S": f"LEDGER#{member_id}"}},
            ScanIndexForward=False,
            Limit=limit,
        )
        fields = LedgerEntry.__dataclass_fields__
        return [
            LedgerEntry(**{k: v for k, v in from_attributes(i).items() if k in fields})
            for i in response.get("Items", [])
        ]

    def orders_of(
        self, member_id: str, limit: int, after: str | None = None
    ) -> tuple[list[Order], str | None]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "orders",
            "KeyConditionExpression": "holder_pk = :h",
            "ExpressionAttributeValues": {":h": {"S": f"HOLDER#{member_id}"}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if after:
            request["ExclusiveStartKey"] = json.loads(after)
        response = self._client.query(**request)
        orders = [_order_from(from_attributes(i)) for i in response.get("Items", [])]
        cursor = response.get("LastEvaluatedKey")
        return orders, json.dumps(cursor) if cursor else None

    def due(
        self, kind: DueKind, shard: int, until: str, after: str | None, limit: int
    ) -> tuple[Sequence[str], str | None]:
        return due_page(self._client, self._table, f"DUE#{kind}#{shard}", until, after, limit)
