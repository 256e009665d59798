"""The feedback part of `make demo`: how each piece of feedback was read and routed, tickets by
priority, food-safety alerts, batch holds, clusters and knowledge-base answers."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from devstack.demo_words import INTENTS, RISKS, SENTIMENTS, TOPICS, labelled
from devstack.stack import LocalStack
from omnihub.adapters.feedback_store import DynamoFeedbackStore
from omnihub.privacy import mask_text

ROUTES = {
    "food_safety": "P1 ticket + food-safety alert",
    "complaint": "P2 ticket",
    "unanswered_inquiry": "P3 ticket (the knowledge base had no sure answer)",
    "knowledge_answer": "answered from the knowledge base",
    "product_board": "product board (P4, no ticket)",
    "praise": "thanked",
    "recorded": "kept",
}


def _scan(stack: LocalStack, logical_id: str, prefix: str) -> list[dict[str, Any]]:
    """Rows of a table whose key starts with `prefix` (a local report only; never a request
    path)."""
    rows: list[dict[str, Any]] = []
    paginator = stack.client("dynamodb").get_paginator("scan")
    for page in paginator.paginate(TableName=stack.table_name(logical_id)):
        rows.extend(i for i in page["Items"] if i["pk"]["S"].startswith(prefix))
    return rows


def _published(stack: LocalStack) -> dict[str, list[dict[str, Any]]]:
    """Domain events the outbox published, by type (the event log's OUT# rows)."""
    events: dict[str, list[dict[str, Any]]] = {}
    for item in _scan(stack, "EventLogTable", "OUT#"):
        detail = json.loads(item["detail"]["S"])
        events.setdefault(item["detail_type"]["S"], []).append(detail)
    for found in events.values():
        found.sort(key=lambda d: d["occurred_at"])
    return events


def _feedback(stack: LocalStack) -> list[dict[str, Any]]:
    rows = []
    for item in _scan(stack, "FeedbackTable", "FB#"):
        rows.append({name: next(iter(value.values())) for name, value in item.items()})
    return sorted(rows, key=lambda r: r["received_at"])


def _excerpt(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _topics(row: dict[str, Any]) -> str:
    return ",".join(t["S"] for t in row.get("topics", []))


def section_feedback(stack: LocalStack, run: Any) -> list[str]:
    """What the classifier read, where each piece went, and what the hub raised."""
    lines = ["", "Feedback (classified, routed, counted):"]
    rows = _feedback(stack)
    for row in rows:
        route = ROUTES.get(row["outcome"], row["outcome"])
        topics = ", ".join(labelled(t, TOPICS) for t in _topics(row).split(",") if t)
        lines.append(
            f"  {row['channel']:<11} {labelled(row['intent'], INTENTS)}"
            f" {labelled(row['sentiment'], SENTIMENTS)} 风险{labelled(row['risk'], RISKS)}"
            f" [{topics}] -> {route}"
        )
        lines.append(f"      「{_excerpt(mask_text(str(row.get('text') or '')))}」")
    events = _published(stack)
    tickets = Counter(e["data"]["priority"] for e in events.get("ticket.requested", []))
    lines.append(
        "  tickets requested: "
        + (", ".join(f"{p} {n}" for p, n in sorted(tickets.items())) or "none")
    )
    for ticket in events.get("ticket.requested", []):
        responder = ticket["data"]["first_responder"]
        if responder:
            lines.append(
                f"    {ticket['data']['priority']} {ticket['data']['feedback_id']}:"
                f" first responder the {responder['role']} ({responder['channel']})"
            )
    alerts = events.get("alert.food_safety", [])
    lines.append(f"  food-safety alerts: {len(alerts)}")
    for alert in alerts:
        data = alert["data"]
        lines.append(
            f"    {data['channel']} {data['feedback_id']}: batch {data['batch_no'] or '-'},"
            f" sku {data['sku'] or '-'}, evidence {'/'.join(data['evidence'])},"
            f" notify {', '.join(data['notify_teams'])}"
        )
    quality = stack.auth("quality")
    _, _, holds = stack.http("GET", "/v1/insights/batch-holds", headers=quality)
    lines.append(f"  batch holds requested: {len(holds['items'])}")
    for hold in holds["items"]:
        lines.append(
            f"    batch {hold['batch_no']}: {hold['reports']} food-safety reports"
            f" ({', '.join(hold['feedback_refs'])})"
        )
    _, _, clusters = stack.http("GET", "/v1/insights/clusters", headers=quality)
    lines.append(f"  clusters detected: {len(clusters['items'])}")
    for cluster in clusters["items"]:
        lines.append(
            f"    {cluster['scope']} {cluster['key']} / {cluster['topic']}:"
            f" {cluster['count']} reports in 7 days ({', '.join(cluster['feedback_refs'])})"
        )
    notices = events.get("notification.requested", [])
    answers = [n["data"] for n in notices if n["data"]["purpose"] == "knowledge_answer"]
    lines.append(f"  knowledge-base answers: {len(answers)}")
    for answer in answers:
        lines.append(f"    {answer['knowledge_entry']}: {answer['text'][:40]}…")
    purposes = Counter(n["data"]["purpose"] for n in notices)
    lines.append(
        "  notifications requested: "
        + ", ".join(f"{purpose} {n}" for purpose, n in sorted(purposes.items()))
    )
    _, _, board = stack.http("GET", "/v1/insights/suggestions", headers=quality)
    lines.append(f"  product board: {len(board['items'])} suggestion(s)")
    for suggestion in board["items"]:
        lines.append(f"    {suggestion['channel']}: {suggestion['text']}")
    feedback_events = sum(
        1
        for item in _scan(stack, "EventLogTable", "IN#")
        if item["detail_type"]["S"] == "feedback.received"
    )
    lines.append(
        f"  feedback events accepted: {feedback_events}, kept: {len(rows)}"
        " (a channel re-sending a feedback changes nothing)"
    )
    store = DynamoFeedbackStore(
        stack.client("dynamodb"),
        stack.table_name("FeedbackTable"),
        stack.table_name("EventLogTable"),
        stack.table_name("MembersTable"),
    )
    agent = stack.auth("agent")
    status, _, found = stack.http(
        "GET", "/v1/members/lookup", query={"type": "phone", "value": "13800000001"}, headers=agent
    )
    if status == 200:
        recent = store.recent_feedback(found["member_id"], 10)
        channels = Counter(f["channel"] for f in recent)
        lines.append(
            f"  张三's file holds {len(recent)} feedback from "
            + ", ".join(f"{c} {n}" for c, n in sorted(channels.items()))
        )
    return lines
