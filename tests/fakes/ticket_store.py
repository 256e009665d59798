"""TicketStore in memory with the adapter's conditions (versions, one ticket per id; read from
`members` when given: the member a ticket is put on still neither merged nor erased, the claim of
the identity that brought it still naming that member or gone)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from omnihub.errors import ConcurrentChange
from omnihub.events.domain import DomainEvent
from omnihub.identity.chain import lineage_ref
from omnihub.tickets.model import Ticket
from omnihub.tickets.service import TicketChange, shard_of
from tests.fakes.member_store import FakeMemberStore


@dataclass
class FakeTicketStore:
    tickets: dict[str, Ticket] = field(default_factory=dict)
    counters: dict[tuple[str, str, str], dict[str, int]] = field(default_factory=dict)
    published: dict[str, DomainEvent] = field(default_factory=dict)
    reads: int = 0
    #: The members table the `live_member` condition reads (None: every member is live).
    members: FakeMemberStore | None = None
    #: Runs just before a change's conditions are checked (to let another writer in).
    before_commit: Callable[[TicketChange], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, ticket_id: str) -> Ticket | None:
        self.reads += 1
        return self.tickets.get(ticket_id)

    def commit(self, change: TicketChange) -> None:
        if self.before_commit:
            self.before_commit(change)
        with self._lock:
            stored = self.tickets.get(change.ticket.ticket_id)
            if (stored.version if stored else 0) != change.expected_version:
                raise ConcurrentChange("version moved")
            if change.live_member and self.members is not None:
                member = self.members.member_rows.get(change.live_member)
                if member is not None and (member.merged_into or member.erased_at):
                    raise ConcurrentChange("the member was merged or erased")
                if change.lineage:
                    holder = self.members.claim_rows.get(lineage_ref(change.lineage))
                    if holder not in (None, change.live_member):
                        raise ConcurrentChange("the identity that brought it moved")
            self.tickets[change.ticket.ticket_id] = change.ticket
            for delta in change.stats:
                row = self.counters.setdefault((delta.day, delta.channel, delta.priority), {})
                for name, value in delta.counters.items():
                    row[name] = row.get(name, 0) + value
            for event in change.events:
                self.published.setdefault(event.event_id, event)

    def by_member(self, member_id: str, limit: int) -> list[Ticket]:
        mine = [t for t in self.tickets.values() if t.member_id == member_id]
        return sorted(mine, key=lambda t: t.created_at, reverse=True)[:limit]

    def due(
        self, shard: int, until: str, after: str | None, limit: int
    ) -> tuple[Sequence[str], str | None]:
        keys = sorted(
            f"{t.next_check()}#{t.ticket_id}"
            for t in self.tickets.values()
            if t.next_check() and shard_of(t.ticket_id) == shard and str(t.next_check()) <= until
        )
        page = [k for k in keys if after is None or k > after][:limit]
        self.reads += 1
        return [k.split("#", 1)[1] for k in page], page[-1] if len(page) == limit else None

    def stats(self, days: Sequence[str]) -> list[dict[str, Any]]:
        return [
            {"day": d, "channel": c, "priority": p, **v}
            for (d, c, p), v in sorted(self.counters.items())
            if d in days
        ]

    def events_of(self, kind: str) -> list[DomainEvent]:
        return [e for e in self.published.values() if e.type == kind]
