"""Properties of ticket clocks over any history of actions and sweeps.

For any sequence of respond, initial handling, acknowledgements, pause, resume, resolve, reopen,
close and sweeps, at any times, on 24x7 and business-hours calendars:
- each target is due after exactly its policy's duration of UNPAUSED counted time from its start
  (checked against an independent count of the pauses this test keeps itself);
- a target met is breached exactly when it was met after that due time;
- a sweep raises the level at most once, never for a team's missed acknowledgement, and
  breaches what is past due (and nothing else);
- every escalation and warning is its own published event (none swallowed by a repeated id);
- the ticket's CSAT is the customer's latest answer, kept through close and reopen;
- the service counters count the ticket once: created 1, resolved 1 exactly while it is
  resolved or closed, its CSAT once (the latest answer), its first response once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from unittest.mock import patch

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from omnihub.clock import parse_iso
from omnihub.errors import Conflict, InvalidInput
from omnihub.tickets.calendar import ALWAYS, BUSINESS_HOURS, Calendar
from omnihub.tickets.model import DONE, Target, Ticket, ticket_id_for
from omnihub.tickets.policies import BY_PRIORITY, WARN_AT
from omnihub.tickets.service import SHARDS, apply, open_once, sweep_shard
from tests.fakes.member_store import FakeMemberStore
from tests.fakes.ticket_store import FakeTicketStore

T0 = datetime(2026, 11, 9, 0, 0, tzinfo=UTC)  # a Monday, 08:00 in Shanghai
CALENDARS = (ALWAYS, BUSINESS_HOURS, Calendar(hours=((time(8, 30), time(17, 45)),)))
FIX = {"root_cause": "原因", "corrective_action": "措施"}

ACTIONS = st.one_of(
    st.sampled_from(  # pauses, resumes, resolves, reopens and sweeps twice as often
        [
            *("respond", "pause", "resume", "resolve", "reopen", "close", "sweep", "sweep"),
            *("pause", "resume", "resolve", "reopen", "initial_handling"),
            *("ack:quality", "ack:supply_chain", "ack:pr"),
        ]
    ),
    st.tuples(st.just("csat"), st.integers(1, 5)),
)
GAPS = st.one_of(  # minutes: often short, sometimes days, sometimes exactly a target's length
    st.integers(0, 45),
    st.integers(0, 3 * 24 * 60),
    st.sampled_from([15, 30, 90, 120, 180, 240]),
)
STEPS = st.lists(st.tuples(GAPS, ACTIONS), min_size=8, max_size=40)


@dataclass
class Pauses:
    """The pauses as this test saw them happen: (start, end); an open one ends `now`."""

    closed: list[tuple[datetime, datetime]] = field(default_factory=list)
    open_since: datetime | None = None

    def until(self, now: datetime) -> list[tuple[datetime, datetime]]:
        return self.closed + ([(self.open_since, now)] if self.open_since else [])


def unpaused(
    calendar: Calendar, start: datetime, end: datetime, pauses: list[tuple[datetime, datetime]]
) -> timedelta:
    """Counted time from `start` to `end` less the counted time paused in between."""
    total = calendar.counted(start, end)
    for p, r in pauses:
        total -= calendar.counted(max(p, start), min(r, end))
    return total


def within(policy_priority: str, name: str) -> timedelta:
    return next(r.within for r in BY_PRIORITY[policy_priority].targets if r.name == name)


def check_clocks(ticket: Ticket, pauses: Pauses, now: datetime) -> None:
    calendar = ticket.calendar
    for x in ticket.targets:
        start = parse_iso(x.started_at)
        running = not x.done and not x.breached
        due = ticket.due_by(x, now) if running else parse_iso(x.due_at)
        frozen = parse_iso(x.met_at) if x.done else now
        seen = pauses.until(now)
        clipped = [(p, min(r, frozen)) for p, r in seen if p < frozen]
        assert unpaused(calendar, start, due, clipped) == within(ticket.priority, x.name), x
        if running and not x.warned and ticket.paused_at is None:
            warn = parse_iso(x.warn_at)
            expected = within(ticket.priority, x.name) * WARN_AT
            assert unpaused(calendar, start, warn, clipped) == expected, x


def check_counters(store: FakeTicketStore, ticket: Ticket) -> None:
    (row,) = store.stats([r[0] for r in store.counters])
    assert row["created"] == 1
    assert row.get("resolved", 0) == (1 if ticket.status in DONE else 0)
    assert row.get("csat_count", 0) == (0 if ticket.csat is None else 1)
    assert row.get("csat_sum", 0) == (ticket.csat or 0)
    assert row.get("responded", 0) <= 1
    breached = sum(1 for x in ticket.targets if x.breached)
    met = sum(1 for x in ticket.targets if x.done and not x.breached)
    assert (row.get("targets_breached", 0), row.get("targets_met", 0)) == (breached, met)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(priority="P1", calendar=ALWAYS, opened_after=0, steps=[(30, "sweep"), (1, "sweep")])
@example(priority="P3", calendar=BUSINESS_HOURS, opened_after=12 * 60, steps=[(60, "pause")] * 8)
@given(
    priority=st.sampled_from(["P1", "P2", "P3"]),
    calendar=st.sampled_from(CALENDARS),
    opened_after=st.integers(0, 7 * 24 * 60),
    steps=STEPS,
)
def test_clocks_keep_their_promises(priority, calendar, opened_after, steps):
    policy = replace(BY_PRIORITY[priority], calendar=calendar)
    with patch.dict(BY_PRIORITY, {priority: policy}):
        run(priority, T0 + timedelta(minutes=opened_after), steps)


def run(priority: str, now: datetime, steps: list) -> None:
    store = FakeTicketStore()
    draft = Ticket(
        ticket_id=ticket_id_for("prop"),
        member_id="mbr_a",
        channel="jd",
        priority=priority,
        created_at="",
        opened_by="system",
        source="feedback",
    )
    ticket = open_once(store, FakeMemberStore(), draft, now, "prop")
    pauses, escalations, answer = Pauses(), 0, None
    check_clocks(ticket, pauses, now)
    for gap, step in steps:
        now += timedelta(minutes=gap)
        before = store.tickets[ticket.ticket_id]
        if step == "sweep":
            for shard in range(SHARDS):
                sweep_shard(store, shard, now)
        else:
            try:
                act_on(store, before, step, now)
            except (Conflict, InvalidInput):
                assert store.tickets[ticket.ticket_id] == before  # refused: nothing changed
                continue
        after = store.tickets[ticket.ticket_id]
        if isinstance(step, tuple):
            answer = step[1]
        assert after.csat == answer  # the latest answer, kept through close and reopen
        escalations += escalated(before, after, step)
        if before.status == "paused" and after.status != "paused":
            assert pauses.open_since is not None
            pauses.closed.append((pauses.open_since, now))
            pauses.open_since = None
        if after.status == "paused" and before.status != "paused":
            pauses.open_since = now
        judged(before, after, step, now)
        check_clocks(after, pauses, now)
        check_counters(store, after)
        assert len(store.events_of("ticket.escalated")) == escalations
        assert len(store.events_of("ticket.sla_warning")) == sum(x.warned for x in after.targets)
        if step == "reopen":
            assert after.next_check() is not None  # fresh targets: the clock runs again


def act_on(store: FakeTicketStore, ticket: Ticket, step: object, now: datetime) -> None:
    tid = ticket.ticket_id
    if isinstance(step, tuple):  # the customer answers: recorded with the next action
        action = "close" if ticket.status == "resolved" else "respond"
        apply(store, tid, action, "agent", now, csat=step[1])
    elif isinstance(step, str) and step.startswith("ack:"):
        apply(store, tid, "acknowledge", "team", now, team=step.split(":", 1)[1])
    elif step == "initial_handling":
        apply(store, tid, "initial_handling", "agent", now, note="初步处理意见")
    elif step == "resolve":
        apply(store, tid, "resolve", "agent", now, **FIX)
    else:
        apply(store, tid, str(step), "agent", now)


def escalated(before: Ticket, after: Ticket, step: object) -> int:
    """The escalation events this step should have published, checking the level rules."""
    rise = after.escalation_level - before.escalation_level
    assert rise in (0, 1), (before.escalation_level, after.escalation_level)
    old = {(x.name, x.cycle): x for x in before.targets}
    newly = [x for x in after.targets if x.breached and not old.get((x.name, x.cycle), x).breached]
    if step == "sweep":
        late = [x for x in newly if x.kind != "ack"]
        missed = [x for x in newly if x.kind == "ack"]
        if not late:
            assert rise == 0  # a team's missed acknowledgement never raises the level
        return (1 if late else 0) + len(missed)
    if step == "reopen" and after.reopen_count == 2 and before.status != "open":
        return 1
    assert rise == 0
    return 0


def judged(before: Ticket, after: Ticket, step: object, now: datetime) -> None:
    """A target met now is breached exactly when now is past its due time (pause added); a
    sweep of an open ticket breaches exactly its running targets past due."""
    old = {(x.name, x.cycle): x for x in before.targets}
    for x in after.targets:
        was: Target | None = old.get((x.name, x.cycle))
        if was is None:
            assert (x.done, x.breached) == (False, False)  # a fresh target
            continue
        if x.done and not was.done:
            assert x.breached == (was.breached or now > before.due_by(was, now)), x
        if step == "sweep" and before.status == "open" and not x.done:
            assert x.breached == (was.breached or parse_iso(x.due_at) < now), x
        elif not x.done:
            assert x.breached == was.breached, x  # only a sweep or a late answer breaches
