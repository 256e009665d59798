"""A ticket, its SLA targets and every transition, as pure functions of (ticket, action, time).

Each target records when its clock started, its due time, its 75% warning time, and whether it was
met or breached. A target is due after its policy's duration of *unpaused* counted time (the
ticket's calendar) from its start: resuming adds the paused time to the targets still running,
and an action on a paused ticket is judged as if it resumed then (`Ticket.due_by`). A reopen
starts a fresh cycle of targets, so the clock runs again. `next_check` is the earliest warning or
breach still pending on an open ticket: the escalation sweep's index key, so the sweep reads only
tickets with something due.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, get_args

from omnihub.clock import iso, parse_iso
from omnihub.errors import Conflict, InvalidInput
from omnihub.events.domain import DomainEvent
from omnihub.privacy import mask_text
from omnihub.tickets.calendar import Calendar
from omnihub.tickets.policies import ESCALATION_LEVELS, WARN_AT, Policy, SlaPolicies, policy_of

ACKNOWLEDGEMENTS = {
    "P1": "您的反馈已受理，专员将在30分钟内联系您。",
    "P2": "您的反馈已受理，专员将在2小时内联系您。",
    "P3": "您的问题已收到，客服将在2小时内（工作时间）答复您。",
}
ActionName = Literal[
    "respond",
    "initial_handling",
    "pause",
    "resume",
    "resolve",
    "reopen",
    "close",
    "acknowledge",
]
ACTIONS: tuple[str, ...] = get_args(ActionName)
DONE = ("resolved", "closed")  # a ticket in one of these counts as resolved (once)
MET_BY = {  # which targets of the current cycle each action meets
    "respond": ("response",),
    "initial_handling": ("response", "handling"),
    "resolve": ("response", "handling", "resolution"),
}


@dataclass(frozen=True)
class Target:
    name: str
    kind: str
    due_at: str
    warn_at: str
    met_at: str | None = None
    breached: bool = False
    warned: bool = False
    started_at: str = ""  # when its clock started: the opening, or the reopen that set it
    cycle: int = 0  # the ticket's reopen count when it was set (team acknowledgements: 0)

    @property
    def done(self) -> bool:
        return self.met_at is not None


@dataclass(frozen=True)
class Transition:
    at: str
    action: str
    actor: str
    note: str = ""
    request_id: str | None = None  # the caller's id of the request, so a repeat changes nothing


@dataclass(frozen=True)
class Ticket:
    ticket_id: str
    member_id: str | None
    channel: str
    priority: str
    created_at: str
    opened_by: str
    source: str  # feedback | store | leader | agent
    version: int = 0
    status: str = "open"  # open | paused | resolved | closed
    first_responder: str | None = None  # the store or leader that opened it (首问负责)
    subject: str = ""
    feedback_id: str | None = None
    risk: str | None = None
    topics: tuple[str, ...] = ()
    sku: str | None = None
    batch_no: str | None = None
    order_id: str | None = None
    via: str | None = None  # the lineage of the identity that brought it (identity.chain)
    targets: tuple[Target, ...] = ()
    paused_at: str | None = None
    escalation_level: int = 1
    reopen_count: int = 0
    root_cause: str | None = None
    corrective_action: str | None = None
    csat: int | None = None
    history: tuple[Transition, ...] = ()
    clock: str = ""  # the calendar its targets run on (Calendar.spec), kept from its (re)opening

    @property
    def policy(self) -> Policy:
        """Its priority's default policy (a ticket stored without a clock runs on its calendar)."""
        return policy_of(self.priority)

    @property
    def calendar(self) -> Calendar:
        """The calendar the ticket was given, not the policy's of today (docs/decisions.md)."""
        return Calendar.parse(self.clock) if self.clock else self.policy.calendar

    def target(self, name: str) -> Target | None:
        """The target of that name in the current cycle."""
        return next((t for t in reversed(self.targets) if t.name == name), None)

    def due_by(self, target: Target, now: datetime) -> datetime:
        """When `target` falls due for an action at `now`: on a paused ticket, with the paused
        time so far added, exactly as resuming at `now` would."""
        due = parse_iso(target.due_at)
        if self.paused_at is None or target.done or target.breached:
            return due
        return _shifted(due, parse_iso(self.paused_at), now, self.calendar)

    def next_check(self) -> str | None:
        if self.status != "open":
            return None
        moments = [
            t.warn_at if not t.warned else t.due_at
            for t in self.targets
            if not t.done and not (t.warned and t.breached)
        ]
        return min(moments) if moments else None

    def summary(self) -> dict[str, Any]:
        first = self.target("first_response")
        resolution = self.target("resolution")
        return {
            "ticket_id": self.ticket_id,
            "priority": self.priority,
            "status": self.status,
            "first_response_due": first.due_at if first else None,
            "resolution_due": resolution.due_at if resolution else None,
            "escalation_level": ESCALATION_LEVELS[self.escalation_level - 1],
        }


