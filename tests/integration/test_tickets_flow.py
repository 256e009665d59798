"""Tickets through the real handlers: feedback -> ticket.requested -> a ticket with SLA clocks,
the every-minute sweep on a moved clock, actions and roles over the API."""

import json
from datetime import timedelta

import pytest

from omnihub.clock import parse_iso
from tests.conftest import arrive, load_event, member_with

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


# --- tickets follow the member: merges, un-merges, erasure ---------------------


def identified(event_id, *identities):
    event = load_event("channel/member-identified.json")
    event.update(event_id=event_id, member={"identities": [dict(i) for i in identities]})
    return event


def complaint(event_id, identity, text="瓶子漏油了，箱子都湿了"):
    event = feedback(event_id, text, batch_no=f"B-{event_id}")
    event["member"] = {"identities": [dict(identity)]}
    return event


def listed(stack, member_id):
    status, _, body = stack.http(
        "GET", "/v1/tickets", query={"member_id": member_id}, headers=stack.auth("quality")
    )
    assert status == 200, body
    return sorted(t["ticket_id"] for t in body["items"])


def stored_tickets(stack):
    from omnihub.adapters.dynamo import from_attributes

    items = stack.client("dynamodb").scan(TableName=stack.table_name("TicketsTable"))["Items"]
    rows = [from_attributes(i) for i in items]
    return {r["ticket_id"]: r for r in rows if r["pk"].startswith("TICKET#")}


