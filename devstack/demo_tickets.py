"""The tickets part of `make demo`: SLA clocks on the feedback day's tickets, with time moved."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any

from devstack.demo_words import figure, percent, shanghai
from devstack.stack import LocalStack


def _tickets(stack: LocalStack) -> list[dict[str, Any]]:
    """Every ticket as the staff API shows it (listed from the table: a local report only)."""
    quality = stack.auth("quality")
    ids = []
    paginator = stack.client("dynamodb").get_paginator("scan")
    for page in paginator.paginate(TableName=stack.table_name("TicketsTable")):
        ids += [i["ticket_id"]["S"] for i in page["Items"] if i["sk"]["S"] == "TICKET"]
    tickets = [stack.http("GET", f"/v1/tickets/{t}", headers=quality)[2] for t in ids]
    return sorted(tickets, key=lambda t: (t["priority"], t["created_at"]))


def _escalations(stack: LocalStack) -> Counter[str]:
    counts: Counter[str] = Counter()
    paginator = stack.client("dynamodb").get_paginator("scan")
    for page in paginator.paginate(TableName=stack.table_name("EventLogTable")):
        for item in page["Items"]:
            kind = item["detail_type"]["S"]
            if item["pk"]["S"].startswith("OUT#") and kind.startswith("ticket."):
                counts[kind] += 1
    return counts


def _team_escalations(stack: LocalStack, ticket_id: str) -> list[str]:
    """The teams whose missed acknowledgement of `ticket_id` went to their lead."""
    leads = []
    paginator = stack.client("dynamodb").get_paginator("scan")
    for page in paginator.paginate(TableName=stack.table_name("EventLogTable")):
        for item in page["Items"]:
            if item["detail_type"]["S"] == "ticket.escalated" and "detail" in item:
                data = json.loads(item["detail"]["S"])["data"]
                if data.get("ticket_id") == ticket_id and data.get("audience"):
                    leads.append(data["audience"])
    return sorted(leads)


def section_tickets(stack: LocalStack, run: Any) -> list[str]:
    lines = ["", "Tickets and SLA clocks:"]
    tickets = _tickets(stack)
    by_priority = Counter(t["priority"] for t in tickets)
    lines.append(
        "  opened from feedback: " + ", ".join(f"{p} {n}" for p, n in sorted(by_priority.items()))
    )
    agent, quality = stack.auth("agent"), stack.auth("quality")
    p2 = next((t for t in tickets if t["priority"] == "P2"), None)
    if p2:
        path = f"/v1/tickets/{p2['ticket_id']}/actions"
        stack.http("POST", path, body={"action": "respond", "note": "已联系顾客"}, headers=agent)
        stack.http("POST", path, body={"action": "pause", "note": "等顾客发照片"}, headers=agent)
        lines.append(f"  {p2['ticket_id']} (P2): answered, then paused waiting on the customer")
    fired = stack.set_clock(stack.now() + timedelta(minutes=31))
    sweeps = sum(1 for f in fired if f.get("schedule") == "sla-escalation")
    lines.append(f"  clock moved 31 minutes: sla-escalation ran {sweeps} time(s)")
    for ticket in _tickets(stack):
        if ticket["priority"] == "P1":
            breached = [t["name"] for t in ticket["targets"] if t["breached"]]
            lines.append(
                f"  {ticket['ticket_id']} (P1): nobody answered -> {ticket['escalation_level']}"
                f" (one level a sweep), breached {', '.join(breached)}"
            )
            teams = _team_escalations(stack, ticket["ticket_id"])
            lines.append(f"    missed acknowledgements to the team leads: {', '.join(teams)}")
            path = f"/v1/tickets/{ticket['ticket_id']}/actions"
            opinion = {"action": "initial_handling", "note": "该批次已封存送检，先行退款"}
            _, _, handled = stack.http("POST", path, body=opinion, headers=quality)
            initial = next(t for t in handled["targets"] if t["name"] == "initial_handling")
            lines.append(
                "    initial handling opinion given (its own action):"
                f" {'breached' if initial['breached'] else 'met'} within 4 h"
            )
    if p2:
        path = f"/v1/tickets/{p2['ticket_id']}/actions"
        _, _, resumed = stack.http("POST", path, body={"action": "resume"}, headers=agent)
        lines.append(
            f"  {p2['ticket_id']} (P2): resumed; resolution now due"
            f" {shanghai(resumed['resolution_due'])}"
            f" (was {shanghai(p2['resolution_due'])}: the paused time was added)"
        )
        refused = stack.http("POST", path, body={"action": "resolve"}, headers=agent)
        fields = ", ".join(d["field"] for d in refused[2]["error"]["details"])
        lines.append(f"  resolve without a root cause: {refused[0]} (missing {fields})")
        done = stack.http(
            "POST",
            path,
            headers=agent,
            body={
                "action": "resolve",
                "root_cause": "瓶盖密封圈老化",
                "corrective_action": "更换该批次瓶盖并补发",
            },
        )
        stack.http("POST", path, body={"action": "close", "csat": 4}, headers=agent)
        lines.append(
            f"  resolved with root cause and corrective action: {done[0]}, closed with CSAT 4"
        )
        _, _, reopened = stack.http(
            "POST", path, body={"action": "reopen", "note": "顾客说还在漏"}, headers=agent
        )
        lines.append(
            f"  reopened: fresh targets, first response now due"
            f" {shanghai(reopened['first_response_due'])},"
            f" CSAT kept ({reopened['csat']})"
        )
        stack.http("POST", path, headers=agent, body={"action": "respond", "note": "已补发"})
        stack.http(
            "POST",
            path,
            headers=agent,
            body={"action": "resolve", "root_cause": "瓶盖批次问题", "corrective_action": "换货"},
        )
    counts = _escalations(stack)
    lines.append("  events: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))
    _, _, metrics = stack.http("GET", "/v1/metrics/service", headers=quality)
    for row in metrics["items"]:
        minutes = row["first_response_avg_minutes"]
        first = figure(None if minutes is None else round(minutes, 1), " min", "none yet")
        lines.append(
            f"  service {row['channel']:<11} {row['priority']}: opened {row['created']},"
            f" first response {first},"
            f" resolved {percent(row['resolution_rate'], 'none yet')},"
            f" SLA met {percent(row['sla_attainment'])},"
            f" CSAT {figure(row['csat'], '/5', 'no rating yet')}"
        )
    return lines
