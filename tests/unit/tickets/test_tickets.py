"""Tickets on the in-memory store: targets by policy, pauses, warnings, escalation, metrics."""

from datetime import UTC, datetime, timedelta

import pytest

from omnihub.errors import Conflict, InvalidInput
from omnihub.tickets.calendar import BUSINESS_HOURS
from omnihub.tickets.model import Ticket, ticket_id_for
from omnihub.tickets.policies import policy_for
from omnihub.tickets.service import SHARDS, apply, open_once, sweep_shard
from tests.fakes.member_store import FakeMemberStore
from tests.fakes.ticket_store import FakeTicketStore

T0 = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
NOBODY = FakeMemberStore()  # no member merged: every member id is its own live root


def draft(priority="P1", cause="tmall:fb-1", channel="tmall", source="feedback"):
    return Ticket(
        ticket_id=ticket_id_for(cause),
        member_id="mbr_a",
        channel=channel,
        priority=priority,
        created_at="",
        opened_by="system",
        source=source,
        batch_no="B1",
    )


def sweep_all(store, now):
    return [sweep_shard(store, shard, now) for shard in range(SHARDS)]


def test_policies_are_ordered_data_and_the_first_match_wins():
    assert policy_for("high", "complaint").priority == "P1"
    assert policy_for("low", "complaint").priority == "P2"
    assert policy_for("low", "inquiry").priority == "P3"
    assert policy_for("low", "suggestion").priority == "P4"


def test_a_p1_has_its_due_times_and_tells_three_teams_once():
    store = FakeTicketStore()
    ticket = open_once(store, NOBODY, draft(), T0, "tmall:fb-1")
    assert ticket.target("first_response").due_at == "2026-11-11T02:30:00.000Z"
    assert ticket.target("initial_handling").due_at == "2026-11-11T06:00:00.000Z"
    assert ticket.target("resolution").due_at == "2026-11-13T02:00:00.000Z"
    assert open_once(store, NOBODY, draft(), T0 + timedelta(minutes=5), "tmall:fb-1") == ticket
    teams = [e.data["audience"] for e in store.events_of("notification.requested")]
    assert sorted(teams) == ["pr", "quality", "supply_chain"]
    assert len(store.events_of("ticket.created")) == 1


def test_31_minutes_without_a_response_escalates_once_however_often_the_sweep_runs():
    store = FakeTicketStore()
    ticket = open_once(store, NOBODY, draft(), T0, "tmall:fb-1")
    sweep_all(store, T0 + timedelta(minutes=23))  # 75% of 30 minutes
    assert [e.data["target"] for e in store.events_of("ticket.sla_warning")] == [
        "first_response",
        "ack:quality",
        "ack:supply_chain",
        "ack:pr",
    ]
    for _ in range(3):
        sweep_all(store, T0 + timedelta(minutes=31))
    escalations = store.events_of("ticket.escalated")
    assert len(escalations) == 4  # first response, and the three teams to their leads
    assert store.tickets[ticket.ticket_id].summary()["escalation_level"] == "L2"  # one level
    assert store.tickets[ticket.ticket_id].target("first_response").breached


def test_responding_in_time_meets_the_target_and_nothing_escalates():
    store = FakeTicketStore()
    t = open_once(store, NOBODY, draft("P2", "jd:fb-2"), T0, "jd:fb-2")
    apply(store, t.ticket_id, "respond", "agent-1", T0 + timedelta(minutes=40))
    sweep_all(store, T0 + timedelta(hours=3))
    ticket = store.tickets[t.ticket_id]
    assert ticket.target("first_response").met_at
    assert not ticket.target("first_response").breached
    assert store.events_of("ticket.escalated") == []


def test_pausing_stops_the_clock_and_resuming_adds_the_paused_time():
    store = FakeTicketStore()
    t = open_once(store, NOBODY, draft("P2", "jd:fb-3"), T0, "jd:fb-3")
    apply(store, t.ticket_id, "pause", "agent-1", T0 + timedelta(minutes=30))
    assert sweep_all(store, T0 + timedelta(hours=5)) == [(0, 0)] * SHARDS  # nothing is due
    resumed = apply(store, t.ticket_id, "resume", "agent-1", T0 + timedelta(hours=5, minutes=30))
    # due 04:00Z, paused 5 h: due 09:00Z
    assert resumed.target("first_response").due_at == "2026-11-11T09:00:00.000Z"
    assert store.events_of("ticket.escalated") == []


