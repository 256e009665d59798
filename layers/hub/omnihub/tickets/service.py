"""Ticket operations over a TicketStore: open once, act, sweep what is due, follow the member.

A ticket lives on the member it belongs to now: it opens on the live root of
the member it names (or of whoever holds the identity that brought it), and merges, un-merges
and erasure move or anonymise it (`follow_member`, `forget_lineage`), in any order.

Service metrics are counters per Shanghai day, channel and priority, added in the same
transaction as the transition that moves them, so the dashboard never needs to read tickets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from omnihub import sharding
from omnihub.clock import business_date, iso, parse_iso
from omnihub.errors import ConcurrentChange, Gone, InvalidInput, NotFound
from omnihub.events.domain import DomainEvent
from omnihub.identity.chain import live_root, rightful_root
from omnihub.identity.ports import MemberStore
from omnihub.tickets.model import DONE, Outcome, Ticket, act, open_ticket, sweep
from omnihub.tickets.policies import SlaPolicies

MAX_ATTEMPTS = 8
MEMBER_TICKETS = 1000  # at most this many tickets of one member move together
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
    live_member: str | None = None
    """A member that must still be neither merged nor erased when this commits (the member the
    ticket is put on): a merge committing between the lookup and the write fails the write."""
    lineage: str | None = None
    """With `live_member`: the identity that brought the ticket, whose claim must still name
    that member (or be gone), so an un-merge or merge moving it meanwhile fails the write too."""


class TicketStore(Protocol):
    def get(self, ticket_id: str) -> Ticket | None: ...

    def commit(self, change: TicketChange) -> None:
        """All or nothing; ConcurrentChange when the version moved (or the ticket exists), or
        `live_member` was merged or erased, or the `lineage` claim moved, meanwhile."""
        ...

    def by_member(self, member_id: str, limit: int) -> list[Ticket]: ...

    def due(
        self, shard: int, until: str, after: str | None, limit: int
    ) -> tuple[Sequence[str], str | None]: ...

    def stats(self, days: Sequence[str]) -> list[dict[str, Any]]: ...


def _stats(before: Ticket | None, after: Ticket) -> list[StatDelta]:
    """What a transition adds to the service counters of the day the ticket was opened.

    A ticket counts once whatever it goes through: `resolved` is 1 while it is
    resolved or closed (a reopen takes it back out, resolving again puts it back), its first
    response time is that of its first cycle, and its CSAT counts once, the latest answer
    replacing the earlier one. Each target of each cycle counts once as met or breached.
    """
    counters: dict[str, int] = {}
    if before is None:
        counters["created"] = 1
    old = {(t.name, t.cycle): t for t in (before.targets if before else ())}
    for t in after.targets:
        was = old.get((t.name, t.cycle))
        if t.breached and not (was and was.breached):  # late, whether swept or met late
            counters["targets_breached"] = counters.get("targets_breached", 0) + 1
        if t.met_at and not (was and was.met_at):
            if not t.breached:
                counters["targets_met"] = counters.get("targets_met", 0) + 1
            if t.name == "first_response" and t.cycle == 0:
                counters["responded"] = 1
                waited = parse_iso(t.met_at) - parse_iso(after.created_at)
                counters["response_seconds"] = int(waited.total_seconds())
    was_done = before is not None and before.status in DONE
    if (after.status in DONE) != was_done:
        counters["resolved"] = -1 if was_done else 1
    old_csat = before.csat if before else None
    if after.csat != old_csat:
        counters["csat_sum"] = (after.csat or 0) - (old_csat or 0)
        if (old_csat is None) != (after.csat is None):
            counters["csat_count"] = 1 if old_csat is None else -1
    if not counters:
        return []
    day = business_date(parse_iso(after.created_at)).isoformat()
    return [StatDelta(day, after.channel, after.priority, counters)]


def _commit(
    store: TicketStore,
    plan: Callable[[], TicketChange | None],
    on_conflict: Callable[[], None] = lambda: None,
) -> Ticket | None:
    for _ in range(MAX_ATTEMPTS):
        change = plan()
        if change is None:
            return None
        try:
            store.commit(change)
        except ConcurrentChange:
            on_conflict()
            continue
        return change.ticket
    raise ConcurrentChange("the ticket kept changing; try again")


def belongs(members: MemberStore, via: str | None, recorded_on: str) -> tuple[str, bool]:
    """Where a ticket brought by `via` and recorded on `recorded_on` belongs now, and whether
    that member was erased."""
    return live_root(members, rightful_root(members, via, recorded_on))


def _placed(
    members: MemberStore, draft: Ticket, refuse_erased: bool, refuse_unknown: bool = False
) -> tuple[Ticket, str | None]:
    """The draft on the member it belongs to now, and the member the write must find live."""
    if draft.member_id is None:
        return draft, None
    root, erased = belongs(members, draft.via, draft.member_id)
    if refuse_unknown and not members.members([root], consistent=True):
        raise InvalidInput(
            f"no member {draft.member_id}",
            details=[{"field": "member_id", "message": "no such member"}],
        )
    if not erased:
        return replace(draft, member_id=root), root
    if refuse_erased:
        raise Gone(f"member {draft.member_id} was erased")
    return replace(draft, member_id=root, via=None), None  # erased members never merge


def open_once(
    store: TicketStore,
    members: MemberStore,
    draft: Ticket,
    now: datetime,
    cause: str,
    *,
    refuse_erased: bool = False,
    refuse_unknown: bool = False,
    policies: SlaPolicies | None = None,
) -> Ticket:
    """Open the ticket `draft.ticket_id` names, unless it is open already (a replayed cause).

    It opens on the live root the draft's member (or the identity that brought it, `via`) leads
    to, never on an absorbed member; the write is conditioned on that root being still live, so
    a merge committing meanwhile makes it look again. For an erased member the ticket opens
    without its lineage (a customer's report is still worked), or `refuse_erased` answers Gone
    (staff opening one by hand). `refuse_unknown` (staff, too) refuses a member id the member
    table does not hold: InvalidInput on `member_id`, nothing written. Events are not refused
    that way: a capability may see a member before the identity table answers for it.
    """

    def plan() -> TicketChange | None:
        if store.get(draft.ticket_id) is not None:
            return None
        placed, live = _placed(members, draft, refuse_erased, refuse_unknown)
        out = open_ticket(placed, now, cause, policies)
        return TicketChange(
            out.ticket,
            0,
            out.events,
            _stats(None, out.ticket),
            live_member=live,
            lineage=placed.via if live else None,
        )

    opened = _commit(store, plan)
    return opened or _must(store.get(draft.ticket_id), draft.ticket_id)


def apply(
    store: TicketStore,
    ticket_id: str,
    action: str,
    actor: str,
    now: datetime,
    *,
    request_id: str | None = None,
    **fields: Any,
) -> Ticket:
    """One action, once per `request_id` (a repeat answers the ticket as it is now and writes
    nothing); `fields` go to `act` (a reopen's `policies` too). Without a request id each call
    is an action of its own (docs/decisions.md)."""
    cause = (
        f"action:{ticket_id}:{actor}:{request_id}"
        if request_id
        else f"action:{ticket_id}:{now.isoformat()}:{action}"
    )
    unchanged: list[Ticket] = []

    def plan() -> TicketChange | None:
        ticket = _must(store.get(ticket_id), ticket_id)
        out: Outcome = act(ticket, action, actor, now, cause, request_id=request_id, **fields)
        if out.ticket is ticket:
            unchanged.append(ticket)
            return None
        return TicketChange(out.ticket, ticket.version, out.events, _stats(ticket, out.ticket))

    return _commit(store, plan) or unchanged[-1]


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


def follow_member(store: TicketStore, members: MemberStore, member_id: str) -> int:
    """Move each ticket recorded on `member_id` to where it belongs now (`belongs`).

    The same for a merge (`member_id` absorbed: its tickets go to the live survivor, whatever
    order merges arrive in) and an un-merge (`member_id` lost identities: the tickets they
    brought go with them), so the two commute and a late or repeated event moves nothing back.
    A ticket put on an erased member loses its lineage and its free text. Returns how many
    moved.
    """
    known: dict[str | None, tuple[str, bool]] = {}

    def where(via: str | None) -> tuple[str, bool]:
        if via not in known:
            known[via] = belongs(members, via, member_id)
        return known[via]

    moved = 0
    for ticket in store.by_member(member_id, MEMBER_TICKETS):

        def plan(ticket_id: str = ticket.ticket_id) -> TicketChange | None:
            current = store.get(ticket_id)
            if current is None or current.member_id != member_id:
                return None
            root, erased = where(current.via)
            if root == member_id:
                return None
            moved = replace(current, member_id=root, via=None if erased else current.via)
            return TicketChange(
                replace(
                    without_text(moved) if erased else moved,
                    version=current.version + 1,
                ),
                current.version,
                live_member=None if erased else root,
                lineage=None if erased else current.via,
            )

        if _commit(store, plan, on_conflict=known.clear) is not None:  # look again after a race
            moved += 1
    return moved


def forget_lineage(store: TicketStore, member_id: str) -> int:
    """Erasure: the member's tickets no longer name the identity that brought them, so an
    identity freed now and claimed by someone else later never pulls them along. Idempotent.
    (Their free text goes with `erase_texts`.)"""
    cleared = 0
    for ticket in store.by_member(member_id, MEMBER_TICKETS):
        if ticket.via is None:
            continue

        def plan(ticket_id: str = ticket.ticket_id) -> TicketChange | None:
            current = store.get(ticket_id)
            if current is None or current.member_id != member_id or current.via is None:
                return None
            return TicketChange(
                replace(current, via=None, version=current.version + 1), current.version
            )

        if _commit(store, plan) is not None:
            cleared += 1
    return cleared


ERASED_TEXT = "(erased)"


def without_text(ticket: Ticket) -> Ticket:
    """The ticket without what people wrote about the customer (erasure): subject and
    notes go; a root cause or corrective action is replaced by a marker, so a resolved ticket
    still reads as resolved. Priority, topics, SKU, batch and every clock stay (the service
    metrics and the quality trail are anonymous)."""
    return replace(
        ticket,
        subject="",
        root_cause=ERASED_TEXT if ticket.root_cause else None,
        corrective_action=ERASED_TEXT if ticket.corrective_action else None,
        history=tuple(replace(h, note="") for h in ticket.history),
    )


def erase_texts(store: TicketStore, member_id: str) -> int:
    """Erasure: the free text of the member's tickets (`without_text`). Idempotent; returns
    how many tickets changed."""
    erased = 0
    for ticket in store.by_member(member_id, MEMBER_TICKETS):
        if without_text(ticket) == ticket:
            continue

        def plan(ticket_id: str = ticket.ticket_id) -> TicketChange | None:
            current = store.get(ticket_id)
            if current is None or current.member_id != member_id:
                return None
            bare = without_text(current)
            if bare == current:
                return None
            return TicketChange(replace(bare, version=current.version + 1), current.version)

        if _commit(store, plan) is not None:
            erased += 1
    return erased


def _must(ticket: Ticket | None, ticket_id: str) -> Ticket:
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}")
    return ticket
