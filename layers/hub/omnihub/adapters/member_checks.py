"""Conditions on the members table that other stores put in their own transactions (the race
rule of One ID): a write lands on a member only if, when it commits, that member is still live
and the identity that brought the write still leads there. A merge, an un-merge or an erasure
committing between the lookup and the write fails it (ConcurrentChange), and the caller looks
again."""

from __future__ import annotations

from typing import Any

from omnihub.adapters.dynamo import to_attributes
from omnihub.adapters.member_store import claim_key, member_key
from omnihub.identity.chain import lineage_ref


def still_live(members_table: str, member_id: str) -> dict[str, Any]:
    """The member is neither merged nor erased (an id the table does not hold passes)."""
    return {
        "ConditionCheck": {
            "TableName": members_table,
            "Key": to_attributes(member_key(member_id)),
            "ConditionExpression": "attribute_not_exists(merged_into) AND "
            "attribute_not_exists(erased_at)",
        }
    }


def lineage_still_with(members_table: str, via: str, member_id: str) -> dict[str, Any]:
    """The claim of the identity `via` names `member_id`, or nobody holds it (then the write
    was placed by the member it was recorded on, which `still_live` checks)."""
    return {
        "ConditionCheck": {
            "TableName": members_table,
            "Key": to_attributes(claim_key(lineage_ref(via))),
            "ConditionExpression": "attribute_not_exists(pk) OR member_id = :member",
            "ExpressionAttributeValues": {":member": {"S": member_id}},
        }
    }
