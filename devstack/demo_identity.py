"""The One ID part of `make demo`: who arrived from where, who merged, what was refused."""

from __future__ import annotations

from collections import Counter
from typing import Any

from devstack.stack import LocalStack

#: One identity per person in events/day/01-identities.json, to find each through the API.
PEOPLE = [
    ("张三 (one phone, many channels)", "phone", "13800000001"),
    ("王五 (JD, placeholder phone)", "jd_pin", "jd-wang"),
    ("赵六 (JD, same placeholder phone)", "jd_pin", "jd-zhao"),
    ("李四 (app, two phones)", "phone", "13900000005"),
    ("李四嫂 (WeCom)", "wechat_unionid", "union-li-wife"),
    ("陈七 (asked to leave in the app)", "wechat_unionid", "union-chen"),
]


def _domain_events(stack: LocalStack) -> Counter[str]:
    """Domain events the outbox published (the event log's OUT# rows; a local report only)."""
    counts: Counter[str] = Counter()
    paginator = stack.client("dynamodb").get_paginator("scan")
    for page in paginator.paginate(TableName=stack.table_name("EventLogTable")):
        for item in page["Items"]:
            if item["pk"]["S"].startswith("OUT#"):
                counts[item["detail_type"]["S"]] += 1
    return counts


def _file(stack: LocalStack, identity_type: str, value: str) -> dict[str, Any] | None:
    agent = stack.auth("agent")
    status, _, found = stack.http(
        "GET", "/v1/members/lookup", query={"type": identity_type, "value": value}, headers=agent
    )
    if status != 200:
        return None
    _, _, file = stack.http("GET", f"/v1/members/{found['member_id']}", headers=agent)
    return dict(file)


def section_one_id(stack: LocalStack, run: Any) -> list[str]:
    """Members as staff see them (masked), review cases, domain events, rejected webhooks."""
    lines = ["", "One ID (through the staff API, masked):"]
    for label, identity_type, value in PEOPLE:
        file = _file(stack, identity_type, value)
        if file is None:
            lines.append(f"  {label}: not found (erased, identities freed)")
            continue
        identities = ", ".join(f"{i['type']}={i['value']}" for i in file["identities"])
        lines.append(f"  {label}: {file['member_id']}")
        lines.append(f"      channels: {', '.join(file['channels'])}")
        lines.append(f"      identities: {identities}")
    _, _, cases = stack.http("GET", "/v1/review-cases", headers=stack.auth("admin"))
    lines.append(f"  review cases for admins: {len(cases['items'])}")
    for case in cases["items"]:
        lines.append(
            f"    {case['reason']}: members {', '.join(case['member_ids'])}"
            f" (caused by {case['causing_event_id']})"
        )
    events = _domain_events(stack)
    lines.append(
        "  domain events published: "
        + (", ".join(f"{kind} {n}" for kind, n in sorted(events.items())) or "none")
    )

    raw = b'{"event_id": "forged"}'
    forged = stack.http(
        "POST",
        "/v1/channels/tmall/events",
        body=raw,
        headers={"X-Omni-Signature": "t=1,v1=00", "Content-Type": "application/json"},
    )
    stale = stack.http(
        "POST",
        "/v1/channels/tmall/events",
        body=raw,
        headers=stack.sign_channel_event("tmall", raw, t=1),
    )
    lines.append(
        f"  webhook refusals: forged signature -> {forged[0]} {forged[2]['error']['code']},"
        f" stale timestamp -> {stale[0]} {stale[2]['error']['code']}"
    )
    return lines
