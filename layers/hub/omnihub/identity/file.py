"""The one-person file as staff see it: masked, whatever channel each fact came from.

Later capabilities (points, leader, orders, feedback, tickets) add their sections beside the
identity section built here.
"""

from __future__ import annotations

from typing import Any

from omnihub.identity.model import Member


def identity_section(member: Member, requested_id: str) -> dict[str, Any]:
    section: dict[str, Any] = {
        "member_id": member.member_id,
        "created_at": member.created_at,
        "identities": [{"type": i.type, "value": i.masked} for i in member.identities],
        "profile": {name: value.masked for name, value in sorted(member.profile.items())},
        "channels": sorted(member.channels),
    }
    if requested_id != member.member_id:
        section["requested_id"] = requested_id
        section["merged_into"] = member.member_id
    if member.split_from:
        section["split_from"] = member.split_from
    return section
