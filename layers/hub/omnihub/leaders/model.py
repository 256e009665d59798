"""Leaders, bindings, commission orders, leader-days (open, then the day's statement), movements of
the available balance, withdrawals, and the unit of work that changes them.

Where the money is:
- pending: commission of attributed orders whose day is not settled yet. Kept as sharded counters
  (`LeadersChange.pending`), so a star leader's orders never write one item each.
- a completed order is booked as a `DayEntry` into its leader's open day (one item per order,
  line amounts inside); the T+1 run derives the day's earnings by reading the day's entries.
- available: the leader's `Account`; it moves by whole days at settlement (earned) and at once
  by `Movement`s (a reversal after settlement, a withdrawal, a failed payout's return), each
  booked into the leader's open day so the next statement shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from omnihub.events.domain import DomainEvent
from omnihub.leaders.scheme import Tier, commission_fen


@dataclass(frozen=True)
class TierSpell:
    since: str  # RFC 3339 UTC
    tier: Tier


@dataclass(frozen=True)
class Leader:
    leader_id: str
    name: str
    community: str
    member_id: str  # the leader's own member: a member cannot bind to themselves
    registered_at: str
    updated_at: str
    version: int = 0
    tier: Tier = "rookie"
    tiers: tuple[TierSpell, ...] = ()  # the tier history, oldest first (rates follow order time)
    review: Mapping[str, int | str] = field(default_factory=dict)  # the last monthly review

    def tier_at(self, when: str) -> Tier:
        """The tier in force at an instant: what an order paid then is rated at."""
        current: Tier = self.tiers[0].tier if self.tiers else self.tier
        for spell in self.tiers:
            if spell.since <= when:
                current = spell.tier
        return current

    def next(self, **changes: object) -> Leader:
        return replace(self, version=self.version + 1, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Binding:
    """A member's leader. Orders paid from `bound_at` on count for `leader_id`; `first_bound_at`
    is the seniority merges compare (the earliest binding wins)."""

    member_id: str
    leader_id: str
    bound_at: str
    first_bound_at: str
    by: str  # order:<order id> | admin:<subject> | merge:<absorbed member>
    version: int = 0
    moved_to: str | None = None  # the member was absorbed; its binding went to the survivor

    def next(self, **changes: object) -> Binding:
        return replace(self, version=self.version + 1, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Account:
    """The leader's available balance and where the statement chain stands."""

    leader_id: str
    version: int = 0  # 0: not stored yet
    available_fen: int = 0
    closing_fen: int = 0  # the closing balance of the last statement (the next one's opening)
    last_statement: str | None = None  # its date

    def next(self, **changes: object) -> Account:
        return replace(self, version=self.version + 1, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class CommissionLine:
    line_id: str
    category: str
    paid_fen: int
    rate_bp: int = 0  # frozen when the order is attributed to its leader
    refunded_fen: int = 0

    @property
    def net_paid_fen(self) -> int:
        return self.paid_fen - self.refunded_fen

    @property
    def commission_fen(self) -> int:
        """What the line is worth now: a refund re-prices it at its own rate."""
        return commission_fen(self.net_paid_fen, self.rate_bp)


@dataclass(frozen=True)
class CommissionOrder:
    """One brand order, whichever channels report it. Completions and refunds that arrive before
    the payment are kept here (with an expiry, in case it never counts for a leader)."""

    order_id: str
    version: int = 0
    leader_id: str | None = None  # attributed: the order counts for this leader
    awaiting_leader: str | None = None  # paid through the link of a leader not registered yet
    member_id: str | None = None
    channel: str | None = None
    paid_at: str | None = None
    lines: Mapping[str, CommissionLine] = field(default_factory=dict)
    returning: bool = False  # the buyer was bound to the leader before the order's month
    completed_at: str | None = None
    eligible_day: str | None = None  # the leader-day the order is booked into
    refunds: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    reversed_fen: int = 0  # commission taken back after its day was settled
    expires_at: int | None = None  # unix seconds; only while nothing counts for a leader

    @property
    def attributed(self) -> bool:
        return self.leader_id is not None

    @property
    def commission_fen(self) -> int:
        return sum(line.commission_fen for line in self.lines.values())

    @property
    def net_paid_fen(self) -> int:
        return sum(line.net_paid_fen for line in self.lines.values())

    def next(self, **changes: object) -> CommissionOrder:
        return replace(self, version=self.version + 1, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class DayEntry:
    """A completed order booked into its leader's day: what the day's settlement pays for it."""

    leader_id: str
    day: str
    order_id: str
    member_id: str
    lines: Mapping[str, int]  # line id -> commission fen after refunds before settlement
    sales_fen: int  # net paid after those refunds (monthly sales)
    returning: bool
    version: int = 0

    @property
    def commission_fen(self) -> int:
        return sum(self.lines.values())

    def next(self, **changes: object) -> DayEntry:
        return replace(self, version=self.version + 1, **changes)  # type: ignore[arg-type]


MoveKind = Literal["reversal", "withdrawal", "return"]


@dataclass(frozen=True)
class Movement:
    """A change of the available balance between settlements, booked into an open leader-day.
    `amount_fen` is positive; a reversal and a withdrawal take it, a return gives it back."""

    leader_id: str
    day: str
    cause: str
    kind: MoveKind
    amount_fen: int
    at: str
    sales_fen: int = 0  # a reversal: the net paid refunded (monthly sales)
    order_id: str | None = None

    @property
    def balance_delta(self) -> int:
        return self.amount_fen if self.kind == "return" else -self.amount_fen


@dataclass(frozen=True)
class Statement:
    """closing = opening + earned - reversed - withdrawn; withdrawn = withdrawals - returned."""

    date: str
    opening_fen: int
    earned_fen: int
    reversed_fen: int
    withdrawn_fen: int
    closing_fen: int
    withdrawals_fen: int
    returned_fen: int
    orders: int
    lines: int
    sales_fen: int
    refunded_sales_fen: int
    returning_orders: int
    settled_at: str


DayStatus = Literal["open", "settled"]


@dataclass(frozen=True)
class LeaderDay:
    """A leader's business day: open while things are booked into it, then its statement."""

    leader_id: str
    day: str
    version: int = 0
    status: DayStatus = "open"
    opened_at: str = ""
    voids: int = 0  # refunds that re-priced entries of this open day (each bumps the version)
    statement: Statement | None = None

    def next(self, **changes: object) -> LeaderDay:
        return replace(self, version=self.version + 1, **changes)  # type: ignore[arg-type]


PayoutStatus = Literal["requested", "paid", "failed"]


@dataclass(frozen=True)
class Payout:
    payout_id: str
    amount_fen: int
    status: PayoutStatus = "requested"
    reference: str = ""
    reason: str = ""
    at: str = ""


@dataclass(frozen=True)
class Withdrawal:
    leader_id: str
    withdrawal_id: str
    amount_fen: int
    requested_at: str
    day: str
    payouts: tuple[Payout, ...]
    version: int = 0

    @property
    def status(self) -> str:
        """requested while any payout is; then paid, failed, or partially_paid."""
        states = {p.status for p in self.payouts}
        if "requested" in states:
            return "requested"
        if states == {"paid"}:
            return "paid"
        return "failed" if states == {"failed"} else "partially_paid"

    def payout(self, payout_id: str) -> Payout | None:
        return next((p for p in self.payouts if p.payout_id == payout_id), None)

    def next(self, **changes: object) -> Withdrawal:
        return replace(self, version=self.version + 1, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Rating:
    """A bound member's star rating in a month: the leader's NPS input."""

    leader_id: str
    month: str
    cause: str
    rating: int
    at: str


@dataclass
class LeadersChange:
    """Written all or nothing. Pairs carry the version they replace (0 = must not exist yet)."""

    leaders: list[tuple[Leader, int]] = field(default_factory=list)
    bindings: list[tuple[Binding, int]] = field(default_factory=list)
    accounts: list[tuple[Account, int]] = field(default_factory=list)
    orders: list[tuple[CommissionOrder, int]] = field(default_factory=list)
    entries: list[tuple[DayEntry, int]] = field(default_factory=list)
    days: list[tuple[LeaderDay, int]] = field(default_factory=list)
    withdrawals: list[tuple[Withdrawal, int]] = field(default_factory=list)
    movements: list[Movement] = field(default_factory=list)
    pending: dict[tuple[str, int], int] = field(default_factory=dict)  # (leader, shard) -> fen
    month_active: list[tuple[str, str]] = field(default_factory=list)  # (leader, month)
    ratings: list[Rating] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)

    def add_pending(self, leader_id: str, shard: int, fen: int) -> None:
        if fen:
            key = (leader_id, shard)
            self.pending[key] = self.pending.get(key, 0) + fen

    def is_empty(self) -> bool:
        return not (
            self.leaders
            or self.bindings
            or self.accounts
            or self.orders
            or self.entries
            or self.days
            or self.withdrawals
            or self.movements
            or any(self.pending.values())
            or self.month_active
            or self.ratings
            or self.events
        )
