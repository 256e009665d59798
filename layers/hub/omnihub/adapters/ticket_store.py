"""TicketStore on DynamoDB.

Keys:
- ticket   pk=TICKET#<id>  sk=TICKET   member index: MEMBER#<member>, <created_at>#<id>
                                       due index (sparse): DUE#<shard>, <next_check>#<id>
- counters pk=STATS#<day>  sk=<channel>#<priority>   (ADD in the transition's transaction)

A write that puts a ticket on a member checks, in the same transaction, that the member's item in
the members table is neither merged nor erased (TicketChange.live_member) and that the claim of
the identity that brought it still names that member or is gone (TicketChange.lineage).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from omnihub.adapters.dynamo import (
    add_counters,
    due_page,
    from_attributes,
    to_attributes,
    transact,
    versioned_put,
)
from omnihub.adapters.event_log import outbox_put
from omnihub.adapters.member_checks import lineage_still_with, still_live
from omnihub.tickets.model import Target, Ticket, Transition
from omnihub.tickets.service import TicketChange, shard_of


def ticket_item(ticket: Ticket) -> dict[str, Any]:
    item = {"pk": f"TICKET#{ticket.ticket_id}", "sk": "TICKET", **asdict(ticket)}
    item["topics"] = list(ticket.topics)
    if ticket.member_id:
        item["gsi1pk"] = f"MEMBER#{ticket.member_id}"
        item["gsi1sk"] = f"{ticket.created_at}#{ticket.ticket_id}"
    check = ticket.next_check()
    if check:
        item["due_pk"] = f"DUE#{shard_of(ticket.ticket_id)}"
        item["due_sk"] = f"{check}#{ticket.ticket_id}"
    return item


def _ticket(item: dict[str, Any]) -> Ticket:
    fields = {k: v for k, v in item.items() if k in Ticket.__dataclass_fields__}
    fields["topics"] = tuple(item.get("topics", []))
    fields["targets"] = tuple(_target(t) for t in item.get("targets", []))
    fields["history"] = tuple(Transition(**h) for h in item.get("history", []))
    return Ticket(**fields)


def _target(row: dict[str, Any]) -> Target:
    """A stored target; one written before initial handling had its own action (kind
    "response") is read as what it is, so a second `respond` cannot meet it."""
    if row.get("name") == "initial_handling" and row.get("kind") == "response":
        row = {**row, "kind": "handling"}
    return Target(**row)


class DynamoTicketStore:
    def __init__(self, client: Any, table: str, event_log_table: str, members_table: str) -> None:
        self._client = client
        self._table = table
        self._event_log_table = event_log_table
        self._members_table = members_table

    def get(self, ticket_id: str) -> Ticket | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=to_attributes({"pk": f"TICKET#{ticket_id}", "sk": "TICKET"}),
            ConsistentRead=True,
        )
        return _ticket(from_attributes(response["Item"])) if "Item" in response else None

    def commit(self, change: TicketChange) -> None:
        actions = [versioned_put(self._table, ticket_item(change.ticket), change.expected_version)]
        actions += [
            add_counters(
                self._table,
                {"pk": f"STATS#{d.day}", "sk": f"{d.channel}#{d.priority}"},
                d.counters,
            )
            for d in change.stats
        ]
        actions += [outbox_put(self._event_log_table, e) for e in change.events]
        if change.live_member:
            actions.append(still_live(self._members_table, change.live_member))
            if change.lineage:
                actions.append(
                    lineage_still_with(self._members_table, change.lineage, change.live_member)
                )
        transact(self._client, actions)

    def by_member(self, member_id: str, limit: int) -> list[Ticket]:
        """The member's newest `limit` tickets (following pages: an item holds its history)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "member",
            "KeyConditionExpression": "gsi1pk = :m",
            "ExpressionAttributeValues": {":m": {"S": f"MEMBER#{member_id}"}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        found: list[Ticket] = []
        while True:
            response = self._client.query(**request)
            found += [_ticket(from_attributes(i)) for i in response.get("Items", [])]
            if len(found) >= limit or "LastEvaluatedKey" not in response:
                return found[:limit]
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
            request["Limit"] = limit - len(found)

    def due(
        self, shard: int, until: str, after: str | None, limit: int
    ) -> tuple[Sequence[str], str | None]:
        return due_page(self._client, self._table, f"DUE#{shard}", until, after, limit)

    def stats(self, days: Sequence[str]) -> list[dict[str, Any]]:
        rows = []
        for day in days:
            response = self._client.query(
                TableName=self._table,
                KeyConditionExpression="pk = :d",
                ExpressionAttributeValues={":d": {"S": f"STATS#{day}"}},
            )
            for item in response.get("Items", []):
                row = from_attributes(item)
                channel, priority = row.pop("sk").split("#", 1)
                row.pop("pk")
                rows.append({"day": day, "channel": channel, "priority": priority, **row})
        return rows
