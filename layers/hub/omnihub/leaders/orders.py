"""Orders through leaders: who an order counts for, its commission lines, completion,
refunds before and after settlement.

- order.paid: a member bound to a leader earns that leader commission on every order paid from
  the binding on, whatever the channel and whatever link it came through. An unbound member's
  first order through a leader's link binds them (not to the leader's own member). Rates are
  frozen per line at the leader's tier for the instant the order was paid (and the category's
  override). The tier of a month is decided by the review of the month before; an order paid
  in a month whose tier is not decided yet (the review runs after 00:00 on the 1st) is priced at
  the tier in force and marked (`PriceMark`): the review re-prices it (`reprice`).
  The same order reported again (another channel) counts once; an order that counts for nobody
  writes nothing, so a later report carrying the link still counts.
- order.completed: the order's entry is booked into the leader's day of its completion (Asia/
  Shanghai) while that day is open, else the first open day after it; the T+1 run pays it.
- order.refunded (line amounts): the line is re-priced at its own rate. Before the day is
  settled that voids commission (pending, or the day's entry); after, the difference is a
  reversal of the available balance, booked into the leader's open day (the next statement).
  A line is refunded at most its paid amount in total, whatever the channels and refund ids
  (docs/events.md): a refund that names a line the order lacks, or asks more than is left of a
  line, applies nothing ("rejected"; the points side opens the review case).
Completions and refunds that arrive before the payment are kept on the order and applied when
it comes (held refunds one by one by refund id, as the points side takes them, each judged as
above: they never block the payment); a payment through a leader not registered yet waits for
the registration.
The buyer is where the payment's identity (`via`) belongs when the order is counted; a binding
the order makes is placed again after the commit (`placement`), so a merge or un-merge that
committed meanwhile moves it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from omnihub.clock import iso, parse_iso
from omnihub.errors import ConcurrentChange
from omnihub.identity.chain import live_root, rightful_root
from omnihub.identity.ports import MemberStore
from omnihub.leaders.booking import Outcome, book_day, commit_with_retry, leader_event
from omnihub.leaders.days import PENDING_SHARDS, day_of, month_of, shard_of
from omnihub.leaders.model import (
    Binding,
    CommissionLine,
    CommissionOrder,
    DayEntry,
    Leader,
    LeadersChange,
    Movement,
    PriceMark,
)
from omnihub.leaders.placement import home, place_binding
from omnihub.leaders.ports import LeadersStore
from omnihub.leaders.scheme import CommissionScheme, Tier


@dataclass(frozen=True)
class PaidLine:
    line_id: str
    category: str
    paid_fen: int


@dataclass(frozen=True)
class Payment:
    """An order.paid as the leaders domain reads it: `member_id` is the member the event's
    identities resolved to, `via` the lineage of the identity that brought it."""

    order_id: str
    member_id: str
    channel: str
    paid_at: datetime
    lines: Sequence[PaidLine]
    leader_link: str | None
    cause: str
    via: str | None = None


def record_payment(
    store: LeadersStore,
    members: MemberStore,
    payment: Payment,
    scheme: CommissionScheme,
    now: datetime,
) -> Outcome:
    bound: list[str] = []

    def plan() -> tuple[Outcome, LeadersChange]:
        bound.clear()
        order = store.order(payment.order_id) or CommissionOrder(order_id=payment.order_id)
        if order.attributed or order.awaiting_leader:
            return Outcome("duplicate", order.leader_id), LeadersChange()
        # the member may have merged or split since it was resolved (it is not erased: its
        # identities just spoke)
        buyer = rightful_root(members, payment.via, payment.member_id)
        pay = replace(payment, member_id=buyer)
        return _attribute(store, members, order, pay, scheme, now, bound)

    return _placed(store, members, commit_with_retry(store, plan), bound, payment.cause, now)


def attribute_awaiting(
    store: LeadersStore,
    members: MemberStore,
    order_id: str,
    scheme: CommissionScheme,
    now: datetime,
) -> Outcome:
    """Count an order that waited for its leader's registration (called on leader.registered)."""
    bound: list[str] = []
    cause = f"leader-registered:{order_id}"

    def plan() -> tuple[Outcome, LeadersChange]:
        bound.clear()
        order = store.order(order_id)
        if order is None or order.attributed or not order.awaiting_leader:
            return Outcome("duplicate"), LeadersChange()
        assert order.member_id is not None
        assert order.paid_at is not None
        assert order.channel is not None
        payment = Payment(
            order_id=order_id,
            member_id=home(members, order.via, order.member_id)[0],
            channel=order.channel,
            paid_at=parse_iso(order.paid_at),
            lines=[PaidLine(x.line_id, x.category, x.paid_fen) for x in order.lines.values()],
            leader_link=order.awaiting_leader,
            cause=f"leader-registered:{order.awaiting_leader}:{order_id}",
            via=order.via,
        )
        return _attribute(store, members, order, payment, scheme, now, bound)

    return _placed(store, members, commit_with_retry(store, plan), bound, cause, now)


