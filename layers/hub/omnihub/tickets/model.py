"""A ticket, its SLA targets and every transition, as pure functions of (ticket, action, time).

Each target records its due time, its 75% warning time, and whether it was met or breached.
`next_check` is the earliest warning or breach still pending on an open ticket: the escalation
sweep's index key, so the sweep reads only tickets with something due.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from omnihub.clock import iso, parse_iso
from omnihub.errors import Conflict, InvalidInput
from omnihub.events.domain import DomainEvent
from omnihub.tickets.policies import BY_PRIORITY, ESCALATION_LEVELS, WARN_AT, Policy

ACKNOWLEDGEMENTS = {
    "P1": "您的反馈已受理，专员将在30分钟内联系您。",
    "P2": "您的反馈已受理，专员将在2小时内联系您。",
    "P3": "您的问题已收到，客服将在2小时内（工作时间）答复您。",
}
ACTIONS = ("respond", "pause", "resume", "resolve", "reopen", "close", "acknowledge")


@dataclass(frozen=True)
class Target:
    name: str
    kind: str
    due_at: str
    warn_at: str
    met_at: str | None = None
    breached: bool = False
    warned: bool = False

    @property
    def done(self) -> bool:
        return self.met_at is not None


@dataclass(frozen=True)
class Transition:
    at: str
    action: str
    actor: str
    note: str = ""


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
    targets: tuple[Target, ...] = ()
    paused_at: str | None = None
    escalation_level: int = 1
    reopen_count: int = 0
    root_cause: str | None = None
    corrective_action: str | None = None
    csat: int | None = None
    history: tuple[Transition, ...] = ()

    @property
    def policy(self) -> Policy:
        return BY_PRIORITY[self.priority]

    def target(self, name: str) -> Target | None:
        return next((t for t in self.targets if t.name == name), None)

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


def open_ticket(draft: Ticket, now: datetime, cause: str) -> Outcome:
    """Targets from the policy's calendar; P1 tells its teams at once."""
    policy = draft.policy
    targets = tuple(
        Target(
            name=rule.name,
            kind=rule.kind,
            due_at=iso(policy.calendar.add(now, rule.within)),
            warn_at=iso(policy.calendar.add(now, rule.within * WARN_AT)),
        )
        for rule in policy.targets
    )
    ticket = replace(
        draft,
        version=1,
        created_at=iso(now),
        targets=targets,
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
) -> Outcome:
    """One staff action; an action the status does not allow is a Conflict (409)."""
    at = iso(now)
    t = replace(
        ticket,
        version=ticket.version + 1,
        history=(*ticket.history, Transition(at, action, actor, note)),
    )
    events: list[DomainEvent] = []
    if action == "respond":
        _require(ticket, "open", "paused")
        pending = [x for x in t.targets if x.kind == "response" and not x.done]
        if pending:
            t = _meet(t, pending[0].name, now)
    elif action == "acknowledge":
        name = f"ack:{team}"
        if t.target(name) is None:
            raise InvalidInput("no such team on this ticket", details=[{"field": "team"}])
        t = _meet(t, name, now)
    elif action == "pause":
        _require(ticket, "open")
        t = replace(t, status="paused", paused_at=at)
    elif action == "resume":
        _require(ticket, "paused")
        assert ticket.paused_at is not None
        waited = t.policy.calendar.counted(parse_iso(ticket.paused_at), now)
        t = replace(
            t,
            status="open",
            paused_at=None,
            targets=tuple(_shift(x, waited, t.policy) for x in t.targets),
        )
    elif action == "resolve":
        _require(ticket, "open", "paused")
        missing = [
            f
            for f, v in (("root_cause", root_cause), ("corrective_action", corrective_action))
            if not v
        ]
        if missing:
            raise InvalidInput(
                "resolving needs a root cause and a corrective action",
                details=[{"field": f, "message": "required to resolve"} for f in missing],
            )
        for x in t.targets:
            if x.kind in ("response", "resolution") and not x.done:
                t = _meet(t, x.name, now)
        t = replace(
            t,
            status="resolved",
            paused_at=None,
            root_cause=root_cause,
            corrective_action=corrective_action,
        )
        events.append(
            _event(
                "ticket.resolved",
                t,
                cause,
                now,
                root_cause=root_cause,
                corrective_action=corrective_action,
                sla=_attainment(t),
            )
        )
    elif action == "reopen":
        _require(ticket, "resolved", "closed")
        t = replace(t, status="open", reopen_count=ticket.reopen_count + 1)
        if t.reopen_count == 2:
            t, escalated = _escalate(t, cause, now, "reopened twice")
            events += escalated
    elif action == "close":
        _require(ticket, "resolved")
        t = replace(t, status="closed", csat=csat)
    else:
        raise InvalidInput(f"unknown action {action}", details=[{"field": "action"}])
    if csat is not None and action != "close":
        t = replace(t, csat=csat)
    return Outcome(t, events)


def sweep(ticket: Ticket, now: datetime, cause: str) -> Outcome:
    """Warn at 75% of each open target, escalate one level at each breach; each only once."""
    if ticket.status != "open":
        return Outcome(ticket)
    events: list[DomainEvent] = []
    breaches: list[str] = []
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
                    subject=f"{x.name}:warn",
                    target=x.name,
                    due_at=x.due_at,
                )
            )
        if not x.done and not x.breached and parse_iso(x.due_at) <= now:
            x = replace(x, breached=True)
            breaches.append(x.name)
        targets.append(x)
    t = replace(ticket, targets=tuple(targets))
    for name in breaches:
        t, escalated = _escalate(t, cause, now, f"{name} breached")
        events += escalated
    if not events:
        return Outcome(ticket)
    return Outcome(replace(t, version=ticket.version + 1), events)


def _escalate(
    t: Ticket, cause: str, now: datetime, reason: str
) -> tuple[Ticket, list[DomainEvent]]:
    level = min(t.escalation_level + 1, len(ESCALATION_LEVELS))
    escalated = replace(t, escalation_level=level)
    return escalated, [
        _event(
            "ticket.escalated",
            escalated,
            cause,
            now,
            subject=reason,
            level=ESCALATION_LEVELS[level - 1],
            reason=reason,
        )
    ]


def _meet(t: Ticket, name: str, now: datetime) -> Ticket:
    def met(x: Target) -> Target:
        if x.name != name or x.done:
            return x
        return replace(x, met_at=iso(now), breached=x.breached or parse_iso(x.due_at) < now)

    return replace(t, targets=tuple(met(x) for x in t.targets))


def _shift(x: Target, waited: timedelta, policy: Policy) -> Target:
    """Paused time is added to a target still open (and not yet breached)."""
    if x.done or x.breached:
        return x
    return replace(
        x,
        due_at=iso(policy.calendar.add(parse_iso(x.due_at), waited)),
        warn_at=iso(policy.calendar.add(parse_iso(x.warn_at), waited)),
    )


def _attainment(t: Ticket) -> dict[str, str]:
    return {x.name: ("breached" if x.breached else "met") for x in t.targets if x.done}


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
