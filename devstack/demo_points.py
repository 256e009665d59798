"""The points part of `make demo`: balances as the day leaves them, a week later, a redemption."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from devstack.stack import LocalStack

PEOPLE = [("张三", "phone", "13800000001"), ("李四", "phone", "13900000005")]


def _member(stack: LocalStack, identity_type: str, value: str) -> str | None:
    status, _, found = stack.http(
        "GET",
        "/v1/members/lookup",
        query={"type": identity_type, "value": value},
        headers=stack.auth("agent"),
    )
    return found["member_id"] if status == 200 else None


def _balances(stack: LocalStack, label: str) -> list[str]:
    lines = []
    for name, identity_type, value in PEOPLE:
        member = _member(stack, identity_type, value)
        if member is None:
            continue
        _, _, p = stack.http("GET", f"/v1/members/{member}/points", headers=stack.auth("agent"))
        lines.append(
            f"  {label:<13} {name}: available {p['available']:>5}, pending {p['pending']:>5},"
            f" debt {p['debt']:>3}, tier {p['tier']}"
        )
    return lines


def _events(stack: LocalStack, *kinds: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    paginator = stack.client("dynamodb").get_paginator("scan")
    for page in paginator.paginate(TableName=stack.table_name("EventLogTable")):
        for item in page["Items"]:
            if item["pk"]["S"].startswith("OUT#") and item["detail_type"]["S"] in kinds:
                counts[item["detail_type"]["S"]] += 1
    return counts


def section_points(stack: LocalStack, run: Any) -> list[str]:
    """Earn (once per order), refund, activity cap, maturation a week later, a redemption."""
    lines = ["", "Points and tiers:"]
    lines += _balances(stack, "after the day")
    fired = stack.set_clock(stack.now() + timedelta(days=8))
    daily = sum(1 for f in fired if f.get("schedule") == "points-daily")
    lines.append(f"  clock moved 8 days: points-daily ran {daily} times")
    lines += _balances(stack, "a week later")
    zhang = _member(stack, "phone", "13800000001")
    if zhang:
        # the member is at the counter: the store presents the card they hold
        card = {"type": "store_card", "value": "SC-100001"}
        store = stack.auth("store", store="S-001")
        request = {
            "redemption_id": "demo-redeem-1",
            "points": 100,
            "reward": "五常大米1kg",
            "presented": card,
        }
        first = stack.http("POST", f"/v1/members/{zhang}/redemptions", body=request, headers=store)
        again = stack.http("POST", f"/v1/members/{zhang}/redemptions", body=request, headers=store)
        too_much = stack.http(
            "POST",
            f"/v1/members/{zhang}/redemptions",
            body={**request, "redemption_id": "demo-redeem-2", "points": 100_000, "reward": "x"},
            headers=store,
        )
        absent = stack.http(
            "POST",
            f"/v1/members/{zhang}/redemptions",
            body={k: v for k, v in request.items() if k != "presented"},
            headers=store,
        )
        lines.append(
            f"  redemption of 100 at a store, card presented: {first[0]}; the same request"
            f" again: {again[0]} (no second spend); 100,000 points: {too_much[0]}"
            f" {too_much[2]['error']['code']}; without the member's card: {absent[0]}"
        )
        lines += _balances(stack, "after redeeming")
    counts = _events(stack, "points.changed", "tier.changed")
    lines.append("  events: " + ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())))
    return lines