@dataclass
class Outcome:
    ticket: Ticket
    events: list[DomainEvent] = field(default_factory=list)


def ticket_id_for(cause: str) -> str:
    return "tkt_" + hashlib.sha256(f"ticket|{cause}".encode()).hexdigest()[:20]


def fresh_targets(
    policy: Policy, now: datetime, cycle: int, kinds: tuple[str, ...]
) -> tuple[Target, ...]:
    """The policy's targets of `kinds`, their clocks starting at `now`."""
    calendar = policy.calendar
    return tuple(
        Target(
            name=rule.name,
            kind=rule.kind,
            due_at=iso(calendar.add(now, rule.within)),
            warn_at=iso(calendar.add(now, rule.within * WARN_AT)),
            started_at=iso(now),
            cycle=cycle,
        )
        for rule in policy.targets
        if rule.kind in kinds
    )


def open_ticket(
    draft: Ticket, now: datetime, cause: str, policies: SlaPolicies | None = None
) -> Outcome:
    """Targets from the policy in force (`policies`, default: the defaults) on its calendar,
    which the ticket keeps (D63); P1 tells its teams at once."""
    policy = policy_of(draft.priority, policies)
    ticket = replace(
        draft,
        subject=mask_text(draft.subject),  # free text
        version=1,
        created_at=iso(now),
        targets=fresh_targets(policy, now, 0, ("response", "handling", "resolution", "ack")),
        clock=policy.calendar.kept_from(now).spec,
        history=(Transition(iso(now), "open", draft.opened_by),),
    )
    out = Outcome(ticket)
    out.events.append(
        _event(
            "ticket.created",
            ticket,
            cause,
            now,
            **ticket.summary(),
            channel=ticket.channel,
            source=ticket.source,
            first_responder=ticket.first_responder,
        )
    )
    if ticket.source != "feedback":  # feedback routing acknowledged its own requests already
        out.events.append(
            _event(
                "notification.requested",
                ticket,
                cause,
                now,
                subject="customer",
                audience="customer",
                purpose="ticket_acknowledgement",
                text=ACKNOWLEDGEMENTS.get(ticket.priority, ACKNOWLEDGEMENTS["P3"]),
            )
        )
    for team in policy.teams:
        out.events.append(
            _event(
                "notification.requested",
                ticket,
                cause,
                now,
                subject=f"team:{team}",
                audience=team,
                purpose="team_alert",
                text=f"食品安全工单 {ticket.ticket_id}（批次 {ticket.batch_no or '未知'}）"
                "请在30分钟内确认。",
            )
        )
    return out