def _placed(
    store: LeadersStore,
    members: MemberStore,
    outcome: Outcome,
    bound: list[str],
    cause: str,
    now: datetime,
) -> Outcome:
    """After a commit that bound a member: move the binding on if the member merged or split
    between being read and the write (the merge's own handler may have run already)."""
    if outcome.status == "applied":
        for member_id in bound:
            place_binding(store, members, member_id, cause, now)
    return outcome


def _attribute(
    store: LeadersStore,
    members: MemberStore,
    order: CommissionOrder,
    pay: Payment,
    scheme: CommissionScheme,
    now: datetime,
    bound: list[str],
) -> tuple[Outcome, LeadersChange]:
    change = LeadersChange()
    paid_at = iso(pay.paid_at)
    stored = store.binding(pay.member_id)
    binding = stored if stored is not None and stored.moved_to is None else None
    if binding is not None:
        # one leader per member: another leader's link does not rebind
        leader_id = binding.leader_id if paid_at >= binding.bound_at else None
    else:
        leader_id = pay.leader_link
    if leader_id is None:
        return _unattributed(order, "no_leader", change, scheme, now)
    raw = {p.line_id: CommissionLine(p.line_id, p.category, p.paid_fen) for p in pay.lines}
    leader = store.leader(leader_id)
    if leader is None:  # the link names a leader who has not registered (yet)
        waiting = order.next(
            awaiting_leader=leader_id,
            member_id=pay.member_id,
            channel=pay.channel,
            paid_at=paid_at,
            lines=raw,
            expires_at=None,
            via=pay.via,
        )
        change.orders.append((waiting, order.version))
        return Outcome("awaiting_leader", leader_id), change
    if binding is None and live_root(members, leader.member_id)[0] == pay.member_id:
        return _unattributed(order, "self_binding", change, scheme, now)

    tier = leader.tier_at(paid_at)
    lines, rejected = _apply_held(order, _priced(raw, tier, scheme))
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
        rejected=(*order.rejected, *rejected),
        via=pay.via,
        tier=tier,
    )
    _mark_if_provisional(leader, counted, change)
    if binding is None:
        made = Binding(
            member_id=pay.member_id,
            leader_id=leader_id,
            bound_at=paid_at,
            first_bound_at=paid_at,
            by=f"order:{pay.order_id}",
            version=stored.version + 1 if stored is not None else 1,
            via=pay.via,
        )
        change.bindings.append((made, stored.version if stored is not None else 0))
        bound.append(pay.member_id)
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


def _priced(
    lines: Mapping[str, CommissionLine], tier: Tier, scheme: CommissionScheme
) -> dict[str, CommissionLine]:
    return {
        line_id: replace(line, rate_bp=scheme.rate_bp(tier, line.category))
        for line_id, line in lines.items()
    }


def _mark_if_provisional(leader: Leader, order: CommissionOrder, change: LeadersChange) -> None:
    """An order paid in a month whose tier is not decided yet is re-priced by the review that
    decides it: mark it, conditioned on the leader (a review committing meanwhile makes the
    payment plan again, and price it at the decided tier)."""
    assert order.paid_at is not None
    if not leader.tier_decided(month_of(parse_iso(order.paid_at))):
        change.marks.append(PriceMark(leader.leader_id, order.order_id, order.paid_at))
        change.require_leader(leader.leader_id, leader.version)


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
    """Book a paid, completed order into its leader's day of completion while that day is open
    (its run has not closed it: a completion at 23:59:50 processed at 00:00:10 still counts for
    its day), else into the first open day after it."""
    assert order.leader_id is not None
    assert order.completed_at is not None
    assert order.member_id is not None
    day = book_day(store, order.leader_id, day_of(parse_iso(order.completed_at)), change, now)
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
        if not order.attributed:  # judged and applied when the payment makes it count
            kept = order.next(refunds=refunds)
            if not order.awaiting_leader:
                kept = replace(kept, expires_at=_expiry(scheme, now))
            change.orders.append((kept, order.version))
            return Outcome("recorded"), change
        if not _fits(lines, order.lines):  # the whole refund applies nothing
            refused = order.next(refunds=refunds, rejected=(*order.rejected, refund_id))
            change.orders.append((refused, order.version))
            return Outcome("rejected", order.leader_id), change
        repriced = _refunded(order.lines, lines)
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


