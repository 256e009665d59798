"""PointsStore in memory with the adapter's conditions: versions must match, a ledger entry,
redemption or marker of the same cause must not exist, and the whole change applies under one
lock. `orders_of` reads like the adapter's index (paid orders by holder, newest first)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from omnihub.errors import AlreadyApplied, ConcurrentChange
from omnihub.events.domain import DomainEvent
from omnihub.points.daily import shard_of
from omnihub.points.model import Account, LedgerEntry, Marker, Order, PointsChange, Redemption
from omnihub.points.ports import DueKind


@dataclass
class FakePointsStore:
    accounts: dict[str, Account] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    entries: dict[tuple[str, str], LedgerEntry] = field(default_factory=dict)
    redemptions: dict[str, Redemption] = field(default_factory=dict)
    markers: dict[str, Marker] = field(default_factory=dict)
    published: dict[str, DomainEvent] = field(default_factory=dict)
    reads: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def account(self, member_id: str) -> Account:
        with self._lock:
            self.reads += 1
            return self.accounts.get(member_id) or Account(member_id=member_id)

    def order(self, order_id: str) -> Order | None:
        with self._lock:
            self.reads += 1
            return self.orders.get(order_id)

    def redemption(self, redemption_id: str) -> Redemption | None:
        with self._lock:
            return self.redemptions.get(redemption_id)

    def marker(self, key: str) -> Marker | None:
        with self._lock:
            return self.markers.get(key)

    def orders_of(
        self, member_id: str, limit: int, after: str | None = None
    ) -> tuple[list[Order], str | None]:
        with self._lock:
            rows = sorted(
                (
                    (f"{o.paid_at}#{o.order_id}", o)
                    for o in self.orders.values()
                    if o.member_id == member_id and o.paid_at
                ),
                key=lambda row: row[0],
                reverse=True,
            )
        page = [row for row in rows if after is None or row[0] < after][:limit]
        cursor = page[-1][0] if len(page) == limit else None
        return [o for _, o in page], cursor

    def commit(self, change: PointsChange) -> None:
        keys = [("a", a.member_id) for a, _ in change.accounts] + [
            ("o", o.order_id) for o, _ in change.orders
        ]
        if len(keys) != len(set(keys)):
            raise ValueError("a transaction may not touch one item twice")
        with self._lock:
            if (
                any((e.member_id, e.cause) in self.entries for e in change.entries)
                or any(r.redemption_id in self.redemptions for r in change.redemptions)
                or any(m.key in self.markers for m in change.markers)
            ):
                raise AlreadyApplied("applied before")
            for account, expected in change.accounts:
                stored = self.accounts.get(account.member_id)
                if (stored.version if stored else 0) != expected:
                    raise ConcurrentChange("account version moved")
            for order, expected in change.orders:
                stored_order = self.orders.get(order.order_id)
                if (stored_order.version if stored_order else 0) != expected:
                    raise ConcurrentChange("order version moved")
            for account, _ in change.accounts:
                assert account.pending >= 0, account
                assert account.debt >= 0, account
                assert all(p > 0 for p in account.buckets.values()), account
                assert account.debt == 0 or account.available == 0, account
                self.accounts[account.member_id] = account
            for order, _ in change.orders:
                self.orders[order.order_id] = order
            for e in change.entries:
                self.entries[(e.member_id, e.cause)] = e
            for r in change.redemptions:
                self.redemptions[r.redemption_id] = r
            for m in change.markers:
                self.markers[m.key] = m
            for event in change.events:
                self.published.setdefault(event.event_id, event)

    def ledger(self, member_id: str, limit: int) -> list[LedgerEntry]:
        mine = [e for (m, _), e in self.entries.items() if m == member_id]
        return sorted(mine, key=lambda e: (e.at, e.cause), reverse=True)[:limit]

    def due(
        self, kind: DueKind, shard: int, until: str, after: str | None, limit: int
    ) -> tuple[Sequence[str], str | None]:
        with self._lock:
            if kind == "order":
                rows = [
                    (o.matures_at, o.order_id)
                    for o in self.orders.values()
                    if o.matures_at and not o.matured and shard_of(o.order_id) == shard
                ]
            else:
                rows = [
                    (a.due_at, a.member_id)
                    for a in self.accounts.values()
                    if a.due_at and not a.merged_into and shard_of(a.member_id) == shard
                ]
        keys = sorted(f"{due}#{key}" for due, key in rows if due and due <= until)
        page = [k for k in keys if after is None or k > after][:limit]
        cursor = page[-1] if len(page) == limit else None
        return [k.split("#", 1)[1] for k in page], cursor

    def events_of(self, kind: str) -> list[DomainEvent]:
        return [e for e in self.published.values() if e.type == kind]