def act(
    ticket: Ticket,
    action: str,
    actor: str,
    now: datetime,
    cause: str,
    *,
    note: str = "",
    root_cause: str | None = None,
    corrective_action: str | None = None,
    csat: int | None = None,
    team: str | None = None,
    request_id: str | None = None,
    policies: SlaPolicies | None = None,
) -> Outcome:
    """One staff action; an action the status does not allow is a Conflict (409). A reopen
    takes fresh targets from `policies` (default: the defaults).

    With a `request_id` the action happens once: the same actor's same id again returns the
    ticket unchanged (the very object: nothing to write), or is a Conflict for another action.
    """
    if request_id is not None:
        seen = next(
            (h for h in ticket.history if h.request_id == request_id and h.actor == actor), None
        )
        if seen is not None:
            if seen.action != action:
                raise Conflict(
                    f"request {request_id} was a {seen.action}",
                    details=[{"field": "request_id", "message": "already used for another action"}],
                )
            return Outcome(ticket)
    at = iso(now)
    note = mask_text(note)  # free text: phones and ID numbers never stay readable
    t = replace(
        ticket,
        version=ticket.version + 1,
        history=(*ticket.history, Transition(at, action, actor, note, request_id)),
    )
    events: list[DomainEvent] = []
    if action == "respond":
        _require(ticket, "open", "paused")
        t = _meet(t, MET_BY[action], now)
    elif action == "initial_handling":
        _require(ticket, "open", "paused")
        if t.target("initial_handling") is None:
            raise InvalidInput(
                f"a {ticket.priority} ticket has no initial handling target",
                details=[{"field": "action", "message": "only P1 tickets take it"}],
            )
        if not note.strip():
            raise InvalidInput(
                "the initial handling opinion goes in the note",
                details=[{"field": "note", "message": "required for initial_handling"}],
            )
        t = _meet(t, MET_BY[action], now)
    elif action == "acknowledge":
        name = f"ack:{team}"
        if t.target(name) is None:
            raise InvalidInput("no such team on this ticket", details=[{"field": "team"}])
        t = _meet(t, (), now, name)
    elif action == "pause":
        _require(ticket, "open")
        t = replace(t, status="paused", paused_at=at)
    elif action == "resume":
        _require(ticket, "paused")
        t = replace(t, status="open", paused_at=None, targets=_resumed(ticket, now))
    elif action == "resolve":
        _require(ticket, "open", "paused")
        root_cause, corrective_action = _text(root_cause), _text(corrective_action)
        missing = [
            f
            for f, v in (("root_cause", root_cause), ("corrective_action", corrective_action))
            if not v
        ]
        if missing:
            raise InvalidInput(
                "resolving needs a root cause and a corrective action",
                details=[
                    {"field": f, "message": "required to resolve (not blank)"} for f in missing
                ],
            )
        t = replace(t, paused_at=None, targets=_resumed(ticket, now))  # the pause ends too
        t = _meet(t, MET_BY[action], now)
        t = replace(
            t,
            status="resolved",
            root_cause=root_cause,
            corrective_action=corrective_action,
        )
        events.append(
            _event(
                "ticket.resolved",
                t,
                cause,
                now,
                subject=f"cycle:{t.reopen_count}",
                # no free text on the bus: the outbox, queues and DLQs keep copies that an
                # erasure cannot reach; readers get root cause and action from the API
                sla=_attainment(t),
            )
        )
    elif action == "reopen":
        _require(ticket, *DONE)
        cycle = ticket.reopen_count + 1
        policy = policy_of(t.priority, policies)  # the policy in force now: fresh targets
        t = replace(
            t,
            status="open",
            reopen_count=cycle,
            clock=policy.calendar.kept_from(now).spec,
            targets=(
                *t.targets,
                *fresh_targets(policy, now, cycle, ("response", "handling", "resolution")),
            ),
        )
        if t.reopen_count == 2:
            t, escalated = _escalate(t, cause, now, "reopened twice")
            events += escalated
    elif action == "close":
        _require(ticket, "resolved")
        t = replace(t, status="closed")
    else:
        raise InvalidInput(f"unknown action {action}", details=[{"field": "action"}])
    if csat is not None:  # the customer's latest answer counts; nothing else clears it
        t = replace(t, csat=csat)
    return Outcome(t, events)


