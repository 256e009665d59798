"""A member's points account, the orders that earn points, and the unit of work that changes them.

The account holds its available points in buckets by expiry month (oldest spent first, a whole
bucket expires at the end of its month) and its matured spend by month (the tier window), so a
redemption, an expiry or a tier review is one conditional update of one bounded item. The order
holds its lines: the points each earned at its frozen multiplier, and what refunds took back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from omnihub.events.domain import DomainEvent
from omnihub.points.months import add_months, expiry_instant, month_of, notice_instant, start_of
from omnihub.points.rules import PointsRules, Tier, line_points, tier_rank

MAX_ACTIVITY_DAYS = 31


@dataclass(frozen=True)
class Account:
    member_id: str
    version: int = 0  # 0: not stored yet
    pending: int = 0
    debt: int = 0
    buckets: Mapping[str, int] = field(default_factory=dict)
    spend: Mapping[str, int] = field(default_factory=dict)
    tier: Tier = "silver"
    activity: Mapping[str, int] = field(default_factory=dict)
    expiry_notified: str = ""
    merged_into: str | None = None
    due_at: str | None = None  # when the daily job must look again (the due index's key)

    @property
    def available(self) -> int:
        return sum(self.buckets.values())

    def next(self, **changes: object) -> Account:
        return replace(self, version=self.version + 1, **changes)  # type: ignore[arg-type]

    def window_spend(self, now_month: str, rules: PointsRules) -> int:
        first = add_months(now_month, -(rules.spend_window_months - 1))
        return sum(fen for month, fen in self.spend.items() if first <= month <= now_month)

    def next_attention(self, rules: PointsRules, now: datetime) -> datetime | None:
        """When the daily job must look at this account next (expiry, its notice, a possible
        downgrade); None when nothing can become due. This is the account's due-index key."""
        moments: list[datetime] = []
        if tier_rank(rules.tier_for(self.window_spend(month_of(now), rules))) < tier_rank(
            self.tier
        ):
            moments.append(now)  # a refund took its spend below the tier: review tonight
        live = sorted(m for m, points in self.buckets.items() if points > 0)
        if live:
            earliest = live[0]
            moments.append(expiry_instant(earliest))
            if self.expiry_notified != earliest:
                moments.append(notice_instant(earliest, rules.expiry_notice_days))
        if self.tier != "silver":
            spent = sorted(m for m, fen in self.spend.items() if fen > 0)
            # a tier above silver is reviewed when its oldest spend leaves the window (at once
            # when there is no spend to hold it)
            review = spent[0] if spent else add_months("1970-01", -rules.spend_window_months)
            moments.append(start_of(add_months(review, rules.spend_window_months)))
        return min(moments) if moments else None


@dataclass(frozen=True)
class Line:
    line_id: str
    category: str
    paid_fen: int
    multiplier: str  # a Decimal as text: frozen when the order was paid
    refunded_fen: int = 0

    @property
    def points(self) -> int:
        """What the line is worth now, after its refunds."""
        return line_points(self.paid_fen - self.refunded_fen, Decimal(self.multiplier))


@dataclass(frozen=True)
class Order:
    """One brand order, whichever channels report it; the first payment report earns."""

    order_id: str
    version: int = 0
    member_id: str | None = None
    channel: str | None = None
    paid_at: str | None = None
    expiry_month: str | None = None
    spend_month: str | None = None
    completed_at: str | None = None
    matures_at: str | None = None
    matured: bool = False
    lines: Mapping[str, Line] = field(default_factory=dict)
    refunds: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    @property
    def paid(self) -> bool:
        return self.paid_at is not None

    @property
    def points(self) -> int:
        return sum(line.points for line in self.lines.values())

    @property
    def net_paid_fen(self) -> int:
        return sum(line.paid_fen - line.refunded_fen for line in self.lines.values())

    def next(self, **changes: object) -> Order:
        return replace(self, version=self.version + 1, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class LedgerEntry:
    """One change of a member's points, keyed by its cause (a second write of a cause fails)."""

    member_id: str
    cause: str
    at: str
    kind: str
    available_delta: int = 0
    pending_delta: int = 0
    debt_delta: int = 0
    available_after: int = 0
    pending_after: int = 0
    debt_after: int = 0
    note: str = ""


@dataclass(frozen=True)
class Redemption:
    member_id: str
    redemption_id: str
    points: int
    reward: str
    at: str
    available_after: int


@dataclass
class PointsChange:
    """Written all or nothing. `accounts`/`orders` carry the version they replace (0 = new)."""

    accounts: list[tuple[Account, int]] = field(default_factory=list)
    orders: list[tuple[Order, int]] = field(default_factory=list)
    entries: list[LedgerEntry] = field(default_factory=list)
    redemptions: list[Redemption] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.accounts or self.orders or self.entries or self.redemptions or self.events)
