"""The leaders part of `make demo`: three leaders' day of orders (events/day/04-leaders.json), the
T+1 run, a refund after settlement, a withdrawal split into payouts (one made to fail), the next
run, the statements, and the reconciliation to the fen."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from typing import Any

from devstack.stack import LocalStack
from omnihub.clock import SHANGHAI
from omnihub.leaders.reconcile import Reconciliation

LEADERS = ("ldr-001", "ldr-002", "ldr-003")
#: after the first run: 李四 returns 100 yuan of SO-3002's oil (a reversal on ldr-002)
LATE_REFUND = {
    "event_id": "gb-or-3002",
    "type": "order.refunded",
    "member": {"identities": [{"type": "phone", "value": "13900000005"}]},
    "data": {
        "order_id": "SO-3002",
        "refund_id": "RF-3002-1",
        "lines": [{"line_id": "L1", "amount_fen": 10_000}],
    },
}
WITHDRAWAL = {"withdrawal_id": "demo-wd-1", "amount_fen": 30_000}
FAILING_PAYOUT = "demo-wd-1-2"


def next_run(stack: LocalStack) -> str:
    """Move business time to 02:05 Shanghai of the next day: commission-settlement fires on the
    way (with whatever else is due). Returns the day the run settled."""
    local = stack.now().astimezone(SHANGHAI)
    target = datetime.combine(local.date() + timedelta(days=1), time(2, 5), tzinfo=SHANGHAI)
    stack.set_clock(target)
    return (target.date() - timedelta(days=1)).isoformat()


def leader(stack: LocalStack, leader_id: str) -> dict[str, Any]:
    status, _, body = stack.http("GET", f"/v1/leaders/{leader_id}", headers=stack.auth("admin"))
    if status != 200:
        raise RuntimeError(f"GET /v1/leaders/{leader_id}: {status} {body}")
    return dict(body)


def statements(stack: LocalStack, leader_id: str, as_leader: bool = True) -> list[dict[str, Any]]:
    """The leader's statements of the last 30 days, read with the leader's own token."""
    headers = stack.auth("leader", leader=leader_id) if as_leader else stack.auth("admin")
    status, _, body = stack.http("GET", f"/v1/leaders/{leader_id}/statements", headers=headers)
    if status != 200:
        raise RuntimeError(f"statements of {leader_id}: {status} {body}")
    return list(body["items"])


def post_late_refund(stack: LocalStack) -> int:
    event = {**LATE_REFUND, "occurred_at": stack.now().isoformat()}
    status, _, _ = stack.post_channel_event("groupbuy", event)
    stack.drain()
    return status


def withdraw(stack: LocalStack, leader_id: str = "ldr-003") -> tuple[int, Any]:
    """A withdrawal of 300 yuan: two payouts under the 200-yuan cap; the fake channel is told to
    fail the second, whose money comes back."""
    stack.client("ssm").put_parameter(
        Name="/omnihub/dev/leaders/fake-payout-failures",
        Value=f'["{FAILING_PAYOUT}"]',
        Type="String",
        Overwrite=True,
    )
    status, _, body = stack.http(
        "POST",
        f"/v1/leaders/{leader_id}/withdrawals",
        body=WITHDRAWAL,
        headers=stack.auth("leader", leader=leader_id),
    )
    stack.drain()
    return status, body


def withdrawals(stack: LocalStack, leader_id: str) -> list[dict[str, Any]]:
    _, _, body = stack.http(
        "GET",
        f"/v1/leaders/{leader_id}/withdrawals",
        headers=stack.auth("leader", leader=leader_id),
    )
    return list(body["items"])


def reconcile(stack: LocalStack) -> list[Reconciliation]:
    from omnihub.adapters.leaders_store import DynamoLeadersStore
    from omnihub.leaders.reconcile import reconcile_leader

    store = DynamoLeadersStore(
        stack.client("dynamodb"),
        stack.table_name("LeadersTable"),
        stack.table_name("EventLogTable"),
    )
    return [reconcile_leader(store, leader_id) for leader_id in LEADERS]


def _events(stack: LocalStack) -> Counter[str]:
    counts: Counter[str] = Counter()
    paginator = stack.client("dynamodb").get_paginator("scan")
    for page in paginator.paginate(TableName=stack.table_name("EventLogTable")):
        for item in page["Items"]:
            kind = item["detail_type"]["S"]
            if item["pk"]["S"].startswith("OUT#") and kind.split(".")[0] in (
                "commission",
                "leader",
            ):
                counts[kind] += 1
    return counts


def _yuan(fen: int) -> str:
    """Fen as yuan text, in integers (no float touches money, not even for display)."""
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{whole:,}.{cents:02d}"


def _statement_lines(stack: LocalStack) -> list[str]:
    lines = ["  statements (date, opening, earned, reversed, withdrawn, closing; yuan):"]
    for leader_id in LEADERS:
        for s in statements(stack, leader_id):
            lines.append(
                f"    {leader_id} {s['date']}  {_yuan(s['opening_fen']):>9}"
                f" +{_yuan(s['earned_fen']):>9} -{_yuan(s['reversed_fen']):>7}"
                f" -{_yuan(s['withdrawn_fen']):>9} = {_yuan(s['closing_fen']):>9}"
                f"  ({s['orders']} orders, {s['lines']} lines)"
            )
    return lines


def section_leaders(stack: LocalStack, run: Any) -> list[str]:
    """Binding, commission per line, T+1 statements, a reversal, payouts, reconciliation."""
    lines = ["", "Leaders and commission:"]
    for leader_id in LEADERS:
        body = leader(stack, leader_id)
        lines.append(
            f"  {leader_id} {body['name']} ({body['community']}, {body['tier']}):"
            f" pending {_yuan(body['pending_fen'])}, available {_yuan(body['available_fen'])} yuan"
        )
    settled = next_run(stack)
    lines.append(f"  clock moved to 02:05: commission-settlement has run through {settled}")
    lines += _statement_lines(stack)
    refund = post_late_refund(stack)
    lines.append(
        f"  refund after settlement (SO-3002, 100 yuan of oil): {refund};"
        f" ldr-002 available {_yuan(leader(stack, 'ldr-002')['available_fen'])}"
    )
    status, body = withdraw(stack)
    payouts = ", ".join(f"{p['payout_id']} {_yuan(p['amount_fen'])}" for p in body["payouts"])
    lines.append(f"  ldr-003 withdraws 300 yuan: {status} {body['status']} -> {payouts}")
    (done,) = [w for w in withdrawals(stack, "ldr-003") if w["withdrawal_id"] == "demo-wd-1"]
    lines.append(
        "  payouts: "
        + ", ".join(f"{p['payout_id']} {p['status']}" for p in done["payouts"])
        + f" (withdrawal {done['status']}; the failed payout's money is back:"
        f" available {_yuan(leader(stack, 'ldr-003')['available_fen'])})"
    )
    settled = next_run(stack)
    lines.append(f"  next run for {settled}:")
    lines += _statement_lines(stack)
    other = stack.http(
        "GET", "/v1/leaders/ldr-002/statements", headers=stack.auth("leader", leader="ldr-001")
    )[0]
    lines.append(f"  ldr-001 reading ldr-002's statements: {other}")
    results = reconcile(stack)
    earned = sum(r.earned_fen for r in results)
    settled_lines = sum(r.settled_lines_fen for r in results)
    verdict = "ok" if all(r.ok for r in results) else "MISMATCH"
    lines.append(
        f"  reconciliation: {sum(r.statements for r in results)} statements chain and add up;"
        f" earned {earned} fen = {sum(r.settled_lines for r in results)} settled lines"
        f" {settled_lines} fen: {verdict}"
    )
    for r in results:
        lines += [f"    {r.leader_id}: {p}" for p in r.problems]
    counts = _events(stack)
    lines.append("  events: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))
    parked = {q: n for q, n in stack.runtime.dlq_depths().items() if n}
    lines.append(f"  dead-letter queues after the runs: {parked or 'all empty'}")
    return lines
