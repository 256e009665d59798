"""Orders through leaders (SPEC 4.5): who an order counts for, its commission lines, completion,
refunds before and after settlement.

- order.paid: a member bound to a leader earns that leader commission on every order paid from
  the binding on, whatever the channel and whatever link it came through. An unbound member's
  first order through a leader's link binds them (not to the leader's own member). Rates are
  frozen per line at the leader's tier when the order was paid (and the category's override).
  The same order reported again (another channel) counts once; an order that counts for nobody
  writes nothing, so a later report carrying the link still counts.
- order.completed: the order's entry is booked into the leader's open day; the T+1 run pays it.
- order.refunded (line amounts): the line is re-priced at its own rate. Before the day is
  settled that voids commission (pending, or the day's entry); after, the difference is a
  reversal of the available balance, booked into the leader's open day (the next statement).
Completions and refunds that arrive before the payment are kept on the order and applied when
it comes; a payment through a leader not registered yet waits for the registration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from omnihub.clock import iso, parse_iso
from omnihub.errors import ConcurrentChange, InvalidInput
from omnihub.leaders.booking import Outcome, book_day, commit_with_retry, leader_event
from omnihub.leaders.days import PENDING_SHARDS, day_of, month_of, shard_of
from omnihub.leaders.model import (
    Binding,
    CommissionLine,
    CommissionOrder,
    DayEntry,
    LeadersChange,
    Movement,
)
from omnihub.leaders.ports import LeadersStore, MemberRoot
from omnihub.leaders.scheme import CommissionScheme


@dataclass(frozen=True)
class PaidLine:
    line_id: str
    category: str
    paid_fen: int


@dataclass(frozen=True)
class Payment:
    """An order.paid as the leaders domain reads it; `member_id` is the buyer's live member."""

    order_id: str
    member_id: str
    channel: str
    paid_at: datetime
    lines: Sequence[PaidLine]
    leader_link: str | None
    cause: str


def record_payment(
    store: LeadersStore,
    payment: Payment,
    scheme: CommissionScheme,
    now: datetime,
    root_of: MemberRoot,
) -> Outcome:
    def plan() -> tuple[Outcome, LeadersChange]:
        order = store.order(payment.order_id) or CommissionOrder(order_id=payment.order_id)
        if order.attributed or order.awaiting_leader:
            return Outcome("duplicate", order.leader_id), LeadersChange()
        return _attribute(store, order, payment, scheme, now, root_of)

    return commit_with_retry(store, plan)


def attribute_awaiting(
    store: LeadersStore,
    order_id: str,
    scheme: CommissionScheme,
    now: datetime,
    root_of: MemberRoot,
) -> Outcome:
    """Count an order that waited for its leader's registration (called on leader.registered)."""

    def plan() -> tuple[Outcome, LeadersChange]:
        order = store.order(order_id)
        if order is None or order.attributed or not order.awaiting_leader:
            return Outcome("duplicate"), LeadersChange()
        assert order.member_id is not None
        assert order.paid_at is not None
        assert order.channel is not None
        payment = Payment(
            order_id=order_id,
            member_id=root_of(order.member_id),
            channel=order.channel,
            paid_at=parse_iso(order.paid_at),
            lines=[PaidLine(x.line_id, x.category, x.paid_fen) for x in order.lines.values()],
            leader_link=order.awaiting_leader,
            cause=f"leader-registered:{order.awaiting_leader}:{order_id}",
        )
        return _attribute(store, order, payment, scheme, now, root_of)

    return commit_with_retry(store, plan)


