"""What the leaders domain needs from storage and from the payout channel."""

from __future__ import annotations

from collections.abc import Sequence
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
    Payout,
    PriceMark,
    Rating,
    Withdrawal,
)

Page = tuple[Sequence[str], str | None]


class LeadersStore(Protocol):
    def leader(self, leader_id: str) -> Leader | None: ...

    def binding(self, member_id: str) -> Binding | None: ...

    def account(self, leader_id: str) -> Account:
        """The leader's account (version 0 when it has never been written)."""
        ...

    def order(self, order_id: str) -> CommissionOrder | None: ...

    def day(self, leader_id: str, day: str) -> LeaderDay | None: ...

    def close_day(self, leader_id: str, day: str) -> LeaderDay | None:
        """Close an open leader-day to bookings (open -> closing, version + 1) in one conditional
        write; answers the day as it is now (None when there is none)."""
        ...

    def run_started(self, period: str, shard: int) -> bool:
        """Whether the run of a period has started on a shard: the T+1 run of a day (no new
        leader-day of that shard may be created for it any more) or the tier review of a month
        (no rating of that shard's leaders may be kept for it any more)."""
        ...

    def start_run(self, period: str, shard: int, at: str) -> None:
        """Mark the run of a day ('YYYY-MM-DD') or a month ('YYYY-MM') started on a shard
        (idempotent): from then on the store refuses a new leader-day of that shard for the day,
        or a rating of the shard's leaders for the month."""
        ...

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

    def withdrawal(self, leader_id: str, withdrawal_id: str) -> Withdrawal | None:
        """The withdrawal and its plan (`ended` not loaded)."""
        ...

    def ended_payout(self, leader_id: str, withdrawal_id: str, payout_id: str) -> Payout | None:
        """A payout's result, None while it is requested."""
        ...

    def ended_payouts(self, leader_id: str, withdrawal_id: str) -> list[Payout]:
        """Every payout of the withdrawal that ended."""
        ...

    def price_marks(self, leader_id: str) -> list[PriceMark]:
        """The leader's orders priced before the tier of their month was decided (strongly
        consistent)."""
        ...

    def withdrawals(self, leader_id: str, limit: int) -> list[Withdrawal]:
        """Newest first (`ended` not loaded)."""
        ...

    def bound_members(self, leader_id: str, limit: int) -> list[Binding]:
        """The members bound to the leader, newest binding first."""
        ...

    def leaders_of(self, member_id: str) -> list[Leader]:
        """The leader profiles registered by this member's own identities (erasure)."""
        ...

    def ratings(self, leader_id: str, month: str) -> list[Rating]: ...

    def rating(self, leader_id: str, month: str, cause: str) -> Rating | None: ...

    def open_leaders(self, day: str, shard: int, after: str | None, limit: int) -> Page:
        """Leaders with a leader-day on `day` not settled yet (open or closing), one shard, one
        page."""
        ...

    def month_leaders(self, month: str, shard: int, after: str | None, limit: int) -> Page:
        """Leaders with a leader-day in `month` (open or settled), one shard, one page."""
        ...

    def tiered_leaders(self, shard: int, after: str | None, limit: int) -> Page:
        """Leaders above rookie, one shard, one page."""
        ...

    def awaiting_orders(self, leader_id: str) -> list[str]:
        """Orders paid through the link of a leader that had not registered yet."""
        ...

    def commit(self, change: LeadersChange) -> None:
        """All or nothing. ConcurrentChange when a version moved, an item that must be new
        exists, a day in `open_days` is no longer open, or the run of a new leader-day's day (of
        a rating's month) has started;
        AlreadyApplied when the withdrawal being created exists (requested before)."""
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
