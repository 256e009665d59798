"""What the leaders domain needs from storage and from the payout channel."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

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

#: the live member behind a member id (merges followed): who a leader's own member is now
MemberRoot = Callable[[str], str]
Page = tuple[Sequence[str], str | None]


class LeadersStore(Protocol):
    def leader(self, leader_id: str) -> Leader | None: ...

    def binding(self, member_id: str) -> Binding | None: ...

    def account(self, leader_id: str) -> Account:
        """The leader's account (version 0 when it has never been written)."""
        ...

    def order(self, order_id: str) -> CommissionOrder | None: ...

    def day(self, leader_id: str, day: str) -> LeaderDay | None: ...

    def entry(self, leader_id: str, day: str, order_id: str) -> DayEntry | None: ...

    def day_contents(self, leader_id: str, day: str) -> tuple[list[DayEntry], list[Movement]]:
        """Every entry and movement booked into a leader-day (strongly consistent)."""
        ...

    def days(self, leader_id: str, first: str, last: str) -> list[LeaderDay]:
        """The leader's days in [first, last], oldest first."""
        ...

    def pending_fen(self, leader_id: str) -> int:
        """The sum of the leader's pending shards."""
        ...

    def withdrawal(self, leader_id: str, withdrawal_id: str) -> Withdrawal | None: ...

    def withdrawals(self, leader_id: str, limit: int) -> list[Withdrawal]:
        """Newest first."""
        ...

    def bound_members(self, leader_id: str, limit: int) -> list[Binding]:
        """The members bound to the leader, newest binding first."""
        ...

    def ratings(self, leader_id: str, month: str) -> list[Rating]: ...

    def open_leaders(self, day: str, shard: int, after: str | None, limit: int) -> Page:
        """Leaders with an open leader-day on `day`, one shard, one page."""
        ...

    def month_leaders(self, month: str, shard: int, after: str | None, limit: int) -> Page:
        """Leaders with a settled statement in `month`, one shard, one page."""
        ...

    def tiered_leaders(self, shard: int, after: str | None, limit: int) -> Page:
        """Leaders above rookie, one shard, one page."""
        ...

    def awaiting_orders(self, leader_id: str) -> list[str]:
        """Orders paid through the link of a leader that had not registered yet."""
        ...

    def commit(self, change: LeadersChange) -> None:
        """All or nothing. ConcurrentChange when a version moved or an item that must be new
        exists; AlreadyApplied when the withdrawal being created exists (requested before)."""
        ...


@dataclass(frozen=True)
class PayoutResult:
    status: str  # paid | failed
    reference: str = ""
    reason: str = ""


class PayoutProvider(Protocol):
    def pay(self, leader_id: str, payout_id: str, amount_fen: int) -> PayoutResult:
        """Transfer `amount_fen` to the leader once per `payout_id` (a repeat answers the first
        result); raises for an outcome that is not known yet (the caller retries)."""
        ...
