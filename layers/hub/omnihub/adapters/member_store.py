"""MemberStore on DynamoDB: members, identity claims and review cases in one table.

Keys:
- member        pk=MEMBER#<id>              sk=MEMBER   (versioned: every write is conditioned)
- claim         pk=IDENTITY#<type>#<key>    sk=CLAIM    (the lookup index: identity -> member)
- review case   pk=REVIEW#<id>              sk=REVIEW   gsi1pk=REVIEW#open, gsi1sk=<opened_at>
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from omnihub.adapters.dynamo import batch_get, from_attributes, to_attributes, transact
from omnihub.adapters.event_log import outbox_put
from omnihub.identity.model import (
    Claim,
    HeldIdentity,
    IdentityChange,
    IdentityKey,
    Member,
    ProfileValue,
    ReviewCase,
)

CLAIM_SK = "CLAIM"
MEMBER_SK = "MEMBER"
REVIEW_SK = "REVIEW"
OPEN_REVIEWS = "REVIEW#open"


def member_key(member_id: str) -> dict[str, str]:
    return {"pk": f"MEMBER#{member_id}", "sk": MEMBER_SK}


def claim_key(ref: IdentityKey) -> dict[str, str]:
    return {"pk": f"IDENTITY#{ref[0]}#{ref[1]}", "sk": CLAIM_SK}


def member_to_item(member: Member) -> dict[str, Any]:
    return {
        **member_key(member.member_id),
        "member_id": member.member_id,
        "created_at": member.created_at,
        "version": member.version,
        "identities": [i.__dict__ for i in member.identities],
        "profile": {name: value.__dict__ for name, value in member.profile.items()},
        "channels": sorted(member.channels),
        "merged_into": member.merged_into,
        "erased_at": member.erased_at,
        "split_from": member.split_from,
        "no_merge_with": sorted(member.no_merge_with),
    }


def member_from_item(item: dict[str, Any]) -> Member:
    return Member(
        member_id=item["member_id"],
        created_at=item["created_at"],
        version=item["version"],
        identities=tuple(HeldIdentity(**i) for i in item.get("identities", [])),
        profile={k: ProfileValue(**v) for k, v in item.get("profile", {}).items()},
        channels=frozenset(item.get("channels", [])),
        merged_into=item.get("merged_into"),
        erased_at=item.get("erased_at"),
        split_from=item.get("split_from"),
        no_merge_with=frozenset(item.get("no_merge_with", [])),
    )


class DynamoMemberStore:
    def __init__(self, client: Any, table: str, event_log_table: str) -> None:
        self._client = client
        self._table = table
        self._event_log_table = event_log_table

    def claims(
        self, refs: Sequence[IdentityKey], *, consistent: bool = False
    ) -> dict[IdentityKey, str]:
        keys = [claim_key(ref) for ref in dict.fromkeys(refs)]
        rows = batch_get(self._client, self._table, keys, consistent=consistent)
        return {(row["type"], row["key"]): row["member_id"] for row in rows}

    def members(
        self, member_ids: Collection[str], *, consistent: bool = False
    ) -> dict[str, Member]:
        keys = [member_key(m) for m in dict.fromkeys(member_ids)]
        return {
            row["member_id"]: member_from_item(row)
            for row in batch_get(self._client, self._table, keys, consistent=consistent)
        }

    def commit(self, change: IdentityChange) -> None:
        transact(self._client, self._actions(change))

    def open_review_cases(self, limit: int) -> list[ReviewCase]:
        response = self._client.query(
            TableName=self._table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :open",
            ExpressionAttributeValues={":open": {"S": OPEN_REVIEWS}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [_case_from_item(from_attributes(i)) for i in response.get("Items", [])]

    def _actions(self, change: IdentityChange) -> list[dict[str, Any]]:
        table = self._table
        actions: list[dict[str, Any]] = []
        for member in change.create:
            actions.append(
                {
                    "Put": {
                        "TableName": table,
                        "Item": to_attributes(member_to_item(member)),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        for member, expected in change.update:
            actions.append(
                {
                    "Put": {
                        "TableName": table,
                        "Item": to_attributes(member_to_item(member)),
                        "ConditionExpression": "version = :expected",
                        "ExpressionAttributeValues": {":expected": {"N": str(expected)}},
                    }
                }
            )
        for claim in change.claim:
            actions.append(
                {
                    "Put": {
                        "TableName": table,
                        "Item": to_attributes(_claim_item(claim)),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        for claim, previous_owner in change.move:
            actions.append(
                {
                    "Put": {
                        "TableName": table,
                        "Item": to_attributes(_claim_item(claim)),
                        "ConditionExpression": "member_id = :owner",
                        "ExpressionAttributeValues": {":owner": {"S": previous_owner}},
                    }
                }
            )
        for claim in change.release:
            actions.append(
                {
                    "Delete": {
                        "TableName": table,
                        "Key": to_attributes(claim_key(claim.ref)),
                        "ConditionExpression": "member_id = :owner",
                        "ExpressionAttributeValues": {":owner": {"S": claim.member_id}},
                    }
                }
            )
        actions.extend(_case_upsert(table, case) for case in change.review_cases)
        actions.extend(outbox_put(self._event_log_table, event) for event in change.events)
        return actions


def _claim_item(claim: Claim) -> dict[str, Any]:
    return {
        **claim_key(claim.ref),
        "type": claim.type,
        "key": claim.key,
        "member_id": claim.member_id,
    }


def _case_upsert(table: str, case: ReviewCase) -> dict[str, Any]:
    """Opening a case twice (a replayed event) keeps the first; a decided case stays decided."""
    fields = {
        "case_id": case.case_id,
        "reason": case.reason,
        "member_ids": list(case.member_ids),
        "identity_types": list(case.identity_types),
        "causing_event_id": case.causing_event_id,
        "opened_at": case.opened_at,
        "status": case.status,
        "gsi1pk": OPEN_REVIEWS,
        "gsi1sk": f"{case.opened_at}#{case.case_id}",
    }
    names = {f"#{i}": name for i, name in enumerate(fields)}
    values = to_attributes({f":{i}": value for i, value in enumerate(fields.values())})
    sets = ", ".join(f"#{i} = if_not_exists(#{i}, :{i})" for i in range(len(fields)))
    return {
        "Update": {
            "TableName": table,
            "Key": to_attributes({"pk": f"REVIEW#{case.case_id}", "sk": REVIEW_SK}),
            "UpdateExpression": f"SET {sets}",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def _case_from_item(item: dict[str, Any]) -> ReviewCase:
    return ReviewCase(
        case_id=item["case_id"],
        reason=item["reason"],
        member_ids=tuple(item["member_ids"]),
        identity_types=tuple(item["identity_types"]),
        causing_event_id=item["causing_event_id"],
        opened_at=item["opened_at"],
        status=item["status"],
    )