class Held:
    """The tickets consumer is down: its bus events wait in its queue until the test hands
    them back, in the order it chooses (late, twice, out of order)."""

    def __init__(self, stack, function="TicketsConsumerFunction"):
        self.stack = stack
        runtime = stack.runtime
        self.consumer = next(q for q in runtime.queues if q.function == function)
        runtime.queues.remove(self.consumer)
        runtime.consumer_queue_urls.remove(self.consumer.url)

    def take(self):
        """The waiting messages' bodies, oldest first, removed from the queue."""
        sqs, url = self.stack.client("sqs"), self.consumer.url
        bodies = []
        while True:
            got = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["SentTimestamp"]
            ).get("Messages", [])
            if not got:
                return [b for _, b in sorted(bodies, key=lambda x: x[0])]
            for m in got:
                bodies.append((int(m["Attributes"]["SentTimestamp"]), m["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    def release(self, *bodies):
        """The consumer is back; `bodies` are delivered in this order, one at a time."""
        runtime = self.stack.runtime
        runtime.queues.append(self.consumer)
        runtime.consumer_queue_urls.append(self.consumer.url)
        for body in bodies:
            self.stack.client("sqs").send_message(QueueUrl=self.consumer.url, MessageBody=body)
            report = self.stack.drain()
            assert report.errors == {}, report


def kind_of(body):
    return json.loads(body)["detail-type"]


def test_tickets_follow_the_live_survivor_when_merges_arrive_out_of_order(stack):
    c, a, b = (
        {"type": "alipay_user_id", "value": "ali-c"},
        {"type": "phone", "value": "13800000031"},
        {"type": "wechat_unionid", "value": "union-b"},
    )
    arrive(stack, identified("c", c))
    arrive(stack, identified("a", a))
    arrive(stack, complaint("b", b))
    member_c, member_a, member_b = (member_with(stack, i) for i in (c, a, b))
    (ticket,) = listed(stack, member_b)

    held = Held(stack)
    arrive(stack, identified("a-b", a, b))  # A absorbs B
    arrive(stack, identified("c-a", c, a))  # C absorbs A
    merges = held.take()
    assert [kind_of(m) for m in merges] == ["member.merged", "member.merged"]
    held.release(*reversed(merges))  # C<-A handled first, then A<-B

    assert stored_tickets(stack)[ticket]["member_id"] == member_c
    assert listed(stack, member_c) == [ticket]
    assert member_a != member_c


def test_a_ticket_for_an_absorbed_member_opens_and_lists_under_its_live_survivor(stack):
    a, b = {"type": "phone", "value": "13800000032"}, {"type": "wechat_unionid", "value": "u-32"}
    arrive(stack, identified("a", a))
    arrive(stack, identified("b", b))
    absorbed = member_with(stack, b)
    arrive(stack, identified("a-b", a, b))
    survivor = member_with(stack, a)
    assert member_with(stack, b) == survivor != absorbed

    status, _, ticket = stack.http(
        "POST",
        "/v1/tickets",
        headers=stack.auth("agent"),
        body={
            "member_id": absorbed,
            "channel": "pos",
            "subject": "顾客反映米袋破损",
            "intent": "complaint",
            "request_id": "absorbed-1",
        },
    )
    assert (status, ticket["member_id"]) == (201, survivor)
    assert listed(stack, survivor) == [ticket["ticket_id"]]
    assert listed(stack, absorbed) == [ticket["ticket_id"]]  # the survivor's tickets
    for member in (survivor, absorbed):
        status, _, file = stack.http("GET", f"/v1/members/{member}", headers=stack.auth("agent"))
        assert status == 200, file
        assert [t["ticket_id"] for t in file["tickets"]] == [ticket["ticket_id"]]


def test_a_ticket_requested_for_a_member_merged_meanwhile_opens_on_the_survivor(stack):
    a, b = {"type": "phone", "value": "13800000033"}, {"type": "wechat_unionid", "value": "u-33"}
    arrive(stack, identified("a", a))
    held = Held(stack)
    arrive(stack, complaint("b", b))  # feedback on B; its ticket request waits
    absorbed = member_with(stack, b)
    arrive(stack, identified("a-b", a, b))
    survivor = member_with(stack, a)
    request, merged = held.take()
    assert (kind_of(request), kind_of(merged)) == ("ticket.requested", "member.merged")
    held.release(merged, request)  # the merge overtook the ticket request

    (ticket,) = listed(stack, survivor)
    assert stored_tickets(stack)[ticket]["member_id"] == survivor != absorbed


def test_the_ticket_write_is_conditioned_on_its_member_not_being_merged(stack):
    """The race rule: a merge committing between the lookup and the write fails the write."""
    from omnihub.adapters.ticket_store import DynamoTicketStore
    from omnihub.errors import ConcurrentChange
    from omnihub.tickets.model import Ticket, open_ticket, ticket_id_for
    from omnihub.tickets.service import TicketChange

    a, b = {"type": "phone", "value": "13800000034"}, {"type": "wechat_unionid", "value": "u-34"}
    arrive(stack, identified("a", a))
    arrive(stack, identified("b", b))
    absorbed = member_with(stack, b)
    arrive(stack, identified("a-b", a, b))
    store = DynamoTicketStore(
        stack.client("dynamodb"),
        stack.table_name("TicketsTable"),
        stack.table_name("EventLogTable"),
        stack.table_name("MembersTable"),
    )
    draft = Ticket(
        ticket_id=ticket_id_for("race-1"),
        member_id=absorbed,
        channel="pos",
        priority="P2",
        created_at="",
        opened_by="agent:a1",
        source="agent",
    )
    out = open_ticket(draft, stack.now(), "race-1")
    with pytest.raises(ConcurrentChange):
        store.commit(TicketChange(out.ticket, 0, out.events, live_member=absorbed))
    assert store.get(draft.ticket_id) is None
    # and on the identity that brought it still leading there (an un-merge moves its claim)
    survivor = member_with(stack, a)
    arrive(stack, complaint("c", {"type": "phone", "value": "13800000134"}))
    (other,) = stored_tickets(stack).values()
    with pytest.raises(ConcurrentChange):
        store.commit(
            TicketChange(out.ticket, 0, out.events, live_member=survivor, lineage=other["via"])
        )
    store.commit(TicketChange(out.ticket, 0, out.events, live_member=survivor, lineage=None))
    assert store.get(draft.ticket_id) is not None


def test_an_unmerge_takes_the_tickets_of_the_split_identity_along_and_keeps_them(stack):
    a, b = {"type": "phone", "value": "13800000035"}, {"type": "wechat_unionid", "value": "u-35"}
    arrive(stack, complaint("fa", a))
    arrive(stack, complaint("fb", b))
    root = member_with(stack, a)
    (stays,) = listed(stack, root)
    (leaves,) = listed(stack, member_with(stack, b))
    held = Held(stack)
    arrive(stack, identified("a-b", a, b))
    (merged,) = held.take()
    held.release(merged)
    assert listed(stack, root) == sorted([stays, leaves])

    status, _, split = stack.http(
        "POST", f"/v1/members/{root}/unmerge", body={"identity": b}, headers=stack.auth("admin")
    )
    assert status == 200, split
    assert stack.drain().errors == {}
    new_member = split["new_member_id"]
    assert listed(stack, new_member) == [leaves]
    assert listed(stack, root) == [stays]
    assert stored_tickets(stack)[leaves]["via"].startswith("wechat_unionid|")

    held = Held(stack)
    held.release(merged)  # the merge delivered again, late: it does not drag them back
    assert listed(stack, new_member) == [leaves]
    assert listed(stack, root) == [stays]


def test_erasure_clears_the_lineage_on_the_members_tickets(stack):
    a = {"type": "phone", "value": "13800000036"}
    arrive(stack, complaint("fa", a))
    member = member_with(stack, a)
    (ticket,) = listed(stack, member)
    assert stored_tickets(stack)[ticket]["via"].startswith("phone|")
    status, _, _ = stack.http("DELETE", f"/v1/members/{member}", headers=stack.auth("admin"))
    assert status == 200
    assert stack.drain().errors == {}
    assert "via" not in stored_tickets(stack)[ticket]
    assert stored_tickets(stack)[ticket]["member_id"] == member


# --- clocks that keep their promises (issue 12) -------------------------------------------------


def act(stack, ticket_id, role="agent", **body):
    return stack.http(
        "POST", f"/v1/tickets/{ticket_id}/actions", body=body, headers=stack.auth(role)
    )


def target_of(ticket, name, cycle=0):
    return next(t for t in ticket["targets"] if t["name"] == name and t.get("cycle", 0) == cycle)


def p2_ticket(stack, event_id):
    stack.post_channel_event("jd", feedback(event_id, "瓶子漏油了，箱子都湿了", batch_no=event_id))
    stack.drain()
    _, items = tickets_of(stack, role="agent")
    (ticket,) = [t for t in items if t["status"] == "open" and t["reopen_count"] == 0]
    return ticket


def service_row(stack, priority, opened):
    """The service metrics row of `priority` for the day a ticket was `opened`."""
    from omnihub.clock import business_date

    day = business_date(opened).isoformat()
    status, _, metrics = stack.http(
        "GET",
        "/v1/metrics/service",
        query={"from": day, "to": day},
        headers=stack.auth("quality"),
    )
    assert status == 200, metrics
    (row,) = [r for r in metrics["items"] if r["priority"] == priority]
    return row


def test_a_p1_at_31_minutes_is_at_l2_and_each_team_that_missed_goes_to_its_lead(stack, p1):
    ticket, opened = p1
    sweep_at(stack, opened + timedelta(minutes=31))
    _, _, after = stack.http(
        "GET", f"/v1/tickets/{ticket['ticket_id']}", headers=stack.auth("quality")
    )
    assert after["escalation_level"] == "L2"
    details = [json.loads(i["detail"]["S"])["data"] for i in escalations(stack)]
    assert sorted(d.get("audience", "") for d in details) == [
        "",
        "pr_lead",
        "quality_lead",
        "supply_chain_lead",
    ]
    assert {d["level"] for d in details} == {"L2"}


def test_an_answer_and_a_resolution_on_a_paused_ticket_count_the_paused_time(stack):
    ticket = p2_ticket(stack, "paused-api")
    opened = parse_iso(ticket["created_at"])
    stack.runtime.clock.set(opened + timedelta(minutes=10))
    assert act(stack, ticket["ticket_id"], action="pause", note="等顾客照片")[0] == 200
    stack.runtime.clock.set(opened + timedelta(hours=3))  # past the 2 h first response
    status, _, answered = act(stack, ticket["ticket_id"], action="respond")
    assert status == 200, answered
    first = target_of(answered, "first_response")
    assert (first["breached"], answered["status"]) == (False, "paused")
    stack.runtime.clock.set(opened + timedelta(hours=30))  # past the 24 h resolution
    status, _, done = act(
        stack,
        ticket["ticket_id"],
        action="resolve",
        root_cause="密封圈老化",
        corrective_action="补发",
    )
    assert status == 200, done
    assert target_of(done, "resolution")["breached"] is False
    assert service_row(stack, "P2", opened)["sla_attainment"] == 1.0


def test_a_reopened_ticket_runs_a_fresh_clock_and_counts_as_resolved_once(stack):
    ticket = p2_ticket(stack, "reopen-api")
    tid, opened = ticket["ticket_id"], parse_iso(ticket["created_at"])
    fix = {"root_cause": "密封圈老化", "corrective_action": "补发一瓶"}
    stack.runtime.clock.set(opened + timedelta(minutes=30))
    assert act(stack, tid, action="resolve", csat=4, **fix)[0] == 200
    assert act(stack, tid, action="close")[0] == 200
    stack.runtime.clock.set(opened + timedelta(hours=5))
    status, _, reopened = act(stack, tid, action="reopen", note="顾客说还在漏")
    assert status == 200, reopened
    due = parse_iso(reopened["first_response_due"]) - (opened + timedelta(hours=7))
    assert abs(due.total_seconds()) < 60  # 2 h from the reopen, not from the opening
    assert (reopened["csat"], target_of(reopened, "first_response", 1)["met_at"]) == (4, None)
    assert service_row(stack, "P2", opened)["resolution_rate"] == 0.0  # open again
    sweep_at(stack, opened + timedelta(days=10))
    _, _, late = stack.http("GET", f"/v1/tickets/{tid}", headers=stack.auth("agent"))
    assert late["escalation_level"] == "L2"
    assert target_of(late, "resolution", 1)["breached"] is True
    assert act(stack, tid, action="resolve", **fix)[0] == 200
    assert act(stack, tid, action="close", csat=5)[0] == 200
    row = service_row(stack, "P2", opened)
    assert (row["resolution_rate"], row["csat"]) == (1.0, 5.0)


def test_initial_handling_is_its_own_action_and_a_request_id_acts_once(stack, p1):
    ticket, _opened = p1
    tid = ticket["ticket_id"]
    assert act(stack, tid, "quality", action="respond", note="已联系顾客")[0] == 200
    status, _, twice = act(stack, tid, "quality", action="respond", note="再次联系")
    assert (status, target_of(twice, "initial_handling")["met_at"]) == (200, None)
    status, _, blank = act(stack, tid, "quality", action="initial_handling", note=" ")
    assert (status, [d["field"] for d in blank["error"]["details"]]) == (422, ["note"])
    body = {"action": "initial_handling", "note": "批次已封存送检", "request_id": "req-ih-1"}
    status, _, handled = act(stack, tid, "quality", **body)
    assert status == 200, handled
    assert target_of(handled, "initial_handling")["met_at"] is not None
    stack.runtime.clock.set(stack.now() + timedelta(minutes=1))
    again = act(stack, tid, "quality", **body)
    assert (again[0], again[2]) == (status, handled)  # the same answer, nothing changed
    status, _, reused = act(stack, tid, "quality", action="pause", request_id="req-ih-1")
    assert (status, [d["field"] for d in reused["error"]["details"]]) == (409, ["request_id"])
    from devstack.openapi import merged_openapi

    schemas = merged_openapi(stack.model, stack.runtime.functions)["components"]["schemas"]
    action = schemas["Action"]["properties"]
    assert "initial_handling" in action["action"]["enum"]
    assert "request_id" in action


def test_a_blank_root_cause_is_refused_and_close_keeps_the_csat(stack):
    ticket = p2_ticket(stack, "blank-api")
    tid = ticket["ticket_id"]
    status, _, body = act(stack, tid, action="resolve", root_cause="  ", corrective_action="补发")
    assert (status, [d["field"] for d in body["error"]["details"]]) == (422, ["root_cause"])
    assert (
        act(stack, tid, action="resolve", root_cause="封口", corrective_action="补发", csat=3)[0]
        == 200
    )
    status, _, closed = act(stack, tid, action="close")
    assert (status, closed["csat"]) == (200, 3)
    assert service_row(stack, "P2", parse_iso(ticket["created_at"]))["csat"] == 3.0
