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
A booking's transaction checks that its leader-day is still open (`LeadersChange.open_days`), or
creates the day before its T+1 run started: the run closes a day before it reads it, so nothing
lands in a day whose statement is being written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    #: the last month whose tier is decided (by the review of the month before it, or by the
    #: registration); lines paid in a later month are priced provisionally (`PriceMark`)
    tier_month: str | None = None

    def tier_decided(self, month: str) -> bool:
        """Whether the tier of lines paid in `month` is final (no review can change it)."""
        return self.tier_month is not None and month <= self.tier_month

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
class Bond:
    """One binding as it arrived: made by an order, an admin or a merge, brought by the identity
    `via` (its lineage; None for an admin's rebinding or after erasure)."""

    leader_id: str
    bound_at: str
    first_bound_at: str
    by: str
    via: str | None = None

    @property
    def seniority(self) -> tuple[str, str]:
        """Merges compare it: the earliest binding wins (ties by leader id, so all agree)."""
        return (self.first_bound_at, self.leader_id)


@dataclass(frozen=True)
class Binding:
    """A member's leader. Orders paid from `bound_at` on count for `leader_id`; `first_bound_at`
    is the seniority merges compare (the earliest binding wins).

    The top-level fields are the winning bond; `others` keeps the bonds that lost to it in
    merges, so an un-merge that takes the winner away gives the member back the next one, and
    one that takes a loser away gives it to the split member (whatever order the merge and the
    un-merge are handled in)."""

    member_id: str
    leader_id: str
    bound_at: str
    first_bound_at: str
    by: str  # order:<order id> | admin:<subject> | merge:<absorbed member> | unmerge:<member>
    version: int = 0
    moved_to: str | None = None  # the member was absorbed; its binding went to the survivor
    via: str | None = None
    others: tuple[Bond, ...] = ()

    @property
    def bond(self) -> Bond:
        return Bond(self.leader_id, self.bound_at, self.first_bound_at, self.by, self.via)

    def bonds(self) -> tuple[Bond, ...]:
        """Every bond the member holds now (none once its binding moved on)."""
        return (self.bond, *self.others) if self.moved_to is None else ()

    @staticmethod
    def holding(member_id: str, bonds: Iterable[Bond], previous: Binding | None) -> Binding:
        """The binding of a member that holds `bonds` (at least one): the earliest wins."""
        ordered = sorted(dict.fromkeys(bonds), key=lambda b: (b.seniority, b.by, b.via or ""))
        win, rest = ordered[0], tuple(ordered[1:])
        return Binding(
            member_id=member_id,
            leader_id=win.leader_id,
            bound_at=win.bound_at,
            first_bound_at=win.first_bound_at,
            by=win.by,
            version=previous.version + 1 if previous is not None else 1,
            via=win.via,
            others=rest,
        )

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
    refunds: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # every one seen
    rejected: tuple[str, ...] = ()  # refunds that applied nothing (unknown line, beyond a line)
    reversed_fen: int = 0  # commission taken back after its day was settled
    expires_at: int | None = None  # unix seconds; only while nothing counts for a leader
    via: str | None = None  # the lineage of the identity that brought the payment
    tier: Tier | None = None  # the leader's tier its lines are priced at

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
    #: a re-pricing of an order settled before (its lines are the differences): earned, but not
    #: an order, a line or a sale of the day
    adjustment: bool = False

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


DayStatus = Literal["open", "closing", "settled"]


@dataclass(frozen=True)
class LeaderDay:
    """A leader's business day: open while things are booked into it; closing once its T+1 run
    has closed it to bookings (and reads it); then settled, with its statement."""

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


def split(amount_fen: int, cap_fen: int) -> list[int]:
    """Payout amounts: as many full caps as fit, then the rest."""
    full, rest = divmod(amount_fen, cap_fen)
    return [cap_fen] * full + ([rest] if rest else [])


