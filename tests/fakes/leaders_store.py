"""LeadersStore in memory with the adapter's conditions: versions must match (0: the item must not
exist; a deleted binding must have the version given), a withdrawal that exists already is
AlreadyApplied, a movement and an ended payout are new, a day in `open_days` is still open, a new
leader-day's run has not started, the accounts and leaders seen have not moved, one action per
item, at most DynamoDB's 100 actions a transaction (counted as the adapter writes them), and the
whole change applies under one lock or not at all."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from omnihub.adapters.dynamo import MAX_TRANSACTION_ITEMS
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
    Payout,
    PriceMark,
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
    runs: dict[tuple[str, int], str] = field(default_factory=dict)  # (day, shard) -> started at
    ended: dict[tuple[str, str, str], Payout] = field(default_factory=dict)
    marks: dict[tuple[str, str], PriceMark] = field(default_factory=dict)
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

    def close_day(self, leader_id: str, day: str) -> LeaderDay | None:
        with self._lock:
            item = self.leader_days.get((leader_id, day))
            if item is not None and item.status == "open":
                item = item.next(status="closing")
                self.leader_days[(leader_id, day)] = item
            return item

    def run_started(self, period: str, shard: int) -> bool:
        return (period, shard) in self.runs

    def start_run(self, period: str, shard: int, at: str) -> None:
        with self._lock:
            self.runs.setdefault((period, shard), at)

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

    def ended_payout(self, leader_id: str, withdrawal_id: str, payout_id: str) -> Payout | None:
        return self.ended.get((leader_id, withdrawal_id, payout_id))

    def ended_payouts(self, leader_id: str, withdrawal_id: str) -> list[Payout]:
        with self._lock:
            return [
                p
                for (lid, wid, _), p in sorted(self.ended.items())
                if (lid, wid) == (leader_id, withdrawal_id)
            ]

    def price_marks(self, leader_id: str) -> list[PriceMark]:
        with self._lock:
            return [m for (lid, _), m in sorted(self.marks.items()) if lid == leader_id]

    def withdrawals(self, leader_id: str, limit: int) -> list[Withdrawal]:
        mine = [w for (lid, _), w in self.withdrawal_rows.items() if lid == leader_id]
        return sorted(mine, key=lambda w: (w.requested_at, w.withdrawal_id), reverse=True)[:limit]

    def leaders_of(self, member_id: str) -> list[Leader]:
        return [x for x in self.leaders.values() if x.member_id == member_id]

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

    def rating(self, leader_id: str, month: str, cause: str) -> Rating | None:
        return self.rating_rows.get((leader_id, month, cause))

    def open_leaders(self, day: str, shard: int, after: str | None, limit: int) -> Page:
        with self._lock:
            keys = [
                lid
                for (lid, d), item in self.leader_days.items()
                if d == day and item.status != "settled" and shard_of(lid, ACTIVE_SHARDS) == shard
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
            + [("binding", member_id) for member_id, _ in change.unbound]
            + [("account", x.leader_id) for x, _ in change.accounts]
            + [("order", x.order_id) for x, _ in change.orders]
            + [("entry", x.leader_id, x.day, x.order_id) for x, _ in change.entries]
            + [("day", x.leader_id, x.day) for x, _ in change.days]
            + [("withdrawal", x.leader_id, x.withdrawal_id) for x, _ in change.withdrawals]
            + [("move", m.leader_id, m.day, m.cause) for m in change.movements]
            + [
                ("ended", e.leader_id, e.withdrawal_id, e.payout.payout_id)
                for e in change.ended_payouts
            ]
            + [("mark", m.leader_id, m.order_id) for m in change.marks]
            + [("mark", lid, oid) for lid, oid in change.unmarked]
        )
        if len(keys) != len(set(keys)):
            raise ValueError(f"a transaction may not touch one item twice: {keys}")
        actions = len(keys) + self._other_actions(change)
        if actions > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"{actions} actions do not fit one transaction")
        if self.before_commit:
            self.before_commit(change)
        with self._lock:
            for w, expected in change.withdrawals:
                if expected == 0 and (w.leader_id, w.withdrawal_id) in self.withdrawal_rows:
                    raise AlreadyApplied("the withdrawal was requested before")
            checks = (
                [(self.leaders.get(x.leader_id), v) for x, v in change.leaders]
                + [(self.bindings.get(x.member_id), v) for x, v in change.bindings]
                + [(self.bindings.get(m), v) for m, v in change.unbound]
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
            if any(
                (e.leader_id, e.withdrawal_id, e.payout.payout_id) in self.ended
                for e in change.ended_payouts
            ):
                raise ConcurrentChange("the payout ended before")
            self._check_conditions(change)
            for x, _ in change.leaders:
                self.leaders[x.leader_id] = x
            for b, _ in change.bindings:
                self.bindings[b.member_id] = b
            for member_id, _ in change.unbound:
                del self.bindings[member_id]
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
            for e in change.ended_payouts:
                self.ended[(e.leader_id, e.withdrawal_id, e.payout.payout_id)] = e.payout
            for mark in change.marks:
                self.marks[(mark.leader_id, mark.order_id)] = mark
            for key in change.unmarked:
                self.marks.pop(key, None)
            for key, fen in change.pending.items():
                self.pending[key] = self.pending.get(key, 0) + fen
            self.months.update(change.month_active)
            for r in change.ratings:
                self.rating_rows[(r.leader_id, r.month, r.cause)] = r
            for event in change.events:
                self.published.setdefault(event.event_id, event)
            self.commits += 1

    @staticmethod
    def _other_actions(change: LeadersChange) -> int:
        """The adapter's actions besides one per item written: counters, markers, ratings,
        events and ConditionChecks."""
        days = {(d.leader_id, d.day) for d, _ in change.days}
        accounts = {a.leader_id for a, _ in change.accounts}
        leaders = {x.leader_id for x, _ in change.leaders}
        runs = {(d.day, shard_of(d.leader_id, ACTIVE_SHARDS)) for d, v in change.days if v == 0}
        runs |= {(r.month, shard_of(r.leader_id, ACTIVE_SHARDS)) for r in change.ratings}
        return (
            sum(1 for fen in change.pending.values() if fen)
            + len(set(change.month_active))
            + len(change.ratings)
            + len(change.events)
            + len(runs)
            + sum(1 for key in change.open_days if key not in days)
            + sum(1 for lid, _ in change.seen_accounts if lid not in accounts)
            + sum(1 for lid, _ in change.seen_leaders if lid not in leaders)
        )

    def _check_conditions(self, change: LeadersChange) -> None:
        written_days = {(d.leader_id, d.day) for d, _ in change.days}
        for d, expected in change.days:
            if expected == 0 and (d.day, shard_of(d.leader_id, ACTIVE_SHARDS)) in self.runs:
                raise ConcurrentChange(f"the run of {d.day} has started: no new day")
        for r in change.ratings:
            if (r.month, shard_of(r.leader_id, ACTIVE_SHARDS)) in self.runs:
                raise ConcurrentChange(f"the review of {r.month} has started: not in it")
        for key in change.open_days:
            day = self.leader_days.get(key)
            if key not in written_days and (day is None or day.status != "open"):
                raise ConcurrentChange(f"the day {key} is not open")
        written_accounts = {a.leader_id for a, _ in change.accounts}
        for lid, v in change.seen_accounts:
            if lid not in written_accounts and self.account(lid).version != v:
                raise ConcurrentChange("the account moved")
        written_leaders = {x.leader_id for x, _ in change.leaders}
        for lid, v in change.seen_leaders:
            stored = self.leaders.get(lid)
            if lid not in written_leaders and (stored.version if stored else 0) != v:
                raise ConcurrentChange("the leader moved")

    def events_of(self, kind: str) -> list[DomainEvent]:
        return [e for e in self.published.values() if e.type == kind]
