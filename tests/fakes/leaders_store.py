"""LeadersStore in memory with the adapter's conditions: versions must match (0: the item must not
exist), a withdrawal that exists already is AlreadyApplied, a movement is new, one action per
item, and the whole change applies under one lock or not at all."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from omnihub.errors import AlreadyApplied, ConcurrentChange
from omnihub.events.domain import DomainEvent
from omnihub.leaders.days import ACTIVE_SHARDS, shard_of
from omnihub.leaders.model import (
    Account,
    Binding,
    CommissionOrder,
    DayEntry,
    Leader,
    LeaderDay,
    LeadersChange,
    Movement,
    Rating,
    Withdrawal,
)

Page = tuple[Sequence[str], str | None]


def _page(keys: list[str], after: str | None, limit: int) -> Page:
    ordered = sorted(k for k in keys if after is None or k > after)
    page = ordered[:limit]
    return page, (page[-1] if len(ordered) > limit else None)


@dataclass
class FakeLeadersStore:
    leaders: dict[str, Leader] = field(default_factory=dict)
    bindings: dict[str, Binding] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    orders: dict[str, CommissionOrder] = field(default_factory=dict)
    entries: dict[tuple[str, str, str], DayEntry] = field(default_factory=dict)
    leader_days: dict[tuple[str, str], LeaderDay] = field(default_factory=dict)
    withdrawal_rows: dict[tuple[str, str], Withdrawal] = field(default_factory=dict)
    movements: dict[tuple[str, str, str], Movement] = field(default_factory=dict)
    pending: dict[tuple[str, int], int] = field(default_factory=dict)
    months: set[tuple[str, str]] = field(default_factory=set)
    rating_rows: dict[tuple[str, str, str], Rating] = field(default_factory=dict)
    published: dict[str, DomainEvent] = field(default_factory=dict)
    commits: int = 0
    before_commit: Callable[[LeadersChange], None] | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # -- reads -----------------------------------------------------------------------------------
    def leader(self, leader_id: str) -> Leader | None:
        return self.leaders.get(leader_id)

    def binding(self, member_id: str) -> Binding | None:
        return self.bindings.get(member_id)

    def account(self, leader_id: str) -> Account:
        return self.accounts.get(leader_id) or Account(leader_id=leader_id)

    def order(self, order_id: str) -> CommissionOrder | None:
        return self.orders.get(order_id)

    def day(self, leader_id: str, day: str) -> LeaderDay | None:
        return self.leader_days.get((leader_id, day))

    def entry(self, leader_id: str, day: str, order_id: str) -> DayEntry | None:
        return self.entries.get((leader_id, day, order_id))

    def day_contents(self, leader_id: str, day: str) -> tuple[list[DayEntry], list[Movement]]:
        with self._lock:
            entries = [
                e for (lid, d, _), e in sorted(self.entries.items()) if (lid, d) == (leader_id, day)
            ]
            moves = [
                m
                for (lid, d, _), m in sorted(self.movements.items())
                if (lid, d) == (leader_id, day)
            ]
        return entries, moves

    def days(self, leader_id: str, first: str, last: str) -> list[LeaderDay]:
        with self._lock:
            return [
                d
                for (lid, day), d in sorted(self.leader_days.items())
                if lid == leader_id and first <= day <= last
            ]

    def pending_fen(self, leader_id: str) -> int:
        return sum(fen for (lid, _), fen in self.pending.items() if lid == leader_id)

    def withdrawal(self, leader_id: str, withdrawal_id: str) -> Withdrawal | None:
        return self.withdrawal_rows.get((leader_id, withdrawal_id))

    def withdrawals(self, leader_id: str, limit: int) -> list[Withdrawal]:
        mine = [w for (lid, _), w in self.withdrawal_rows.items() if lid == leader_id]
        return sorted(mine, key=lambda w: (w.requested_at, w.withdrawal_id), reverse=True)[:limit]

    def bound_members(self, leader_id: str, limit: int) -> list[Binding]:
        mine = [
            b for b in self.bindings.values() if b.leader_id == leader_id and b.moved_to is None
        ]
        return sorted(mine, key=lambda b: (b.bound_at, b.member_id), reverse=True)[:limit]

    def ratings(self, leader_id: str, month: str) -> list[Rating]:
        return [
            r
            for (lid, m, _), r in sorted(self.rating_rows.items())
            if (lid, m) == (leader_id, month)
        ]

    def open_leaders(self, day: str, shard: int, after: str | None, limit: int) -> Page:
        with self._lock:
            keys = [
                lid
                for (lid, d), item in self.leader_days.items()
                if d == day and item.status == "open" and shard_of(lid, ACTIVE_SHARDS) == shard
            ]
        return _page(keys, after, limit)

    def month_leaders(self, month: str, shard: int, after: str | None, limit: int) -> Page:
        keys = [
            lid for lid, m in self.months if m == month and shard_of(lid, ACTIVE_SHARDS) == shard
        ]
        return _page(keys, after, limit)

    def tiered_leaders(self, shard: int, after: str | None, limit: int) -> Page:
        keys = [
            lid
            for lid, leader in self.leaders.items()
            if leader.tier != "rookie" and shard_of(lid, ACTIVE_SHARDS) == shard
        ]
        return _page(keys, after, limit)

    def awaiting_orders(self, leader_id: str) -> list[str]:
        return sorted(o.order_id for o in self.orders.values() if o.awaiting_leader == leader_id)

    # -- the unit of work ------------------------------------------------------------------------
    def commit(self, change: LeadersChange) -> None:
        keys = (
            [("leader", x.leader_id) for x, _ in change.leaders]
            + [("binding", x.member_id) for x, _ in change.bindings]
            + [("account", x.leader_id) for x, _ in change.accounts]
            + [("order", x.order_id) for x, _ in change.orders]
            + [("entry", x.leader_id, x.day, x.order_id) for x, _ in change.entries]
            + [("day", x.leader_id, x.day) for x, _ in change.days]
            + [("withdrawal", x.leader_id, x.withdrawal_id) for x, _ in change.withdrawals]
            + [("move", m.leader_id, m.day, m.cause) for m in change.movements]
        )
        if len(keys) != len(set(keys)):
            raise ValueError(f"a transaction may not touch one item twice: {keys}")
        if self.before_commit:
            self.before_commit(change)
        with self._lock:
            for w, expected in change.withdrawals:
                if expected == 0 and (w.leader_id, w.withdrawal_id) in self.withdrawal_rows:
                    raise AlreadyApplied("the withdrawal was requested before")
            checks = (
                [(self.leaders.get(x.leader_id), v) for x, v in change.leaders]
                + [(self.bindings.get(x.member_id), v) for x, v in change.bindings]
                + [(self.accounts.get(x.leader_id), v) for x, v in change.accounts]
                + [(self.orders.get(x.order_id), v) for x, v in change.orders]
                + [
                    (self.entries.get((x.leader_id, x.day, x.order_id)), v)
                    for x, v in change.entries
                ]
                + [(self.leader_days.get((x.leader_id, x.day)), v) for x, v in change.days]
                + [
                    (self.withdrawal_rows.get((x.leader_id, x.withdrawal_id)), v)
                    for x, v in change.withdrawals
                ]
            )
            for stored, expected in checks:
                if (stored.version if stored is not None else 0) != expected:
                    raise ConcurrentChange("a version moved")
            if any((m.leader_id, m.day, m.cause) in self.movements for m in change.movements):
                raise ConcurrentChange("the movement exists")
            for x, _ in change.leaders:
                self.leaders[x.leader_id] = x
            for b, _ in change.bindings:
                self.bindings[b.member_id] = b
            for a, _ in change.accounts:
                self.accounts[a.leader_id] = a
            for o, _ in change.orders:
                self.orders[o.order_id] = o
            for e, _ in change.entries:
                self.entries[(e.leader_id, e.day, e.order_id)] = e
            for d, _ in change.days:
                self.leader_days[(d.leader_id, d.day)] = d
            for w, _ in change.withdrawals:
                self.withdrawal_rows[(w.leader_id, w.withdrawal_id)] = w
            for m in change.movements:
                self.movements[(m.leader_id, m.day, m.cause)] = m
            for key, fen in change.pending.items():
                self.pending[key] = self.pending.get(key, 0) + fen
            self.months.update(change.month_active)
            for r in change.ratings:
                self.rating_rows[(r.leader_id, r.month, r.cause)] = r
            for event in change.events:
                self.published.setdefault(event.event_id, event)
            self.commits += 1

    def events_of(self, kind: str) -> list[DomainEvent]:
        return [e for e in self.published.values() if e.type == kind]
