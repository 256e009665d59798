"""Tickets through the real handlers: feedback -> ticket.requested -> a ticket with SLA clocks,
the every-minute sweep on a moved clock, actions and roles over the API."""

from datetime import timedelta

import pytest

from omnihub.clock import parse_iso
from tests.conftest import load_event

PHONE = {"type": "phone", "value": "13800000001"}


def feedback(event_id, text, batch_no="B20260901"):
    event = load_event("channel/feedback-received.json")
    event.update(event_id=event_id, member={"identities": [PHONE]})
    event["data"] = {
        "feedback_id": f"FB-{event_id}",
        "text": text,
        "kind": "review",
        "sku": "OIL-PN-1L8",
        "batch_no": batch_no,
        "rating": 1,
    }
    return event


def tickets_of(stack, role="quality"):
    member = stack.http(
        "GET",
        "/v1/members/lookup",
        query={"type": "phone", "value": "13800000001"},
        headers=stack.auth("agent"),
    )[2]["member_id"]
    status, _, body = stack.http(
        "GET", "/v1/tickets", query={"member_id": member}, headers=stack.auth(role)
    )
    assert status == 200, body
    return member, body["items"]


def sweep_at(stack, when):
    stack.runtime.clock.set(when)
    return stack.fire_schedule("sla-escalation")


def escalations(stack):
    items = stack.client("dynamodb").scan(TableName=stack.table_name("EventLogTable"))["Items"]
    return [i for i in items if i["detail_type"]["S"] == "ticket.escalated"]


@pytest.fixture
def p1(stack):
    opened = stack.now()
    assert (
        stack.post_channel_event("tmall", feedback("fs-1", "花生油有哈喇味，怀疑变质了"))[0] == 202
    )
    stack.drain()
    _, items = tickets_of(stack)
    (ticket,) = items
    return ticket, opened


def test_a_high_risk_feedback_becomes_a_p1_with_its_due_times(stack, p1):
    ticket, opened = p1
    assert (ticket["priority"], ticket["status"], ticket["escalation_level"]) == (
        "P1",
        "open",
        "L1",
    )
    created = parse_iso(ticket["created_at"])
    assert abs((created - opened).total_seconds()) < 60
    assert parse_iso(ticket["first_response_due"]) - created == timedelta(minutes=30)
    assert parse_iso(ticket["resolution_due"]) - created == timedelta(hours=48)
    assert {t["name"] for t in ticket["targets"]} >= {"first_response", "resolution", "ack:quality"}
    # agents do not see food-safety tickets; quality does
    assert tickets_of(stack, role="agent")[1] == []


def test_31_minutes_without_response_escalates_once_even_when_the_sweep_fires_twice(stack, p1):
    ticket, opened = p1
    sweep_at(stack, opened + timedelta(minutes=31))
    count = len(escalations(stack))
    assert count >= 1
    sweep_at(stack, opened + timedelta(minutes=31, seconds=30))
    assert len(escalations(stack)) == count
    _status, _, after = stack.http(
        "GET", f"/v1/tickets/{ticket['ticket_id']}", headers=stack.auth("quality")
    )
    first = next(t for t in after["targets"] if t["name"] == "first_response")
    assert first["breached"] is True
    assert after["escalation_level"] != "L1"


def test_pausing_stops_the_clock(stack):
    stack.post_channel_event("jd", feedback("c-1", "瓶子漏油了，箱子都湿了", batch_no="B1"))
    stack.drain()
    _member, (ticket,) = tickets_of(stack, role="agent")
    assert ticket["priority"] == "P2"
    path = f"/v1/tickets/{ticket['ticket_id']}/actions"
    assert (
        stack.http(
            "POST",
            path,
            body={"action": "pause", "note": "等顾客照片"},
            headers=stack.auth("agent"),
        )[0]
        == 200
    )
    sweep_at(stack, stack.now() + timedelta(hours=5))
    assert escalations(stack) == []
    _status, _, resumed = stack.http(
        "POST", path, body={"action": "resume"}, headers=stack.auth("agent")
    )
    assert resumed["first_response_due"] > ticket["first_response_due"]


def test_resolve_is_refused_without_root_cause_and_roles_are_enforced(stack):
    stack.post_channel_event("jd", feedback("c-2", "瓶子漏油了，箱子都湿了", batch_no="B2"))
    stack.drain()
    _, (ticket,) = tickets_of(stack, role="agent")
    path = f"/v1/tickets/{ticket['ticket_id']}/actions"
    status, _, body = stack.http(
        "POST", path, body={"action": "resolve", "root_cause": "封口"}, headers=stack.auth("agent")
    )
    assert status == 422
    assert [d["field"] for d in body["error"]["details"]] == ["corrective_action"]
    assert (
        stack.http(
            "POST", path, body={"action": "resolve"}, headers=stack.auth("leader", leader="ldr-x")
        )[0]
        == 404
    )
    status, _, done = stack.http(
        "POST",
        path,
        body={
            "action": "resolve",
            "root_cause": "封口机故障",
            "corrective_action": "更换封口机，补发一瓶",
        },
        headers=stack.auth("agent"),
    )
    assert (status, done["status"]) == (200, "resolved")
    status, _, metrics = stack.http("GET", "/v1/metrics/service", headers=stack.auth("quality"))
    assert status == 200
    (row,) = [r for r in metrics["items"] if r["priority"] == "P2"]
    assert row["resolution_rate"] == 1.0
    assert stack.http("GET", "/v1/metrics/service", headers=stack.auth("agent"))[0] == 403


def test_a_store_opens_a_ticket_and_stays_its_first_responder(stack):
    stack.post_channel_event(
        "pos", {**load_event("channel/member-identified.json"), "member": {"identities": [PHONE]}}
    )
    stack.drain()
    member = stack.http(
        "GET",
        "/v1/members/lookup",
        query={"type": "phone", "value": "13800000001"},
        headers=stack.auth("agent"),
    )[2]["member_id"]
    store = stack.auth("store", store="S-001")
    status, _, ticket = stack.http(
        "POST",
        "/v1/tickets",
        headers=store,
        body={
            "member_id": member,
            "channel": "pos",
            "subject": "顾客反映米袋破损",
            "intent": "complaint",
            "request_id": "pos-note-1",
        },
    )
    assert (status, ticket["priority"], ticket["first_responder"]) == (201, "P2", "store:S-001")
    again = stack.http(
        "POST",
        "/v1/tickets",
        headers=store,
        body={
            "member_id": member,
            "channel": "pos",
            "subject": "顾客反映米袋破损",
            "intent": "complaint",
            "request_id": "pos-note-1",
        },
    )
    assert again[2]["ticket_id"] == ticket["ticket_id"]
    other = stack.auth("store", store="S-002")
    assert stack.http("GET", f"/v1/tickets/{ticket['ticket_id']}", headers=other)[0] == 404
    path = f"/v1/tickets/{ticket['ticket_id']}/actions"
    assert stack.http("POST", path, body={"action": "respond"}, headers=store)[0] == 200
    assert stack.http("POST", path, body={"action": "pause"}, headers=store)[0] == 403