def test_a_business_hours_clock_stops_at_night():
    assert BUSINESS_HOURS.add(datetime(2026, 11, 11, 12, 30, tzinfo=UTC), timedelta(hours=2)) == (
        datetime(2026, 11, 12, 2, 30, tzinfo=UTC)  # 20:30 + 30 min, then 09:00 + 90 min
    )
    store = FakeTicketStore()
    t = open_once(
        store,
        NOBODY,
        draft("P3", "app:fb-4"),
        datetime(2026, 11, 11, 12, 30, tzinfo=UTC),
        "app:fb-4",
    )
    assert t.target("first_response").due_at == "2026-11-12T02:30:00.000Z"


def test_resolve_needs_root_cause_and_corrective_action():
    store = FakeTicketStore()
    t = open_once(store, NOBODY, draft("P2", "jd:fb-5"), T0, "jd:fb-5")
    with pytest.raises(InvalidInput) as refused:
        apply(store, t.ticket_id, "resolve", "agent-1", T0 + timedelta(hours=1), root_cause="x")
    assert [d["field"] for d in refused.value.details] == ["corrective_action"]
    assert store.tickets[t.ticket_id].status == "open"
    done = apply(
        store,
        t.ticket_id,
        "resolve",
        "agent-1",
        T0 + timedelta(hours=1),
        root_cause="封口不严",
        corrective_action="更换封口机并补发",
    )
    assert done.status == "resolved"
    (resolved,) = store.events_of("ticket.resolved")
    assert resolved.data["sla"] == {"first_response": "met", "resolution": "met"}
    with pytest.raises(Conflict):
        apply(store, t.ticket_id, "pause", "agent-1", T0 + timedelta(hours=2))


def test_a_ticket_reopened_twice_escalates():
    store = FakeTicketStore()
    t = open_once(store, NOBODY, draft("P2", "jd:fb-6"), T0, "jd:fb-6")
    fix = {"root_cause": "a", "corrective_action": "b"}
    for n in range(2):
        apply(store, t.ticket_id, "resolve", "agent-1", T0 + timedelta(hours=n + 1), **fix)
        apply(store, t.ticket_id, "reopen", "agent-1", T0 + timedelta(hours=n + 1, minutes=5))
    (escalated,) = store.events_of("ticket.escalated")
    assert escalated.data["reason"] == "reopened twice"
    assert store.tickets[t.ticket_id].summary()["escalation_level"] == "L2"


def test_service_counters_follow_the_transitions():
    store = FakeTicketStore()
    t = open_once(store, NOBODY, draft("P2", "jd:fb-7", channel="jd"), T0, "jd:fb-7")
    apply(store, t.ticket_id, "respond", "agent-1", T0 + timedelta(minutes=30))
    apply(
        store,
        t.ticket_id,
        "resolve",
        "agent-1",
        T0 + timedelta(hours=30),
        root_cause="a",
        corrective_action="b",
    )
    apply(store, t.ticket_id, "close", "agent-1", T0 + timedelta(hours=31), csat=4)
    (row,) = store.stats(["2026-11-11"])
    assert row == {
        "day": "2026-11-11",
        "channel": "jd",
        "priority": "P2",
        "created": 1,
        "responded": 1,
        "response_seconds": 1800,
        "targets_met": 1,
        "targets_breached": 1,
        "resolved": 1,
        "csat_sum": 4,
        "csat_count": 1,
    }


def test_the_sweep_reads_what_is_due_not_what_is_open():
    store = FakeTicketStore()
    for n in range(200):  # P2s with hours to go
        open_once(store, NOBODY, draft("P2", f"jd:quiet-{n}"), T0, f"jd:quiet-{n}")
    for n in range(5):
        open_once(store, NOBODY, draft("P1", f"jd:hot-{n}"), T0 - timedelta(hours=1), f"jd:hot-{n}")
    read = sum(r for r, _ in sweep_all(store, T0))
    assert read == 5
