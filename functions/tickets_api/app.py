"""Staff API over tickets: list, open (stores and leaders as first responders), read, act, and
the service metrics. A member id is followed to its live survivor, to open on and to list by
: an absorbed member's tickets are its survivor's."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from omnihub import wiring
from omnihub.adapters.leaders_store import leaders_store
from omnihub.api.http import build_resolver, caller, handle
from omnihub.api.openapi import responses
from omnihub.api.params import Day, WholeNumber
from omnihub.clock import business_date, default_clock
from omnihub.errors import Forbidden, InvalidInput, NotFound
from omnihub.events.fields import Id
from omnihub.identity.chain import live_root
from omnihub.observability import powertools
from omnihub.privacy import mask_optional, mask_text
from omnihub.tickets.access import can_do, can_see, check_opening, opener_of
from omnihub.tickets.model import ActionName, Ticket, ticket_id_for
from omnihub.tickets.service import apply, open_once

logger, tracer, metrics = powertools()

EVERYONE = frozenset({"agent", "quality", "admin", "store", "leader"})
POLICIES = {
    "GET /v1/tickets": EVERYONE,
    "POST /v1/tickets": EVERYONE,
    "GET /v1/tickets/{id}": EVERYONE,
    "POST /v1/tickets/{id}/actions": EVERYONE,
    "GET /v1/metrics/service": frozenset({"quality", "admin"}),
}
app = build_resolver(logger, POLICIES)
TicketId = Annotated[str, Path(pattern=r"^tkt_[0-9a-f]+$")]


class TargetView(BaseModel):
    name: str
    due_at: str
    met_at: str | None
    breached: bool
    started_at: str | None = None
    cycle: int = 0  # 0 from the opening, n from the n-th reopen (fresh targets)


class ActionView(BaseModel):
    """One step of the ticket's history; the note is masked."""

    at: str
    action: str
    actor: str
    note: str = ""


class TicketView(BaseModel):
    ticket_id: str
    subject: str = Field(description="What the ticket is about (phones and ID numbers masked)")
    priority: str
    status: str
    first_response_due: str | None
    resolution_due: str | None
    escalation_level: str
    member_id: str | None
    channel: str
    source: str
    first_responder: str | None
    created_at: str
    reopen_count: int
    paused_at: str | None = None
    targets: list[TargetView]
    root_cause: str | None = None
    corrective_action: str | None = None
    csat: int | None = None
    history: list[ActionView] = Field(
        default_factory=list, description="Every action, oldest first, notes masked"
    )


class TicketList(BaseModel):
    items: list[TicketView]


