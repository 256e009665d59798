"""A member's points account, the orders that earn points, and the unit of work that changes them.

The account holds its available points in buckets by expiry month (oldest spent first, a whole
bucket expires at the end of its month) and its matured spend by month (the tier window), so a
redemption, an expiry or a tier review is one conditional update of one bounded item. The order
holds its lines (paid amount, frozen multiplier, what refunds took back), the points it is
credited with now, the member it belongs to now and the identity that brought it (`via`), so a
merge or an un-merge can move it with its points.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from omnihub.clock import iso
from omnihub.events.domain import DomainEvent
from omnihub.points.months import add_months, expiry_instant, month_of, notice_instant, start_of
from omnihub.points.rules import PointsRules, Tier, order_points, tier_rank

MAX_ACTIVITY_DAYS = 31  # the days the activity counter keeps (today and the 30 before)


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
    expiry_notified: str = ""  # the latest bucket noticed: every bucket up to it was noticed
    merged_into: str | None = None
    due_at: str | None = None  # when the daily job must look again (the due index's key)
    departed: Mapping[str, str] = field(default_factory=dict)
    """Lineages un-merged away from this member -> the member they left with: an earn resolved
    here before the un-merge committed goes where its identity is now (version-checked)."""

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
            moments.append(expiry_instant(live[0]))
            unnoticed = [m for m in live if m > self.expiry_notified]
            if unnoticed:  # each expiring month has its own notice (not only the earliest)
                moments.append(notice_instant(unnoticed[0], rules.expiry_notice_days))
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
    def net_fen(self) -> int:
        return self.paid_fen - self.refunded_fen


@dataclass(frozen=True)
class Order:
    """One brand order, whichever channels report it; the first payment report earns.

    `member_id` is the member whose account holds the order's points now (merges and un-merges
    move it); `via` the lineage of the identity that brought the payment. `expiry_month` is set
    when the points become available, not at payment. `refunds` holds the applied
    refunds (and, before the payment, the held ones); `rejected` the refunds that applied
    nothing (refund id -> reason)."""

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
    via: str | None = None
    credited: int | None = None  # the points the order holds now (None: as its lines say)
    rejected: Mapping[str, str] = field(default_factory=dict)

    @property
    def paid(self) -> bool:
        return self.paid_at is not None

    @property
    def points(self) -> int:
        """What the order holds now: what it earned, less what its refunds took back."""
        return self.credited if self.credited is not None else self.worth()

    def worth(self) -> int:
        """The order's points recomputed on its lines' net amounts (rounded once per order)."""
        return order_points((ln.net_fen, Decimal(ln.multiplier)) for ln in self.lines.values())

    @property
    def paid_fen(self) -> int:
        return sum(line.paid_fen for line in self.lines.values())

    @property
    def net_paid_fen(self) -> int:
        return sum(line.net_fen for line in self.lines.values())

    def expired(self, now: datetime) -> bool:
        """Its points became available and their month has ended (gone, whether spent or not)."""
        return bool(self.matured and self.expiry_month and expiry_instant(self.expiry_month) <= now)

    def summary(self, now: datetime) -> dict[str, object]:
        """The order as the member's file shows it."""
        refunded = self.paid_fen - self.net_paid_fen
        if self.lines and self.net_paid_fen == 0:
            status = "refunded"
        elif refunded:
            status = "partially_refunded"
        else:
            status = "completed" if self.completed_at else "paid"
        points_status = "pending"
        if self.matured:
            points_status = "expired" if self.expired(now) else "available"
        return {
            "order_id": self.order_id,
            "channel": self.channel,
            "paid_at": self.paid_at,
            "amount_fen": self.paid_fen,
            "refunded_fen": refunded,
            "points": self.points,
            "status": status,
            "points_status": points_status,
            "completed_at": self.completed_at,
            "points_expire_at": iso(expiry_instant(self.expiry_month))
            if self.matured and self.expiry_month
            else None,
        }

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
    """Keyed by its id alone (not by member), so a retry after a merge finds it."""

    member_id: str
    redemption_id: str
    points: int
    reward: str
    at: str
    available_after: int


@dataclass(frozen=True)
class Marker:
    """A cause applied once whoever it lands on (an activity id): keyed by the cause alone, so
    a merge between two deliveries cannot make it new again. Records who it went to."""

    key: str
    member_id: str
    at: str


@dataclass
class PointsChange:
    """Written all or nothing. `accounts`/`orders` carry the version they replace (0 = new)."""

    accounts: list[tuple[Account, int]] = field(default_factory=list)
    orders: list[tuple[Order, int]] = field(default_factory=list)
    entries: list[LedgerEntry] = field(default_factory=list)
    redemptions: list[Redemption] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (
            self.accounts
            or self.orders
            or self.entries
            or self.redemptions
            or self.markers
            or self.events
        )
