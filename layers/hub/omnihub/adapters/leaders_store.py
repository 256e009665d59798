"""LeadersStore on DynamoDB, and the leaders capability's wiring (its table, scheme, work queue).

Keys (one table):
- leader profile  pk=LEADER#<leader>            sk=PROFILE      work: TIERED#<shard> (not rookie)
- account         pk=LEADER#<leader>            sk=ACCOUNT
- leader-day      pk=LEADER#<leader>            sk=DAY#<date>   work: ACTIVE#<date>#<shard> (until
                                                                settled: open or closing)
- price mark      pk=LEADER#<leader>            sk=PRICE#<order> (priced before its month's tier)
- withdrawal      pk=LEADER#<leader>            sk=WD#<id>      lists: WDS#<leader>, <at>#<id>
- ended payout    pk=LPAYOUT#<leader>#<wd id>   sk=<payout id>  (written once)
- run started     pk=LRUN#<period>#<shard>      sk=RUN          (a day's T+1 run: no new leader-day
                                                                of the shard; a month's review: no
                                                                rating of the month)
- pending shard   pk=LPEND#<leader>#<n>         sk=PENDING      (n < 8; ADD only)
- binding         pk=MEMBER#<member>            sk=BINDING      lists: BOUND#<leader>, <at>#<member>
- order           pk=CORDER#<order>             sk=ORDER        work: AWAIT#<leader> (waiting)
- day entry       pk=LDAY#<leader>#<date>       sk=ENTRY#<order>
- movement        pk=LDAY#<leader>#<date>       sk=MOVE#<cause>
- month marker    pk=MACTIVE#<month>#<shard>    sk=<leader>     (a leader-day of the month opened)
- rating          pk=LNPS#<leader>#<month>      sk=<cause>
`work` (KEYS_ONLY) and `lists` (ALL) are sparse indexes. A leader-day's entries and movements
share one partition, read in one strongly consistent Query when the day is settled. Placeholder
orders (a completion or refund of an order that counts for no leader) expire by TTL. A booking's
transaction checks its leader-day is still open (ConditionCheck on the day's `status`), or
creates the day with a ConditionCheck that its run has not started; the run closes a day with
one conditional UpdateItem before reading it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict
from functools import cache
from typing import Any

from botocore.exceptions import ClientError

from omnihub import wiring
from omnihub.adapters.aws import client
from omnihub.adapters.dynamo import (
    MAX_TRANSACTION_ITEMS,
    batch_get,
    from_attributes,
    to_attributes,
    transact,
)
from omnihub.adapters.event_log import outbox_put
from omnihub.leaders.days import ACTIVE_SHARDS, PENDING_SHARDS, shard_of
from omnihub.leaders.model import (
    Account,
    Binding,
    Bond,
    CommissionLine,
    CommissionOrder,
    DayEntry,
    EndedPayout,
    Leader,
    LeaderDay,
    LeadersChange,
    Movement,
    Payout,
    PriceMark,
    Rating,
    Statement,
    TierSpell,
    Withdrawal,
)
from omnihub.leaders.scheme import CommissionScheme
from omnihub.settings import need, settings

Page = tuple[Sequence[str], str | None]


# -- items ---------------------------------------------------------------------------------------
def _fields(cls: type, item: dict[str, Any]) -> dict[str, Any]:
    """The item's values of a dataclass's fields; absent ones (None is not stored) take their
    defaults."""
    names: dict[str, Any] = cls.__dataclass_fields__  # type: ignore[attr-defined]
    return {k: item[k] for k in names if k in item}


def _leader_item(x: Leader) -> dict[str, Any]:
    item = {"pk": f"LEADER#{x.leader_id}", "sk": "PROFILE", **asdict(x)}
    item["review"] = dict(x.review)
    item["list_pk"] = f"LEADERS_OF#{x.member_id}"  # erasure finds a member's leader profile
    item["list_sk"] = f"{x.registered_at}#{x.leader_id}"
    if x.tier != "rookie":
        item["work_pk"] = f"TIERED#{shard_of(x.leader_id, ACTIVE_SHARDS)}"
        item["work_sk"] = x.leader_id
    return item


def _leader_from(i: dict[str, Any]) -> Leader:
    return Leader(
        leader_id=i["leader_id"],
        name=i["name"],
        community=i["community"],
        member_id=i["member_id"],
        registered_at=i["registered_at"],
        updated_at=i["updated_at"],
        version=i["version"],
        tier=i["tier"],
        tiers=tuple(TierSpell(**t) for t in i.get("tiers", [])),
        review=i.get("review", {}),
        tier_month=i.get("tier_month"),
    )


def _binding_item(x: Binding) -> dict[str, Any]:
    item = {"pk": f"MEMBER#{x.member_id}", "sk": "BINDING", **asdict(x)}
    if x.moved_to is None:
        item["list_pk"] = f"BOUND#{x.leader_id}"
        item["list_sk"] = f"{x.bound_at}#{x.member_id}"
    return item


def _binding_from(i: dict[str, Any]) -> Binding:
    fields = _fields(Binding, i)
    fields["others"] = tuple(Bond(**b) for b in i.get("others", []))
    return Binding(**fields)


def _account_item(x: Account) -> dict[str, Any]:
    return {"pk": f"LEADER#{x.leader_id}", "sk": "ACCOUNT", **asdict(x)}


def _order_item(x: CommissionOrder) -> dict[str, Any]:
    item = {"pk": f"CORDER#{x.order_id}", "sk": "ORDER", **asdict(x)}
    item["lines"] = {k: asdict(v) for k, v in x.lines.items()}
    item["refunds"] = {k: dict(v) for k, v in x.refunds.items()}
    if x.awaiting_leader:
        item["work_pk"] = f"AWAIT#{x.awaiting_leader}"
        item["work_sk"] = x.order_id
    return item


def _order_from(i: dict[str, Any]) -> CommissionOrder:
    fields = _fields(CommissionOrder, i)
    fields["lines"] = {k: CommissionLine(**v) for k, v in i.get("lines", {}).items()}
    fields["refunds"] = i.get("refunds", {})
    fields["returning"] = bool(i.get("returning"))
    fields["reversed_fen"] = i.get("reversed_fen", 0)
    fields["rejected"] = tuple(i.get("rejected", []))
    return CommissionOrder(**fields)


def _entry_item(x: DayEntry) -> dict[str, Any]:
    item = {"pk": f"LDAY#{x.leader_id}#{x.day}", "sk": f"ENTRY#{x.order_id}", **asdict(x)}
    item["lines"] = dict(x.lines)
    return item


def _entry_from(i: dict[str, Any]) -> DayEntry:
    fields = _fields(DayEntry, i)
    fields["returning"] = bool(fields.get("returning"))
    fields["adjustment"] = bool(fields.get("adjustment"))
    return DayEntry(**fields)


def _move_item(x: Movement) -> dict[str, Any]:
    return {"pk": f"LDAY#{x.leader_id}#{x.day}", "sk": f"MOVE#{x.cause}", **asdict(x)}


def _move_from(i: dict[str, Any]) -> Movement:
    return Movement(**_fields(Movement, i))


def _day_item(x: LeaderDay) -> dict[str, Any]:
    item = {"pk": f"LEADER#{x.leader_id}", "sk": f"DAY#{x.day}", **asdict(x)}
    if x.status != "settled":  # the run finds it until it is settled
        item["work_pk"] = f"ACTIVE#{x.day}#{shard_of(x.leader_id, ACTIVE_SHARDS)}"
        item["work_sk"] = x.leader_id
    return item


def _day_from(i: dict[str, Any]) -> LeaderDay:
    statement = i.get("statement")
    return LeaderDay(
        leader_id=i["leader_id"],
        day=i["day"],
        version=i["version"],
        status=i["status"],
        opened_at=i.get("opened_at", ""),
        voids=i.get("voids", 0),
        statement=Statement(**statement) if statement else None,
    )


def _withdrawal_item(x: Withdrawal) -> dict[str, Any]:
    item = {"pk": f"LEADER#{x.leader_id}", "sk": f"WD#{x.withdrawal_id}", **asdict(x)}
    del item["ended"]  # each ended payout is its own item
    item["list_pk"] = f"WDS#{x.leader_id}"
    item["list_sk"] = f"{x.requested_at}#{x.withdrawal_id}"
    return item


def _withdrawal_from(i: dict[str, Any]) -> Withdrawal:
    return Withdrawal(**_fields(Withdrawal, i))


def _ended_item(x: EndedPayout) -> dict[str, Any]:
    return {
        "pk": f"LPAYOUT#{x.leader_id}#{x.withdrawal_id}",
        "sk": x.payout.payout_id,
        **asdict(x.payout),
    }


def _payout_from(i: dict[str, Any]) -> Payout:
    return Payout(**_fields(Payout, i))


def _mark_key(leader_id: str, order_id: str) -> dict[str, Any]:
    return {"pk": f"LEADER#{leader_id}", "sk": f"PRICE#{order_id}"}


def _run_key(period: str, shard: int) -> dict[str, Any]:
    return {"pk": f"LRUN#{period}#{shard}", "sk": "RUN"}


def _check(table: str, key: dict[str, Any], condition: str, **extra: Any) -> dict[str, Any]:
    """A transaction ConditionCheck on an item the change does not write."""
    check: dict[str, Any] = {
        "TableName": table,
        "Key": to_attributes(key),
        "ConditionExpression": condition,
        **extra,
    }
    return {"ConditionCheck": check}


def _version_is(version: int) -> dict[str, Any]:
    if version == 0:
        return {}
    return {"ExpressionAttributeValues": {":v": {"N": str(version)}}}


def _rating_item(x: Rating) -> dict[str, Any]:
    return {"pk": f"LNPS#{x.leader_id}#{x.month}", "sk": x.cause, **asdict(x)}


def _versioned_put(table: str, item: dict[str, Any], expected: int) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": table, "Item": to_attributes(item)}
    if expected == 0:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "version = :expected"
        put["ExpressionAttributeValues"] = {":expected": {"N": str(expected)}}
    return {"Put": put}


def _plain_put(table: str, item: dict[str, Any]) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": to_attributes(item)}}


def _cursor(response: dict[str, Any]) -> str | None:
    key = response.get("LastEvaluatedKey")
    return json.dumps(key) if key else None


class DynamoLeadersStore:
    def __init__(self, client: Any, table: str, event_log_table: str) -> None:
        self._client = client
        self._table = table
        self._event_log_table = event_log_table

    # -- reads -----------------------------------------------------------------------------------
    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table, Key=to_attributes({"pk": pk, "sk": sk}), ConsistentRead=True
        )
        return from_attributes(response["Item"]) if "Item" in response else None

    def _query_all(self, **request: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            response = self._client.query(TableName=self._table, **request)
            items.extend(from_attributes(i) for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _page(self, pk_name: str, pk: str, after: str | None, limit: int, **extra: Any) -> Page:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": f"{pk_name} = :p",
            "ExpressionAttributeValues": {":p": {"S": pk}},
            "Limit": limit,
            **extra,
        }
        if after:
            request["ExclusiveStartKey"] = json.loads(after)
        response = self._client.query(**request)
        key = "work_sk" if pk_name == "work_pk" else "sk"
        ids = [i[key]["S"] for i in response.get("Items", [])]
        return ids, _cursor(response)

    def leader(self, leader_id: str) -> Leader | None:
        item = self._get(f"LEADER#{leader_id}", "PROFILE")
        return _leader_from(item) if item else None

    def binding(self, member_id: str) -> Binding | None:
        item = self._get(f"MEMBER#{member_id}", "BINDING")
        return _binding_from(item) if item else None

    def account(self, leader_id: str) -> Account:
        item = self._get(f"LEADER#{leader_id}", "ACCOUNT")
        if item is None:
            return Account(leader_id=leader_id)
        return Account(**_fields(Account, item))

    def order(self, order_id: str) -> CommissionOrder | None:
        item = self._get(f"CORDER#{order_id}", "ORDER")
        return _order_from(item) if item else None

    def day(self, leader_id: str, day: str) -> LeaderDay | None:
        item = self._get(f"LEADER#{leader_id}", f"DAY#{day}")
        return _day_from(item) if item else None

    def close_day(self, leader_id: str, day: str) -> LeaderDay | None:
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=to_attributes({"pk": f"LEADER#{leader_id}", "sk": f"DAY#{day}"}),
                UpdateExpression="SET #s = :closing ADD version :one",
                ConditionExpression="#s = :open",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":closing": {"S": "closing"},
                    ":open": {"S": "open"},
                    ":one": {"N": "1"},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return self.day(leader_id, day)  # closing or settled already, or no such day
        return _day_from(from_attributes(response["Attributes"]))

    def run_started(self, period: str, shard: int) -> bool:
        key = _run_key(period, shard)
        return self._get(key["pk"], key["sk"]) is not None

    def start_run(self, period: str, shard: int, at: str) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_attributes({**_run_key(period, shard), "period": period, "at": at}),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def entry(self, leader_id: str, day: str, order_id: str) -> DayEntry | None:
        item = self._get(f"LDAY#{leader_id}#{day}", f"ENTRY#{order_id}")
        return _entry_from(item) if item else None

    def day_contents(self, leader_id: str, day: str) -> tuple[list[DayEntry], list[Movement]]:
        items = self._query_all(
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": f"LDAY#{leader_id}#{day}"}},
            ConsistentRead=True,
        )
        entries = [_entry_from(i) for i in items if i["sk"].startswith("ENTRY#")]
        moves = [_move_from(i) for i in items if i["sk"].startswith("MOVE#")]
        return entries, moves

    def days(self, leader_id: str, first: str, last: str) -> list[LeaderDay]:
        items = self._query_all(
            KeyConditionExpression="pk = :p AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues={
                ":p": {"S": f"LEADER#{leader_id}"},
                ":first": {"S": f"DAY#{first}"},
                ":last": {"S": f"DAY#{last}"},
            },
            ConsistentRead=True,
        )
        return [_day_from(i) for i in items]

    def pending_fen(self, leader_id: str) -> int:
        keys = [{"pk": f"LPEND#{leader_id}#{n}", "sk": "PENDING"} for n in range(PENDING_SHARDS)]
        return sum(int(i.get("fen", 0)) for i in batch_get(self._client, self._table, keys))

    def withdrawal(self, leader_id: str, withdrawal_id: str) -> Withdrawal | None:
        item = self._get(f"LEADER#{leader_id}", f"WD#{withdrawal_id}")
        return _withdrawal_from(item) if item else None

    def ended_payout(self, leader_id: str, withdrawal_id: str, payout_id: str) -> Payout | None:
        item = self._get(f"LPAYOUT#{leader_id}#{withdrawal_id}", payout_id)
        return _payout_from(item) if item else None

    def ended_payouts(self, leader_id: str, withdrawal_id: str) -> list[Payout]:
        items = self._query_all(
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": f"LPAYOUT#{leader_id}#{withdrawal_id}"}},
            ConsistentRead=True,
        )
        return [_payout_from(i) for i in items]

    def price_marks(self, leader_id: str) -> list[PriceMark]:
        items = self._query_all(
            KeyConditionExpression="pk = :p AND begins_with(sk, :marks)",
            ExpressionAttributeValues={
                ":p": {"S": f"LEADER#{leader_id}"},
                ":marks": {"S": "PRICE#"},
            },
            ConsistentRead=True,
        )
        return [PriceMark(**_fields(PriceMark, i)) for i in items]

    def _newest(self, list_pk: str, limit: int) -> list[dict[str, Any]]:
        response = self._client.query(
            TableName=self._table,
            IndexName="lists",
            KeyConditionExpression="list_pk = :p",
            ExpressionAttributeValues={":p": {"S": list_pk}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [from_attributes(i) for i in response.get("Items", [])]

    def leaders_of(self, member_id: str) -> list[Leader]:
        return [_leader_from(i) for i in self._newest(f"LEADERS_OF#{member_id}", 100)]

    def withdrawals(self, leader_id: str, limit: int) -> list[Withdrawal]:
        return [_withdrawal_from(i) for i in self._newest(f"WDS#{leader_id}", limit)]

    def bound_members(self, leader_id: str, limit: int) -> list[Binding]:
        return [_binding_from(i) for i in self._newest(f"BOUND#{leader_id}", limit)]

    def rating(self, leader_id: str, month: str, cause: str) -> Rating | None:
        item = self._get(f"LNPS#{leader_id}#{month}", cause)
        return Rating(**_fields(Rating, item)) if item else None

    def ratings(self, leader_id: str, month: str) -> list[Rating]:
        items = self._query_all(
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": f"LNPS#{leader_id}#{month}"}},
            ConsistentRead=True,
        )
        return [Rating(**{k: i[k] for k in Rating.__dataclass_fields__}) for i in items]

    def open_leaders(self, day: str, shard: int, after: str | None, limit: int) -> Page:
        return self._page("work_pk", f"ACTIVE#{day}#{shard}", after, limit, IndexName="work")

    def month_leaders(self, month: str, shard: int, after: str | None, limit: int) -> Page:
        return self._page("pk", f"MACTIVE#{month}#{shard}", after, limit, ConsistentRead=True)

    def tiered_leaders(self, shard: int, after: str | None, limit: int) -> Page:
        return self._page("work_pk", f"TIERED#{shard}", after, limit, IndexName="work")

    def awaiting_orders(self, leader_id: str) -> list[str]:
        items = self._query_all(
            IndexName="work",
            KeyConditionExpression="work_pk = :p",
            ExpressionAttributeValues={":p": {"S": f"AWAIT#{leader_id}"}},
        )
        return [i["work_sk"] for i in items]

    # -- the unit of work ------------------------------------------------------------------------
    def commit(self, change: LeadersChange) -> None:
        t = self._table
        actions = [_versioned_put(t, _withdrawal_item(w), v) for w, v in change.withdrawals]
        markers = [n for n, (_, v) in enumerate(change.withdrawals) if v == 0]
        actions += [_versioned_put(t, _leader_item(x), v) for x, v in change.leaders]
        actions += [_versioned_put(t, _binding_item(x), v) for x, v in change.bindings]
        actions += [
            {
                "Delete": {
                    "TableName": t,
                    "Key": to_attributes({"pk": f"MEMBER#{member_id}", "sk": "BINDING"}),
                    "ConditionExpression": "version = :expected",
                    "ExpressionAttributeValues": {":expected": {"N": str(v)}},
                }
            }
            for member_id, v in change.unbound
        ]
        actions += [_versioned_put(t, _account_item(x), v) for x, v in change.accounts]
        actions += [_versioned_put(t, _order_item(x), v) for x, v in change.orders]
        actions += [_versioned_put(t, _entry_item(x), v) for x, v in change.entries]
        actions += [_versioned_put(t, _day_item(x), v) for x, v in change.days]
        actions += [
            {
                "Put": {
                    "TableName": t,
                    "Item": to_attributes(_move_item(m)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for m in change.movements
        ]
        actions += [
            {
                "Update": {
                    "TableName": t,
                    "Key": to_attributes({"pk": f"LPEND#{leader}#{shard}", "sk": "PENDING"}),
                    "UpdateExpression": "ADD fen :d",
                    "ExpressionAttributeValues": {":d": {"N": str(fen)}},
                }
            }
            for (leader, shard), fen in sorted(change.pending.items())
            if fen
        ]
        actions += [
            _plain_put(
                t, {"pk": f"MACTIVE#{month}#{shard_of(leader, ACTIVE_SHARDS)}", "sk": leader}
            )
            for leader, month in dict.fromkeys(change.month_active)
        ]
        actions += [_plain_put(t, _rating_item(r)) for r in change.ratings]
        actions += [
            {
                "Put": {
                    "TableName": t,
                    "Item": to_attributes(_ended_item(e)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for e in change.ended_payouts
        ]
        actions += [
            _plain_put(t, {**_mark_key(m.leader_id, m.order_id), **asdict(m)}) for m in change.marks
        ]
        actions += [
            {"Delete": {"TableName": t, "Key": to_attributes(_mark_key(lid, oid))}}
            for lid, oid in change.unmarked
        ]
        actions += self._conditions(change)
        actions += [outbox_put(self._event_log_table, e) for e in change.events]
        if len(actions) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"{len(actions)} actions do not fit one transaction")
        transact(self._client, actions, idempotency_markers=markers)

    def _conditions(self, change: LeadersChange) -> list[dict[str, Any]]:
        """ConditionChecks: new leader-days before their run, days still open, accounts and
        leaders unchanged since read (none on an item the change writes: its own condition is
        stronger, and a transaction touches an item once)."""
        t = self._table
        runs = sorted(
            {(d.day, shard_of(d.leader_id, ACTIVE_SHARDS)) for d, v in change.days if v == 0}
            | {(r.month, shard_of(r.leader_id, ACTIVE_SHARDS)) for r in change.ratings}
        )
        checks = [
            _check(t, _run_key(day, shard), "attribute_not_exists(pk)") for day, shard in runs
        ]
        written_days = {(d.leader_id, d.day) for d, _ in change.days}
        checks += [
            _check(
                t,
                {"pk": f"LEADER#{lid}", "sk": f"DAY#{day}"},
                "#s = :open",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":open": {"S": "open"}},
            )
            for lid, day in change.open_days
            if (lid, day) not in written_days
        ]
        written_accounts = {a.leader_id for a, _ in change.accounts}
        checks += [
            _check(
                t,
                {"pk": f"LEADER#{lid}", "sk": "ACCOUNT"},
                "attribute_not_exists(pk)" if v == 0 else "version = :v",
                **_version_is(v),
            )
            for lid, v in change.seen_accounts
            if lid not in written_accounts
        ]
        written_leaders = {x.leader_id for x, _ in change.leaders}
        checks += [
            _check(
                t,
                {"pk": f"LEADER#{lid}", "sk": "PROFILE"},
                "attribute_not_exists(pk)" if v == 0 else "version = :v",
                **_version_is(v),
            )
            for lid, v in change.seen_leaders
            if lid not in written_leaders
        ]
        return checks


# -- wiring (the capability's settings are set only on its functions) ----------------------------
def leaders_store() -> DynamoLeadersStore:
    table = need(os.environ.get("LEADERS_TABLE"), "LEADERS_TABLE")
    return _store(table, settings().event_log_table)


@cache
def _store(table: str, event_log_table: str) -> DynamoLeadersStore:
    return DynamoLeadersStore(client("dynamodb"), table, event_log_table)


def commission_scheme() -> CommissionScheme:
    """The scheme from SSM over its defaults (cached five minutes), so a rate changes without
    a deploy; a broken value keeps the last good one."""
    return wiring.rule_sets().value(settings().parameter_path, "leaders/scheme", CommissionScheme)
