"""Ticket clocks that keep their promises (issue 12): pauses judged, one level a sweep, fresh
targets on reopen, each ticket counted once, initial handling as its own action, CSAT kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from omnihub.errors import Conflict, InvalidInput
from omnihub.tickets.calendar import ALWAYS, BUSINESS_HOURS
from omnihub.tickets.model import Ticket, ticket_id_for
from omnihub.tickets.policies import BY_PRIORITY
from omnihub.tickets.service import SHARDS, apply, open_once, sweep_shard
from tests.fakes.member_store import FakeMemberStore
from tests.fakes.ticket_store import FakeTicketStore

T0 = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
NOBODY = FakeMemberStore()
FIX = {"root_cause": "封口机故障", "corrective_action": "更换封口机并补发"}


def opened(store: FakeTicketStore, priority: str, cause: str, at: datetime = T0) -> Ticket:
    draft = Ticket(
        ticket_id=ticket_id_for(cause),
        member_id="mbr_a",
        channel="jd",
        priority=priority,
        created_at="",
        opened_by="system",
        source="feedback",
    )
    return open_once(store, NOBODY, draft, at, cause)


def sweep_all(store: FakeTicketStore, now: datetime) -> None:
    for shard in range(SHARDS):
        sweep_shard(store, shard, now)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def counters(store: FakeTicketStore) -> dict[str, int]:
    (row,) = store.stats(["2026-11-11"])
    return {k: v for k, v in row.items() if isinstance(v, int)}


# --- 1. actions on a paused ticket are judged with the paused time added ----------------------


def test_resolving_a_paused_p2_is_judged_against_the_due_time_with_the_pause_added():
    """Opened 10:00, responded 10:10, paused 10:20, resolved the next day at 16:00 without a
    resume: due 10:00 the next day plus the 29 h 40 min paused = 15:40 the day after: met."""
    store = FakeTicketStore()
    t = opened(store, "P2", "jd:paused-1")
    apply(store, t.ticket_id, "respond", "agent-1", minutes(10))
    apply(store, t.ticket_id, "pause", "agent-1", minutes(20))
    done = apply(store, t.ticket_id, "resolve", "agent-1", minutes(30 * 60), **FIX)
    resolution = done.target("resolution")
    assert resolution is not None
    assert (resolution.met_at, resolution.breached) == ("2026-11-12T08:00:00.000Z", False)
    (event,) = store.events_of("ticket.resolved")
    assert event.data["sla"] == {"first_response": "met", "resolution": "met"}
    assert counters(store).get("targets_breached", 0) == 0


def test_a_p1_answered_while_paused_meets_its_first_response():
    """Paused at 10:05 and answered at 10:45: due 10:30 plus 40 paused minutes = 11:10: met."""
    store = FakeTicketStore()
    t = opened(store, "P1", "tmall:paused-2")
    apply(store, t.ticket_id, "pause", "quality-1", minutes(5))
    answered = apply(store, t.ticket_id, "respond", "quality-1", minutes(45))
    first = answered.target("first_response")
    assert first is not None
    assert (first.met_at, first.breached) == ("2026-11-11T02:45:00.000Z", False)
    assert answered.status == "paused"  # answering does not resume the clock
    resumed = apply(store, t.ticket_id, "resume", "quality-1", minutes(50))
    assert resumed.target("resolution").due_at == "2026-11-13T02:45:00.000Z"  # 45 min paused


def test_a_pause_that_begins_after_a_due_time_does_not_excuse_it():
    store = FakeTicketStore()
    t = opened(store, "P2", "jd:paused-3")
    apply(store, t.ticket_id, "pause", "agent-1", minutes(150))  # due at 120, nobody swept yet
    late = apply(store, t.ticket_id, "respond", "agent-1", minutes(200))
    assert late.target("first_response").breached
    resumed = apply(store, t.ticket_id, "resume", "agent-1", minutes(300))
    assert resumed.target("first_response").due_at == "2026-11-11T04:00:00.000Z"
    assert resumed.target("resolution").due_at == "2026-11-12T04:30:00.000Z"  # +150 min


# --- 2. one level a sweep; a missed team acknowledgement goes to the team's lead --------------


def test_a_p1_at_31_minutes_is_at_l2_and_the_missed_acknowledgements_go_to_the_team_leads():
    store = FakeTicketStore()
    t = opened(store, "P1", "tmall:l2-1")
    for _ in range(3):
        sweep_all(store, minutes(31))
    ticket = store.tickets[t.ticket_id]
    assert ticket.summary()["escalation_level"] == "L2"
    escalations = store.events_of("ticket.escalated")
    raised = [e for e in escalations if "team" not in e.data]
    teams = sorted(
        (e.data["team"], e.data["audience"], e.data["level"])
        for e in escalations
        if e not in raised
    )
    assert [e.data["level"] for e in raised] == ["L2"]
    assert teams == [
        ("pr", "pr_lead", "L2"),
        ("quality", "quality_lead", "L2"),
        ("supply_chain", "supply_chain_lead", "L2"),
    ]
    assert len(escalations) == 4
    sweep_all(store, minutes(4 * 60 + 1))  # the initial handling opinion is late too: next level
    assert store.tickets[t.ticket_id].summary()["escalation_level"] == "L3"


def test_breaches_that_fall_due_in_one_sweep_raise_the_level_once():
    store = FakeTicketStore()
    t = opened(store, "P1", "tmall:l2-2")
    sweep_all(store, minutes(5 * 60))  # first response and initial handling both past due
    ticket = store.tickets[t.ticket_id]
    assert ticket.summary()["escalation_level"] == "L2"
    (raised,) = [e for e in store.events_of("ticket.escalated") if "team" not in e.data]
    assert raised.data["reason"] == "first_response, initial_handling breached"


def test_an_acknowledgement_in_time_sends_nothing_to_the_team_lead():
    store = FakeTicketStore()
    t = opened(store, "P1", "tmall:l2-3")
    apply(store, t.ticket_id, "respond", "quality-1", minutes(10))
    for team in ("quality", "supply_chain", "pr"):
        apply(store, t.ticket_id, "acknowledge", f"{team}-1", minutes(20), team=team)
    sweep_all(store, minutes(31))
    assert store.events_of("ticket.escalated") == []


# --- 3. a reopened ticket gets fresh targets --------------------------------------------------


def test_a_reopened_ticket_gets_fresh_targets_and_its_clock_runs_again():
    store = FakeTicketStore()
    t = opened(store, "P2", "jd:reopen-1")
    sweep_all(store, minutes(121))  # the first response breached in the first cycle
    apply(store, t.ticket_id, "resolve", "agent-1", minutes(180), **FIX)
    reopened = apply(store, t.ticket_id, "reopen", "agent-1", minutes(240))
    assert reopened.next_check() == "2026-11-11T07:30:00.000Z"  # 75% of 2 h after 14:00
    assert reopened.summary()["first_response_due"] == "2026-11-11T08:00:00.000Z"
    assert reopened.summary()["resolution_due"] == "2026-11-12T06:00:00.000Z"
    assert {(x.name, x.cycle) for x in reopened.targets} == {
        ("first_response", 0),
        ("resolution", 0),
        ("first_response", 1),
        ("resolution", 1),
    }
    sweep_all(store, minutes(240 + 10 * 24 * 60))  # ten days later
    ticket = store.tickets[t.ticket_id]
    assert ticket.summary()["escalation_level"] == "L3"  # cycle 0's breach, then cycle 1's
    assert len(store.events_of("ticket.escalated")) == 2  # distinct events, both published
    assert ticket.target("resolution").breached


def test_a_ticket_reopened_twice_escalates_and_its_third_cycle_runs():
    store = FakeTicketStore()
    t = opened(store, "P3", "app:reopen-2")
    for n in range(2):
        apply(store, t.ticket_id, "resolve", "agent-1", minutes(10 + n * 20), **FIX)
        apply(store, t.ticket_id, "reopen", "agent-1", minutes(20 + n * 20))
    ticket = store.tickets[t.ticket_id]
    assert (ticket.reopen_count, ticket.summary()["escalation_level"]) == (2, "L2")
    assert ticket.target("first_response").cycle == 2
    assert ticket.next_check() is not None


# --- 4. each ticket counted once in the service metrics ---------------------------------------


def test_resolve_reopen_resolve_counts_the_ticket_as_resolved_once():
    store = FakeTicketStore()
    t = opened(store, "P2", "jd:rate-1")
    apply(store, t.ticket_id, "respond", "agent-1", minutes(10))
    apply(store, t.ticket_id, "resolve", "agent-1", minutes(60), **FIX)
    apply(store, t.ticket_id, "reopen", "agent-1", minutes(70))
    assert counters(store)["resolved"] == 0  # reopened: not resolved now
    apply(store, t.ticket_id, "respond", "agent-1", minutes(80))
    apply(store, t.ticket_id, "resolve", "agent-1", minutes(90), **FIX)
    apply(store, t.ticket_id, "close", "agent-1", minutes(100))
    row = counters(store)
    assert (row["created"], row["resolved"], row["responded"]) == (1, 1, 1)
    assert row["response_seconds"] == 600  # the first cycle's first response


# --- 5. initial handling is its own action; a request id makes an action happen once ----------


def test_a_second_respond_does_not_meet_the_initial_handling_opinion():
    store = FakeTicketStore()
    t = opened(store, "P1", "tmall:handling-1")
    apply(store, t.ticket_id, "respond", "quality-1", minutes(10))
    twice = apply(store, t.ticket_id, "respond", "quality-1", minutes(20))
    assert twice.target("initial_handling").met_at is None
    with pytest.raises(InvalidInput) as blank:
        apply(store, t.ticket_id, "initial_handling", "quality-1", minutes(30), note="  ")
    assert [d["field"] for d in blank.value.details] == ["note"]
    handled = apply(
        store, t.ticket_id, "initial_handling", "quality-1", minutes(30), note="批次已封存，待检测"
    )
    assert handled.target("initial_handling").met_at == "2026-11-11T02:30:00.000Z"


def test_initial_handling_also_counts_as_the_first_response_and_needs_a_p1():
    store = FakeTicketStore()
    t = opened(store, "P1", "tmall:handling-2")
    handled = apply(store, t.ticket_id, "initial_handling", "q-1", minutes(20), note="已封存")
    assert handled.target("first_response").met_at == "2026-11-11T02:20:00.000Z"
    p2 = opened(store, "P2", "jd:handling-3")
    with pytest.raises(InvalidInput) as refused:
        apply(store, p2.ticket_id, "initial_handling", "agent-1", minutes(20), note="x")
    assert [d["field"] for d in refused.value.details] == ["action"]


def test_the_same_request_id_again_answers_the_ticket_and_changes_nothing():
    store = FakeTicketStore()
    t = opened(store, "P2", "jd:once-1")
    first = apply(store, t.ticket_id, "pause", "agent-1", minutes(10), request_id="r-1")
    again = apply(store, t.ticket_id, "pause", "agent-1", minutes(11), request_id="r-1")
    assert again == first == store.tickets[t.ticket_id]
    apply(store, t.ticket_id, "resume", "agent-1", minutes(20), request_id="r-2")
    apply(store, t.ticket_id, "resume", "agent-1", minutes(21), request_id="r-2")
    assert [h.action for h in store.tickets[t.ticket_id].history] == ["open", "pause", "resume"]
    with pytest.raises(Conflict) as reused:
        apply(store, t.ticket_id, "respond", "agent-1", minutes(22), request_id="r-1")
    assert [d["field"] for d in reused.value.details] == ["request_id"]
    # another caller's request id is its own
    apply(store, t.ticket_id, "respond", "agent-2", minutes(23), request_id="r-1")
    # without a request id, a repeated status change is refused and changes nothing
    apply(store, t.ticket_id, "pause", "agent-1", minutes(30))
    with pytest.raises(Conflict):
        apply(store, t.ticket_id, "pause", "agent-1", minutes(30))


# --- 10. CSAT once per ticket and kept; resolving needs real text -----------------------------


def test_close_keeps_csat_and_a_reopened_ticket_counts_it_once_with_the_latest_answer():
    store = FakeTicketStore()
    t = opened(store, "P2", "jd:csat-1")
    apply(store, t.ticket_id, "resolve", "agent-1", minutes(60), csat=3, **FIX)
    closed = apply(store, t.ticket_id, "close", "agent-1", minutes(70))
    assert closed.csat == 3
    reopened = apply(store, t.ticket_id, "reopen", "agent-1", minutes(80))
    assert reopened.csat == 3
    apply(store, t.ticket_id, "resolve", "agent-1", minutes(90), **FIX)
    last = apply(store, t.ticket_id, "close", "agent-1", minutes(100), csat=5)
    assert last.csat == 5
    row = counters(store)
    assert (row["csat_count"], row["csat_sum"]) == (1, 5)


@pytest.mark.parametrize(
    ("fields", "missing"),
    [
        ({"root_cause": " ", "corrective_action": "补发"}, ["root_cause"]),
        ({"root_cause": "封口", "corrective_action": "\n\t "}, ["corrective_action"]),
        ({"root_cause": "", "corrective_action": "　"}, ["root_cause", "corrective_action"]),
    ],
)
def test_a_blank_root_cause_or_corrective_action_does_not_resolve(fields, missing):
    store = FakeTicketStore()
    t = opened(store, "P2", "jd:blank-1")
    with pytest.raises(InvalidInput) as refused:
        apply(store, t.ticket_id, "resolve", "agent-1", minutes(60), **fields)
    assert [d["field"] for d in refused.value.details] == missing
    assert store.tickets[t.ticket_id].status == "open"


# --- decision: a ticket keeps the calendar and the targets it was given ------------------------


def test_a_policy_changed_while_a_ticket_is_open_applies_from_its_next_reopen(monkeypatch):
    store = FakeTicketStore()
    evening = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
    t = opened(store, "P3", "app:policy-1", at=evening)
    assert t.clock == BUSINESS_HOURS.spec
    monkeypatch.setitem(BY_PRIORITY, "P3", replace(BY_PRIORITY["P3"], calendar=ALWAYS))
    apply(store, t.ticket_id, "pause", "agent-1", evening + timedelta(minutes=30))
    resumed = apply(store, t.ticket_id, "resume", "agent-1", evening + timedelta(hours=14))
    # paused 20:30-10:00 on its business hours: 30 + 60 minutes; due 10:00 -> 11:30
    assert resumed.target("first_response").due_at == "2026-11-12T03:30:00.000Z"
    apply(store, t.ticket_id, "resolve", "agent-1", evening + timedelta(hours=15), **FIX)
    again = apply(store, t.ticket_id, "reopen", "agent-1", evening + timedelta(hours=16))
    assert again.clock == "24x7"
    assert again.target("first_response").due_at == "2026-11-12T06:00:00.000Z"  # 12:00 + 2 h


def test_a_p1_stored_before_initial_handling_had_its_own_action_is_read_as_it_is():
    """Items written before: initial handling of kind "response", no start, cycle or clock."""
    from omnihub.adapters.ticket_store import _ticket, ticket_item

    store = FakeTicketStore()
    item = ticket_item(opened(store, "P1", "tmall:legacy-1"))
    item["clock"] = ""
    for row in item["targets"]:
        row.pop("started_at"), row.pop("cycle")
        if row["name"] == "initial_handling":
            row["kind"] = "response"
    legacy = _ticket(item)
    assert legacy.target("initial_handling").kind == "handling"
    assert legacy.calendar == ALWAYS
    store.tickets[legacy.ticket_id] = legacy
    apply(store, legacy.ticket_id, "respond", "quality-1", minutes(5))
    twice = apply(store, legacy.ticket_id, "respond", "quality-1", minutes(6))
    assert twice.target("initial_handling").met_at is None