def _attribute(
    store: LeadersStore,
    order: CommissionOrder,
    pay: Payment,
    scheme: CommissionScheme,
    now: datetime,
    root_of: MemberRoot,
) -> tuple[Outcome, LeadersChange]:
    change = LeadersChange()
    paid_at = iso(pay.paid_at)
    binding = store.binding(pay.member_id)
    if binding is not None and binding.moved_to is None:
        # one leader per member: another leader's link does not rebind
        leader_id = binding.leader_id if paid_at >= binding.bound_at else None
    else:
        binding = None
        leader_id = pay.leader_link
    if leader_id is None:
        return _unattributed(order, "no_leader", change, scheme, now)
    raw = {p.line_id: CommissionLine(p.line_id, p.category, p.paid_fen) for p in pay.lines}
    refunded = _refunded_by_line(order.refunds)
    _known_lines(refunded, raw)
    leader = store.leader(leader_id)
    if leader is None:  # the link names a leader who has not registered (yet)
        waiting = order.next(
            awaiting_leader=leader_id,
            member_id=pay.member_id,
            channel=pay.channel,
            paid_at=paid_at,
            lines=raw,
            expires_at=None,
        )
        change.orders.append((waiting, order.version))
        return Outcome("awaiting_leader", leader_id), change
    if binding is None and root_of(leader.member_id) == pay.member_id:
        return _unattributed(order, "self_binding", change, scheme, now)

    tier = leader.tier_at(paid_at)
    lines = {
        line_id: CommissionLine(
            line_id=line_id,
            category=line.category,
            paid_fen=line.paid_fen,
            rate_bp=scheme.rate_bp(tier, line.category),
            refunded_fen=min(line.paid_fen, refunded.get(line_id, 0)),
        )
        for line_id, line in raw.items()
    }
    returning = binding is not None and (
        month_of(parse_iso(binding.first_bound_at)) < month_of(pay.paid_at)
    )
    counted = order.next(
        leader_id=leader_id,
        awaiting_leader=None,
        member_id=pay.member_id,
        channel=pay.channel,
        paid_at=paid_at,
        lines=lines,
        returning=returning,
        expires_at=None,
    )
    if binding is None:
        bound = Binding(
            member_id=pay.member_id,
            leader_id=leader_id,
            bound_at=paid_at,
            first_bound_at=paid_at,
            by=f"order:{pay.order_id}",
            version=1,
        )
        change.bindings.append((bound, 0))
        change.events.append(
            leader_event(
                "leader.member_bound",
                pay.cause,
                now,
                {"leader_id": leader_id, "by": "order", "order_id": pay.order_id},
                member_id=pay.member_id,
                subject=leader_id,
            )
        )
    change.add_pending(leader_id, shard_of(pay.order_id, PENDING_SHARDS), counted.commission_fen)
    if counted.completed_at:  # the completion came first
        counted = _book_entry(store, counted, change, now)
    change.orders.append((counted, order.version))
    return Outcome("applied", leader_id, counted.commission_fen), change


def _unattributed(
    order: CommissionOrder,
    status: str,
    change: LeadersChange,
    scheme: CommissionScheme,
    now: datetime,
) -> tuple[Outcome, LeadersChange]:
    """Nothing counts for a leader: write nothing, unless an order that waited must stop."""
    if order.awaiting_leader:
        stopped = order.next(awaiting_leader=None, expires_at=_expiry(scheme, now))
        change.orders.append((stopped, order.version))
    return Outcome(status), change


def _book_entry(
    store: LeadersStore, order: CommissionOrder, change: LeadersChange, now: datetime
) -> CommissionOrder:
    """Book a paid, completed order into its leader's open day (the day it completed on, or
    today when the hub learns of it later)."""
    assert order.leader_id is not None
    assert order.completed_at is not None
    assert order.member_id is not None
    earliest = max(day_of(parse_iso(order.completed_at)), day_of(now))
    day = book_day(store, order.leader_id, earliest, change, now)
    entry = DayEntry(
        leader_id=order.leader_id,
        day=day,
        order_id=order.order_id,
        member_id=order.member_id,
        lines={k: line.commission_fen for k, line in order.lines.items()},
        sales_fen=order.net_paid_fen,
        returning=order.returning,
        version=1,
    )
    change.entries.append((entry, 0))
    return replace(order, eligible_day=day)


def record_completion(
    store: LeadersStore,
    order_id: str,
    completed_at: datetime,
    scheme: CommissionScheme,
    now: datetime,
) -> Outcome:
    def plan() -> tuple[Outcome, LeadersChange]:
        order = store.order(order_id) or CommissionOrder(order_id=order_id)
        if order.completed_at:
            return Outcome("duplicate", order.leader_id), LeadersChange()
        change = LeadersChange()
        done = order.next(completed_at=iso(completed_at))
        if not order.attributed:  # kept until a payment makes it count (or it expires)
            if not order.awaiting_leader:
                done = replace(done, expires_at=_expiry(scheme, now))
            change.orders.append((done, order.version))
            return Outcome("recorded"), change
        done = _book_entry(store, done, change, now)
        change.orders.append((done, order.version))
        return Outcome("applied", order.leader_id, done.commission_fen), change

    return commit_with_retry(store, plan)