def sweep(ticket: Ticket, now: datetime, cause: str) -> Outcome:
    """Warn at 75% of each running target; escalate once for whatever breached since the last
    sweep (breaches in one sweep raise the level once). A team that missed its
    acknowledgement goes to its lead without raising the ticket's level. Each only once."""
    if ticket.status != "open":
        return Outcome(ticket)
    events: list[DomainEvent] = []
    breached: list[Target] = []
    targets = []
    for x in ticket.targets:
        if not x.done and not x.warned and parse_iso(x.warn_at) <= now:
            x = replace(x, warned=True)
            events.append(
                _event(
                    "ticket.sla_warning",
                    ticket,
                    cause,
                    now,
                    subject=f"{x.name}@{x.cycle}:warn",
                    target=x.name,
                    due_at=x.due_at,
                )
            )
        if not x.done and not x.breached and parse_iso(x.due_at) < now:
            x = replace(x, breached=True)
            breached.append(x)
        targets.append(x)
    t = replace(ticket, targets=tuple(targets))
    late = [x.name for x in breached if x.kind != "ack"]
    if late:
        t, escalated = _escalate(
            t,
            cause,
            now,
            f"{', '.join(late)} breached",
            subject=f"{'+'.join(late)}@{t.reopen_count}",
        )
        events += escalated
    for x in breached:
        if x.kind == "ack":
            team = x.name.split(":", 1)[1]
            events.append(
                _event(
                    "ticket.escalated",
                    t,
                    cause,
                    now,
                    subject=f"{x.name}:missed",
                    level=ESCALATION_LEVELS[t.escalation_level - 1],
                    team=team,
                    audience=f"{team}_lead",
                    reason=f"{team} did not acknowledge in time",
                )
            )
    if not events:
        return Outcome(ticket)
    return Outcome(replace(t, version=ticket.version + 1), events)


def _escalate(
    t: Ticket, cause: str, now: datetime, reason: str, subject: str | None = None
) -> tuple[Ticket, list[DomainEvent]]:
    level = min(t.escalation_level + 1, len(ESCALATION_LEVELS))
    escalated = replace(t, escalation_level=level)
    return escalated, [
        _event(
            "ticket.escalated",
            escalated,
            cause,
            now,
            subject=subject or reason,
            level=ESCALATION_LEVELS[level - 1],
            reason=reason,
        )
    ]


def _meet(t: Ticket, kinds: tuple[str, ...], now: datetime, name: str | None = None) -> Ticket:
    """Meet the running targets of `kinds` of the current cycle (or the one named), each judged
    against (and recording) its due time with any paused time added."""

    def met(x: Target) -> Target:
        if x.done or not (x.name == name or (x.kind in kinds and x.cycle == t.reopen_count)):
            return x
        due = t.due_by(x, now)
        return replace(x, met_at=iso(now), due_at=iso(due), breached=x.breached or due < now)

    return replace(t, targets=tuple(met(x) for x in t.targets))


def _shifted(
    moment: datetime, paused_at: datetime, until: datetime, calendar: Calendar
) -> datetime:
    """`moment` with the counted time paused from `paused_at` until `until` added, if it was
    still ahead when the pause began (a due time already past gains nothing)."""
    waited = calendar.counted(paused_at, until)
    if moment <= paused_at or not waited:
        return moment
    return calendar.add(moment, waited)


def _resumed(t: Ticket, now: datetime) -> tuple[Target, ...]:
    """The targets of `t` with the time paused until `now` added to those still running."""
    if t.paused_at is None:
        return t.targets
    paused_at = parse_iso(t.paused_at)
    return tuple(
        x
        if x.done or x.breached
        else replace(
            x,
            due_at=iso(_shifted(parse_iso(x.due_at), paused_at, now, t.calendar)),
            warn_at=iso(_shifted(parse_iso(x.warn_at), paused_at, now, t.calendar)),
        )
        for x in t.targets
    )


def _text(value: str | None) -> str | None:
    """A required free text, stripped and masked; None when blank."""
    return mask_text(value.strip()) if value and value.strip() else None


def _attainment(t: Ticket) -> dict[str, str]:
    return {
        x.name: ("breached" if x.breached else "met")
        for x in t.targets
        if x.done and x.cycle == t.reopen_count
    }


def _require(t: Ticket, *statuses: str) -> None:
    if t.status not in statuses:
        raise Conflict(
            f"a {t.status} ticket cannot do that",
            details=[{"field": "action", "message": f"ticket is {t.status}"}],
        )


def _event(
    kind: str, t: Ticket, cause: str, now: datetime, subject: str = "", **data: Any
) -> DomainEvent:
    return DomainEvent(
        type=kind,
        member_id=t.member_id,
        causing_event_id=cause,
        occurred_at=now,
        subject=f"{t.ticket_id}:{subject}",
        data={"ticket_id": t.ticket_id, **data},
    )