class NewTicket(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: Annotated[str, Field(pattern=r"^mbr_[0-9a-f]+$")]
    channel: Id
    subject: Annotated[str, Field(min_length=1, max_length=500)]
    priority: Literal["P1", "P2", "P3"] | None = None
    intent: Literal["complaint", "inquiry"] | None = None
    risk: Literal["high", "medium", "low"] | None = None
    request_id: Id | None = None
    order_id: Id | None = None
    sku: Id | None = None
    batch_no: Id | None = None


class Action(BaseModel):
    """One action on a ticket. `initial_handling` records a P1's initial handling
    opinion (the `note`), its own 4-hour target; `respond` meets only the first response. A
    repeat of a `request_id` answers the ticket and changes nothing; without one, a repeated
    status change answers 409 and a repeated respond only adds a note (docs/decisions.md)."""

    model_config = ConfigDict(extra="forbid")
    action: ActionName
    note: Annotated[
        str, Field(max_length=2000, description="required (not blank) for initial_handling")
    ] = ""
    root_cause: Annotated[
        str | None, Field(max_length=2000, description="required (not blank) to resolve")
    ] = None
    corrective_action: Annotated[
        str | None, Field(max_length=2000, description="required (not blank) to resolve")
    ] = None
    csat: Annotated[
        Annotated[int, Field(strict=True, ge=1, le=5), WholeNumber] | None,
        Field(description="the customer's answer, 1-5; the latest counts"),
    ] = None
    team: Annotated[
        Literal["quality", "supply_chain", "pr"] | None,
        Field(description="the team that acknowledges (acknowledge only)"),
    ] = None
    request_id: Annotated[
        Id | None,
        Field(description="the caller's id of this request: the same id again changes nothing"),
    ] = None


class ServiceRow(BaseModel):
    channel: str
    priority: str
    created: int
    first_response_avg_minutes: float | None
    resolution_rate: float | None
    sla_attainment: float | None
    csat: float | None


class ServiceMetrics(BaseModel):
    from_date: str
    to_date: str
    items: list[ServiceRow]


def view(ticket: Ticket) -> TicketView:
    return TicketView(
        **ticket.summary(),
        member_id=ticket.member_id,
        channel=ticket.channel,
        source=ticket.source,
        first_responder=ticket.first_responder,
        created_at=ticket.created_at,
        reopen_count=ticket.reopen_count,
        paused_at=ticket.paused_at,
        targets=[
            TargetView(
                name=t.name,
                due_at=t.due_at,
                met_at=t.met_at,
                breached=t.breached,
                started_at=t.started_at or None,
                cycle=t.cycle,
            )
            for t in ticket.targets
        ],
        root_cause=mask_optional(ticket.root_cause),  # rows from before masking at intake
        corrective_action=mask_optional(ticket.corrective_action),
        csat=ticket.csat,
        subject=mask_text(ticket.subject),  # masked at intake; rows from before, here
        history=[
            ActionView(at=h.at, action=h.action, actor=h.actor, note=mask_text(h.note))
            for h in ticket.history
        ],
    )


def _visible(ticket_id: str) -> Ticket:
    ticket = wiring.ticket_store().get(ticket_id)
    if ticket is None or not can_see(caller(app), ticket):
        raise NotFound(f"no ticket {ticket_id}")  # another's ticket is not confirmed to exist
    return ticket


@app.get("/v1/tickets")
def list_tickets(
    member_id: Annotated[str, Query(pattern=r"^mbr_[0-9a-f]+$")],
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> TicketList:
    """The member's tickets (an absorbed id's are its survivor's), newest first; a store or a
    leader sees only the tickets it may (the ones it opened or is first responder of)."""
    principal = caller(app)
    root, _erased = live_root(wiring.member_store(), member_id)
    tickets = wiring.ticket_store().by_member(root, limit)
    return TicketList(items=[view(t) for t in tickets if can_see(principal, t)])


def _bound_leader(member_id: str) -> str | None:
    """The leader the member's live survivor is bound to (None: unbound, unknown, erased)."""
    root, erased = live_root(wiring.member_store(), member_id)
    binding = None if erased else leaders_store().binding(root)
    return binding.leader_id if binding else None


@app.post(
    "/v1/tickets", status_code=201, responses=responses(201, 409, 410, ok_description="Opened")
)
def open_ticket(request: NewTicket) -> TicketView:
    """Open a ticket on the member's live survivor; priority and SLA targets come from the
    policy. A suggestion (P4) belongs on the product board: 422 on `intent`."""
    principal = caller(app)
    opener = opener_of(principal)
    if principal.role in ("store", "leader") and opener is None:
        raise Forbidden("the token names no store or leader to respond first")
    bound = _bound_leader(request.member_id) if principal.role == "leader" else None
    check_opening(principal, request.model_dump(include={"priority", "risk"}), bound)
    cause = f"api:{principal.role}:{principal.subject}:{request.request_id or uuid.uuid4().hex}"
    policies = wiring.sla_policies()
    policy = policies.policy_for(request.risk, request.intent or "complaint", request.priority)
    if policy.priority == "P4":
        raise InvalidInput(
            "suggestions go to the product board, not to a ticket", details=[{"field": "intent"}]
        )
    draft = Ticket(
        ticket_id=ticket_id_for(cause),
        member_id=request.member_id,
        channel=request.channel,
        priority=policy.priority,
        created_at="",
        opened_by=f"{principal.role}:{principal.subject}",
        source=principal.role if principal.role in ("store", "leader") else "agent",
        first_responder=opener,
        subject=request.subject,
        risk=request.risk,
        order_id=request.order_id,
        sku=request.sku,
        batch_no=request.batch_no,
    )
    ticket = open_once(
        wiring.ticket_store(),
        wiring.member_store(),
        draft,
        default_clock().now(),
        cause,
        refuse_erased=True,
        refuse_unknown=True,
        policies=policies,
    )
    return view(ticket)


@app.get("/v1/tickets/<ticket_id>", responses=responses(200, 404))
def get_ticket(ticket_id: TicketId) -> TicketView:
    """One ticket with its SLA targets; another's ticket answers 404, as a missing one does."""
    return view(_visible(ticket_id))


@app.post("/v1/tickets/<ticket_id>/actions", responses=responses(200, 404, 409))
def act_on_ticket(ticket_id: TicketId, request: Action) -> TicketView:
    """Respond, pause, resume, resolve, reopen, close or acknowledge; a rule the
    action breaks (a resolve without root cause, a note missing) is a 422 naming the field."""
    principal = caller(app)
    ticket = _visible(ticket_id)
    if not can_do(principal, ticket, request.action):
        raise Forbidden(f"role '{principal.role}' may not {request.action} this ticket")
    done = apply(
        wiring.ticket_store(),
        ticket_id,
        request.action,
        f"{principal.role}:{principal.subject}",
        default_clock().now(),
        note=request.note,
        root_cause=request.root_cause,
        corrective_action=request.corrective_action,
        csat=request.csat,
        team=request.team,
        request_id=request.request_id,
        policies=wiring.sla_policies() if request.action == "reopen" else None,
    )
    logger.info("ticket action", extra={"ticket_id": ticket_id, "action": request.action})
    return view(done)


@app.get("/v1/metrics/service")
def service_metrics(
    from_date: Annotated[Day | None, Query(alias="from")] = None,
    to_date: Annotated[Day | None, Query(alias="to")] = None,
) -> ServiceMetrics:
    """Per channel and priority over [from, to] (default: the 7 days to today, at most 92):
    tickets created, first-response minutes, resolution rate, SLA attainment, CSAT."""
    today = business_date(default_clock().now())
    end = to_date or today
    start = from_date or end - timedelta(days=6)
    if start > end or (end - start).days > 92:
        raise InvalidInput(
            "from must precede to, at most 92 days apart", details=[{"field": "query.from"}]
        )
    days = [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]
    totals: dict[tuple[str, str], dict[str, int]] = {}
    for row in wiring.ticket_store().stats(days):
        bucket = totals.setdefault((row["channel"], row["priority"]), {})
        for name, value in row.items():
            if isinstance(value, int):
                bucket[name] = bucket.get(name, 0) + value
    items = [
        ServiceRow(
            channel=channel,
            priority=priority,
            created=c.get("created", 0),
            first_response_avg_minutes=_ratio(c.get("response_seconds", 0), c.get("responded"), 60),
            resolution_rate=_ratio(c.get("resolved", 0), c.get("created")),
            sla_attainment=_ratio(
                c.get("targets_met", 0), c.get("targets_met", 0) + c.get("targets_breached", 0)
            ),
            csat=_ratio(c.get("csat_sum", 0), c.get("csat_count")),
        )
        for (channel, priority), c in sorted(totals.items())
    ]
    return ServiceMetrics(from_date=start.isoformat(), to_date=end.isoformat(), items=items)


def _ratio(part: int, whole: int | None, unit: int = 1) -> float | None:
    return round(part / whole / unit, 3) if whole else None


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(app, event, context, POLICIES)
