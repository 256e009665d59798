"""Ticket operations over a TicketStore: open once, act, sweep what is due, follow merges.

Service metrics (SPEC 4.4) are counters per Shanghai day, channel and priority, added in the same
transaction as the transition that moves them, so the dashboard never needs to read tickets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from omnihub import sharding
from omnihub.clock import business_date, iso, parse_iso
from omnihub.errors import ConcurrentChange, NotFound
from omnihub.events.domain import DomainEvent
from omnihub.tickets.model import Outcome, Ticket, act, open_ticket, sweep

MAX_ATTEMPTS = 8
SHARDS = 4  # tickets are far fewer than orders: four partitions take a Double 11 peak


def shard_of(ticket_id: str) -> int:
    """The due-index shard of a ticket."""
    return sharding.shard_of(ticket_id, SHARDS)


@dataclass(frozen=True)
class StatDelta:
    day: str
    channel: str
    priority: str
    counters: dict[str, int]


@dataclass
class TicketChange:
    ticket: Ticket
    expected_version: int  # 0: the ticket must not exist yet
    events: list[DomainEvent] = field(default_factory=list)
    stats: list[StatDelta] = field(default_factory=list)


class TicketStore(Protocol):
    def get(self, ticket_id: str) -> Ticket | None: ...

    def commit(self, change: TicketChange) -> None:
        """All or nothing; ConcurrentChange when the version moved (or the ticket exists)."""
        ...

    def by_member(self, member_id: str, limit: int) -> list[Ticket]: ...

    def due(
        self, shard: int, until: str, after: str | None, limit: int
    ) -> tuple[Sequence[str], str | None]: ...

    def stats(self, days: Sequence[str]) -> list[dict[str, Any]]: ...


def _stats(before: Ticket | None, after: Ticket) -> list[StatDelta]:
    """What a transition adds to the service counters of the day the ticket was opened."""
    counters: dict[str, int] = {}
    if before is None:
        counters["created"] = 1
    old = {t.name: t for t in (before.targets if before else ())}
    for t in after.targets:
        was = old.get(t.name)
        if t.breached and not (was and was.breached):  # late, whether swept or met late
            counters["targets_breached"] = counters.get("targets_breached", 0) + 1
        if t.met_at and not (was and was.met_at):
            if not t.breached:
                counters["targets_met"] = counters.get("targets_met", 0) + 1
            if t.name == "first_response":
                counters["responded"] = 1
                waited = parse_iso(t.met_at) - parse_iso(after.created_at)
                counters["response_seconds"] = int(waited.total_seconds())
    if after.status == "resolved" and (before is None or before.status != "resolved"):
        counters["resolved"] = 1
    if after.csat is not None and (before is None or before.csat is None):
        counters["csat_sum"] = after.csat
        counters["csat_count"] = 1
    if not counters:
        return []
    day = business_date(parse_iso(after.created_at)).isoformat()
    return [StatDelta(day, after.channel, after.priority, counters)]


def _commit(store: TicketStore, plan: Callable[[], TicketChange | None]) -> Ticket | None:
    for _ in range(MAX_ATTEMPTS):
        change = plan()
        if change is None:
            return None
        try:
            store.commit(change)
        except ConcurrentChange:
            continue
        return change.ticket
    raise ConcurrentChange("the ticket kept changing; try again")


def open_once(store: TicketStore, draft: Ticket, now: datetime, cause: str) -> Ticket:
    """Open the ticket `draft.ticket_id` names, unless it is open already (a replayed cause)."""

    def plan() -> TicketChange | None:
        if store.get(draft.ticket_id) is not None:
            return None
        out = open_ticket(draft, now, cause)
        return TicketChange(out.ticket, 0, out.events, _stats(None, out.ticket))

    opened = _commit(store, plan)
    return opened or _must(store.get(draft.ticket_id), draft.ticket_id)


def apply(
    store: TicketStore, ticket_id: str, action: str, actor: str, now: datetime, **fields: Any
) -> Ticket:
    cause = f"action:{ticket_id}:{now.isoformat()}:{action}"

    def plan() -> TicketChange:
        ticket = _must(store.get(ticket_id), ticket_id)
        out: Outcome = act(ticket, action, actor, now, cause, **fields)
        return TicketChange(out.ticket, ticket.version, out.events, _stats(ticket, out.ticket))

    return _must(_commit(store, plan), ticket_id)


def sweep_shard(
    store: TicketStore, shard: int, now: datetime, *, page_size: int = 100
) -> tuple[int, int]:
    """Warn and escalate what is due in one shard; returns (tickets read, tickets changed)."""
    read = changed = 0
    cursor: str | None = None
    while True:
        ids, cursor = store.due(shard, iso(now), cursor, page_size)
        for ticket_id in ids:
            read += 1

            def plan(ticket_id: str = ticket_id) -> TicketChange | None:
                ticket = store.get(ticket_id)
                if ticket is None:
                    return None
                out = sweep(ticket, now, f"sweep:{ticket_id}")
                if out.ticket is ticket:
                    return None
                return TicketChange(
                    out.ticket, ticket.version, out.events, _stats(ticket, out.ticket)
                )

            if _commit(store, plan) is not None:
                changed += 1
        if cursor is None:
            return read, changed


def move_to_survivor(store: TicketStore, absorbed: str, survivor: str) -> int:
    """Tickets follow a merge: the absorbed member's tickets now belong to the survivor."""
    moved = 0
    for ticket in store.by_member(absorbed, 1000):

        def plan(ticket_id: str = ticket.ticket_id) -> TicketChange | None:
            current = store.get(ticket_id)
            if current is None or current.member_id != absorbed:
                return None
            return TicketChange(
                replace(current, member_id=survivor, version=current.version + 1),
                current.version,
            )

        if _commit(store, plan) is not None:
            moved += 1
    return moved


def _must(ticket: Ticket | None, ticket_id: str) -> Ticket:
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}")
    return ticket