@dataclass(frozen=True)
class Withdrawal:
    """A withdrawal and its payouts plan: `parts` payouts of at most `cap_fen` (ids
    `<withdrawal_id>-<n>`, n from 1). The item holds the plan, not the payouts, so any amount
    fits: `issued` payouts have their `commission.payout_requested` in the outbox (they go out
    in chunks); a payout that ended is its own item (`ended`, loaded for views)."""

    leader_id: str
    withdrawal_id: str
    amount_fen: int
    requested_at: str
    day: str
    cap_fen: int
    issued: int = 0
    version: int = 0
    ended: Mapping[str, Payout] = field(default_factory=dict)

    @property
    def parts(self) -> int:
        return -(-self.amount_fen // self.cap_fen)

    def planned(self, first: int = 1, last: int | None = None) -> tuple[Payout, ...]:
        """The payouts n in [first, last] as requested (amounts by `split`)."""
        last = self.parts if last is None else min(last, self.parts)
        return tuple(
            Payout(
                f"{self.withdrawal_id}-{n}",
                min(self.cap_fen, self.amount_fen - (n - 1) * self.cap_fen),
            )
            for n in range(first, last + 1)
        )

    @property
    def payouts(self) -> tuple[Payout, ...]:
        """Every payout, with its result when it ended (as far as `ended` was loaded)."""
        return tuple(self.ended.get(p.payout_id, p) for p in self.planned())

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
        """The planned payout of that id (None when the plan has none)."""
        prefix, _, n = payout_id.rpartition("-")
        if prefix != self.withdrawal_id or not n.isdigit() or not 1 <= int(n) <= self.parts:
            return None
        return self.planned(int(n), int(n))[0]

    def next(self, **changes: object) -> Withdrawal:
        return replace(self, version=self.version + 1, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class EndedPayout:
    """A payout's result: written once (the item must not exist yet)."""

    leader_id: str
    withdrawal_id: str
    payout: Payout


@dataclass(frozen=True)
class PriceMark:
    """An order priced before the tier of its paid month was decided: the review that decides it
    re-prices the order (and removes the mark)."""

    leader_id: str
    order_id: str
    paid_at: str


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
    unbound: list[tuple[str, int]] = field(default_factory=list)  # (member, version): deleted
    accounts: list[tuple[Account, int]] = field(default_factory=list)
    orders: list[tuple[CommissionOrder, int]] = field(default_factory=list)
    entries: list[tuple[DayEntry, int]] = field(default_factory=list)
    days: list[tuple[LeaderDay, int]] = field(default_factory=list)
    withdrawals: list[tuple[Withdrawal, int]] = field(default_factory=list)
    ended_payouts: list[EndedPayout] = field(default_factory=list)  # each must be new
    movements: list[Movement] = field(default_factory=list)
    pending: dict[tuple[str, int], int] = field(default_factory=dict)  # (leader, shard) -> fen
    month_active: list[tuple[str, str]] = field(default_factory=list)  # (leader, month)
    ratings: list[Rating] = field(default_factory=list)
    marks: list[PriceMark] = field(default_factory=list)  # written
    unmarked: list[tuple[str, str]] = field(default_factory=list)  # (leader, order): deleted
    events: list[DomainEvent] = field(default_factory=list)
    # conditions on items the change does not write (ConditionChecks; skipped for an item the
    # change writes, whose own version condition is stronger)
    open_days: list[tuple[str, str]] = field(default_factory=list)  # (leader, day): still open
    seen_accounts: list[tuple[str, int]] = field(default_factory=list)  # (leader, version)
    seen_leaders: list[tuple[str, int]] = field(default_factory=list)  # (leader, version)

    def require_open(self, leader_id: str, day: str) -> None:
        if (leader_id, day) not in self.open_days:
            self.open_days.append((leader_id, day))

    def require_account(self, leader_id: str, version: int) -> None:
        if all(lid != leader_id for lid, _ in self.seen_accounts):
            self.seen_accounts.append((leader_id, version))

    def require_leader(self, leader_id: str, version: int) -> None:
        if all(lid != leader_id for lid, _ in self.seen_leaders):
            self.seen_leaders.append((leader_id, version))

    def add_pending(self, leader_id: str, shard: int, fen: int) -> None:
        if fen:
            key = (leader_id, shard)
            self.pending[key] = self.pending.get(key, 0) + fen

    def is_empty(self) -> bool:
        return not (
            self.leaders
            or self.bindings
            or self.unbound
            or self.accounts
            or self.orders
            or self.entries
            or self.days
            or self.withdrawals
            or self.ended_payouts
            or self.movements
            or any(self.pending.values())
            or self.month_active
            or self.ratings
            or self.marks
            or self.unmarked
            or self.events
        )