def _fits(refund: Mapping[str, int], lines: Mapping[str, CommissionLine]) -> bool:
    """A refund applies only when every line it names is on the order and has that much left
    to refund (a line is refunded at most its paid amount, whatever the refund ids)."""
    return all(
        line_id in lines and lines[line_id].refunded_fen + fen <= lines[line_id].paid_fen
        for line_id, fen in refund.items()
    )


def _refunded(
    lines: Mapping[str, CommissionLine], refund: Mapping[str, int]
) -> dict[str, CommissionLine]:
    return {
        line_id: replace(line, refunded_fen=line.refunded_fen + refund.get(line_id, 0))
        for line_id, line in lines.items()
    }


def _apply_held(
    order: CommissionOrder, lines: dict[str, CommissionLine]
) -> tuple[dict[str, CommissionLine], list[str]]:
    """The refunds that came before the order counted (all it has: none applied yet), by refund
    id (a fixed order whatever the arrival, the one the points side uses): each one that fits
    applies; the others apply nothing (they never block the payment)."""
    rejected: list[str] = []
    for refund_id in sorted(set(order.refunds) - set(order.rejected)):
        refund = order.refunds[refund_id]
        if _fits(refund, lines):
            lines = _refunded(lines, refund)
        else:
            rejected.append(refund_id)
    return lines, rejected


def _expiry(scheme: CommissionScheme, now: datetime) -> int:
    return int((now + timedelta(days=scheme.placeholder_days)).timestamp())


def reprice(
    store: LeadersStore, leader: Leader, mark: PriceMark, scheme: CommissionScheme, now: datetime
) -> Outcome:
    """Price a marked order at the tier decided for its paid month, once (the mark goes in the
    same transaction). The difference follows the order: pending shrinks or grows; an entry of
    an open day is re-priced in place; an order whose day closed gets the difference on the next
    statement: more as an adjustment entry of the leader's open day (earned, T+1), less as a
    reversal (taken at once, as a refund after settlement is)."""
    leader_id = leader.leader_id

    def plan() -> tuple[Outcome, LeadersChange]:
        change = LeadersChange(unmarked=[(leader_id, mark.order_id)])
        order = store.order(mark.order_id)
        if order is None or order.leader_id != leader_id or order.paid_at is None:
            return Outcome("applied", leader_id), change  # nothing of this leader to price
        tier = leader.tier_at(order.paid_at)
        if tier == order.tier:
            return Outcome("applied", leader_id), change
        lines = _priced(order.lines, tier, scheme)
        priced = order.next(lines=lines, tier=tier)
        delta = priced.commission_fen - order.commission_fen
        shard = shard_of(order.order_id, PENDING_SHARDS)
        day = store.day(leader_id, order.eligible_day) if order.eligible_day else None
        if order.eligible_day is None:  # not completed: pending follows
            change.add_pending(leader_id, shard, delta)
        elif day is not None and day.status == "open":  # re-price its entry before settlement
            entry = store.entry(leader_id, day.day, order.order_id)
            if entry is None:
                raise ConcurrentChange(f"the entry of {order.order_id} is not there")
            repriced = {k: x.commission_fen for k, x in lines.items()}
            change.entries.append((entry.next(lines=repriced), entry.version))
            change.require_open(leader_id, day.day)
            change.add_pending(leader_id, shard, delta)
        elif delta > 0:  # settled at the lower rate: the rest is earned on the next statement
            booked = book_day(store, leader_id, day_of(now), change, now)
            diff = {
                k: x.commission_fen - order.lines[k].commission_fen
                for k, x in lines.items()
                if x.commission_fen != order.lines[k].commission_fen
            }
            adjustment = DayEntry(
                leader_id=leader_id,
                day=booked,
                order_id=order.order_id,
                member_id=order.member_id or "",
                lines=diff,
                sales_fen=0,
                returning=False,
                version=1,
                adjustment=True,
            )
            change.entries.append((adjustment, 0))
            change.add_pending(leader_id, shard, delta)
        elif delta < 0:  # settled at the higher rate: taken back like a refund after settlement
            booked = book_day(store, leader_id, day_of(now), change, now)
            account = store.account(leader_id)
            change.accounts.append(
                (account.next(available_fen=account.available_fen + delta), account.version)
            )
            change.movements.append(
                Movement(
                    leader_id=leader_id,
                    day=booked,
                    cause=f"reprice:{order.order_id}",
                    kind="reversal",
                    amount_fen=-delta,
                    at=iso(now),
                    order_id=order.order_id,
                )
            )
            priced = replace(priced, reversed_fen=order.reversed_fen - delta)
        change.orders.append((priced, order.version))
        return Outcome("applied", leader_id, delta), change

    return commit_with_retry(store, plan)