def record_refund(
    store: LeadersStore,
    order_id: str,
    refund_id: str,
    lines: Mapping[str, int],
    scheme: CommissionScheme,
    now: datetime,
) -> Outcome:
    def plan() -> tuple[Outcome, LeadersChange]:
        order = store.order(order_id) or CommissionOrder(order_id=order_id)
        if refund_id in order.refunds:
            return Outcome("duplicate", order.leader_id), LeadersChange()
        change = LeadersChange()
        refunds = {**order.refunds, refund_id: dict(lines)}
        if not order.attributed:  # applied when the payment makes it count
            if order.awaiting_leader:
                _known_lines(lines, order.lines)
            kept = order.next(refunds=refunds)
            if not order.awaiting_leader:
                kept = replace(kept, expires_at=_expiry(scheme, now))
            change.orders.append((kept, order.version))
            return Outcome("recorded"), change
        _known_lines(lines, order.lines)
        repriced = {
            line_id: replace(
                line, refunded_fen=min(line.paid_fen, line.refunded_fen + lines.get(line_id, 0))
            )
            for line_id, line in order.lines.items()
        }
        refunded = order.next(lines=repriced, refunds=refunds)
        voided = order.commission_fen - refunded.commission_fen
        sales = order.net_paid_fen - refunded.net_paid_fen
        assert order.leader_id is not None
        leader_id = order.leader_id
        if order.eligible_day is None:  # not completed: the pending commission shrinks
            change.add_pending(leader_id, shard_of(order_id, PENDING_SHARDS), -voided)
            change.orders.append((refunded, order.version))
            return Outcome("applied", leader_id, -voided), change
        day = store.day(leader_id, order.eligible_day)
        if day is None:
            raise ConcurrentChange(f"the day {order.eligible_day} of {leader_id} is not there")
        if day.status == "open":  # before settlement: void the day's entry
            entry = store.entry(leader_id, day.day, order_id)
            if entry is None:
                raise ConcurrentChange(f"the entry of {order_id} is not there")
            change.entries.append(
                (
                    entry.next(
                        lines={k: x.commission_fen for k, x in repriced.items()},
                        sales_fen=refunded.net_paid_fen,
                    ),
                    entry.version,
                )
            )
            # the version bump makes a settlement that read the day before this void re-plan
            change.days.append((day.next(voids=day.voids + 1), day.version))
            change.add_pending(leader_id, shard_of(order_id, PENDING_SHARDS), -voided)
            change.orders.append((refunded, order.version))
            return Outcome("applied", leader_id, -voided), change
        # after settlement: a negative adjustment on the next statement
        if voided or sales:
            booked = book_day(store, leader_id, day_of(now), change, now)
            account = store.account(leader_id)
            change.accounts.append(
                (account.next(available_fen=account.available_fen - voided), account.version)
            )
            change.movements.append(
                Movement(
                    leader_id=leader_id,
                    day=booked,
                    cause=f"refund:{order_id}:{refund_id}",
                    kind="reversal",
                    amount_fen=voided,
                    at=iso(now),
                    sales_fen=sales,
                    order_id=order_id,
                )
            )
            refunded = replace(refunded, reversed_fen=order.reversed_fen + voided)
        change.orders.append((refunded, order.version))
        return Outcome("applied", leader_id, -voided), change

    return commit_with_retry(store, plan)


def _known_lines(refunded: Mapping[str, int], lines: Mapping[str, CommissionLine]) -> None:
    """A refund naming a line the order does not have breaks the contract (it is parked)."""
    unknown = set(refunded) - set(lines)
    if unknown:
        raise InvalidInput(
            "a refund names lines the order does not have",
            details=[{"field": "data.lines", "message": ", ".join(sorted(unknown))}],
        )


def _refunded_by_line(refunds: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for refund in refunds.values():
        for line_id, fen in refund.items():
            total[line_id] = total.get(line_id, 0) + fen
    return total


def _expiry(scheme: CommissionScheme, now: datetime) -> int:
    return int((now + timedelta(days=scheme.placeholder_days)).timestamp())
