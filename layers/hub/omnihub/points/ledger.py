"""Points operations. Each loads what it needs, plans one PointsChange and commits it;
a lost race re-plans, a cause applied before changes nothing.

- order.paid: the first report of an order earns pending points at multipliers frozen now,
  rounded once per order; later reports of the same order (another channel) earn nothing.
- order.completed: the order matures `pending_days` later (the daily job makes it available
  and only then sets the month its points expire in).
- order.refunded: the order's points are recomputed on its net amounts; the difference comes
  off pending first, then available (the order's bucket, then the oldest), then debt; matured
  spend leaves the tier window. A refund of points that already expired takes nothing. A refund
  beyond what is left of a line (or naming a line the order lacks) applies nothing and opens a
  review case `refund_exceeds_line`.
- points.activity: check-in, survey, review, at most the daily cap, within the window the
  counter keeps; available at once; once per activity id whoever it lands on.
- redemption: oldest buckets first, refused when short, once per redemption id.
Refunds and completions that arrive before their payment are kept on the order and applied
when it comes (a bad one never blocks the payment), so delivery order does not change the
outcome.

Merges and un-merges are in `points.merges`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from omnihub import retry
from omnihub.clock import business_date, iso, parse_iso
from omnihub.errors import Conflict
from omnihub.events.domain import DomainEvent
from omnihub.identity.chain import live_root, rightful_root
from omnihub.identity.model import ReviewCase
from omnihub.identity.ports import MemberStore
from omnihub.points.balances import credit, debit, merge_counts, spend_down
from omnihub.points.model import (
    MAX_ACTIVITY_DAYS,
    Account,
    LedgerEntry,
    Line,
    Marker,
    Order,
    PointsChange,
    Redemption,
)
from omnihub.points.months import add_months, month_of
from omnihub.points.ports import PointsStore
from omnihub.points.rules import PointsRules, tier_rank

FUTURE_SKEW = timedelta(minutes=10)  # a channel's clock may run this far ahead of ours
REFUND_CASE = "refund_exceeds_line"


@dataclass(frozen=True)
class Outcome:
    status: str  # applied | duplicate | recorded | refused | outside_window
    member_id: str | None = None
    points: int = 0
    cases: tuple[ReviewCase, ...] = ()  # review cases to open (upserts: safe to repeat)


def commit_with_retry(
    store: PointsStore, plan: Callable[[], tuple[Outcome, PointsChange]]
) -> Outcome:
    """Plan against fresh state and commit; re-plan on a lost race; a repeat is a duplicate."""
    return retry.commit_with_retry(
        store.commit, plan, lambda o: replace(o, status="duplicate", points=0), "the account"
    )


def entry(
    before: Account, after: Account, cause: str, at: datetime, kind: str, note: str = ""
) -> LedgerEntry:
    return LedgerEntry(
        member_id=after.member_id,
        cause=cause,
        at=iso(at),
        kind=kind,
        available_delta=after.available - before.available,
        pending_delta=after.pending - before.pending,
        debt_delta=after.debt - before.debt,
        available_after=after.available,
        pending_after=after.pending,
        debt_after=after.debt,
        note=note,
    )


def changed(before: Account, after: Account, cause: str, at: datetime) -> list[DomainEvent]:
    """points.changed (and tier.changed when the tier moved) for one account change."""
    events = [
        DomainEvent(
            type="points.changed",
            member_id=after.member_id,
            causing_event_id=cause,
            occurred_at=at,
            data={
                "available": after.available,
                "pending": after.pending,
                "debt": after.debt,
                "available_delta": after.available - before.available,
                "pending_delta": after.pending - before.pending,
                "debt_delta": after.debt - before.debt,
            },
        )
    ]
    if after.tier != before.tier:
        events.append(
            DomainEvent(
                type="tier.changed",
                member_id=after.member_id,
                causing_event_id=cause,
                occurred_at=at,
                data={"from": before.tier, "to": after.tier},
            )
        )
    return events


def record(
    change: PointsChange,
    before: Account,
    after: Account,
    cause: str,
    at: datetime,
    kind: str,
    rules: PointsRules,
    note: str = "",
) -> None:
    """Add an account change, its ledger entry and its events to the unit of work; the account
    carries the time the daily job must next look at it."""
    attention = after.next_attention(rules, at)
    after = replace(after, due_at=iso(attention) if attention else None)
    change.accounts.append((after, before.version))
    change.entries.append(entry(before, after, cause, at, kind, note))
    change.events.extend(changed(before, after, cause, at))


def upgraded(account: Account, rules: PointsRules, now: datetime) -> Account:
    """Upgrades happen at once; downgrades only at the daily review."""
    earned = rules.tier_for(account.window_spend(month_of(now), rules))
    return replace(account, tier=earned) if tier_rank(earned) > tier_rank(account.tier) else account


def live_account(store: PointsStore, member_id: str) -> Account:
    """The account points go to: a merged-away member's account names its survivor's.

    An operation that reaches an absorbed member's account before the merge does is moved with
    the rest by `absorb` (atomic, version-checked: the pointer is a version bump), so either
    order ends the same.
    """
    account = store.account(member_id)
    seen = {member_id}
    while account.merged_into and account.merged_into not in seen:
        seen.add(account.merged_into)
        account = store.account(account.merged_into)
    return account


def same_person(store: PointsStore, members: MemberStore | None, a: str, b: str) -> bool:
    """Whether two member ids are one person now (the members table knows merges that points
    may not have followed yet)."""
    if a == b or live_account(store, a).member_id == live_account(store, b).member_id:
        return True
    return members is not None and live_root(members, a)[0] == live_root(members, b)[0]


# -- orders --------------------------------------------------------------------------------------
def earn_order(
    store: PointsStore,
    member_id: str,
    channel: str,
    paid_at: datetime,
    data: Mapping[str, Any],
    rules: PointsRules,
    now: datetime,
    via: str | None = None,
    members: MemberStore | None = None,
) -> Outcome:
    """Earn an order's pending points once. Refunds held for it apply now; one that names a line
    the order lacks or exceeds a line applies nothing and opens a review case: the payment
    always earns."""
    order_id = str(data["order_id"])

    def plan() -> tuple[Outcome, PointsChange]:
        order = store.order(order_id) or Order(order_id=order_id)
        if order.paid:
            return Outcome("duplicate", order.member_id, cases=_cases(order, now)), PointsChange()
        account = live_account(store, member_id)
        if via and via in account.departed and members is not None:
            # un-merged away after this event was resolved: its identity is elsewhere now
            account = live_account(store, rightful_root(members, via, account.member_id))
        lines = {
            item["line_id"]: Line(
                line_id=item["line_id"],
                category=item["category"],
                paid_fen=item["paid_fen"],
                multiplier=str(rules.multiplier(account.tier, channel, item["category"], paid_at)),
            )
            for item in data["items"]
        }
        paid = order.next(
            member_id=account.member_id,
            via=via,
            channel=channel,
            paid_at=iso(paid_at),
            spend_month=month_of(paid_at),
            lines=lines,
            refunds={},
        )
        paid = replace(paid, credited=paid.worth())
        rejected = dict(order.rejected)
        for refund_id in sorted(order.refunds):  # held: a fixed order, whatever the arrival
            paid, reason = _apply_refund(paid, refund_id, order.refunds[refund_id])
            if reason:
                rejected[refund_id] = reason
        paid = _schedule(replace(paid, rejected=rejected), rules)
        after = account.next(pending=account.pending + paid.points)
        change = PointsChange(orders=[(paid, order.version)])
        record(change, account, after, f"earn:{order_id}", now, "earn", rules)
        return Outcome("applied", account.member_id, paid.points, _cases(paid, now)), change

    return commit_with_retry(store, plan)


def complete_order(
    store: PointsStore, order_id: str, completed_at: datetime, rules: PointsRules
) -> Outcome:
    def plan() -> tuple[Outcome, PointsChange]:
        order = store.order(order_id) or Order(order_id=order_id)
        if order.completed_at:
            return Outcome("duplicate", order.member_id), PointsChange()
        done = _schedule(order.next(completed_at=iso(completed_at)), rules)
        return Outcome("recorded", order.member_id), PointsChange(orders=[(done, order.version)])

    return commit_with_retry(store, plan)


def refund_order(
    store: PointsStore,
    order_id: str,
    refund_id: str,
    lines: Mapping[str, int],
    rules: PointsRules,
    now: datetime,
) -> Outcome:
    """Reverse what a refund takes from an order's points, once per refund id. A refund beyond
    what is left of a line (another refund id, another channel, took it already) or naming a
    line the order lacks applies nothing and opens a review case. Points that already expired
    are gone: the refund takes none of the member's other points for them."""

    def plan() -> tuple[Outcome, PointsChange]:
        order = store.order(order_id) or Order(order_id=order_id)
        if refund_id in order.refunds or refund_id in order.rejected:
            cases = _cases(order, now, only=refund_id)
            return Outcome("duplicate", order.member_id, cases=cases), PointsChange()
        if not order.paid:  # kept until the payment arrives
            held = order.next(refunds={**order.refunds, refund_id: dict(lines)})
            return Outcome("recorded"), PointsChange(orders=[(held, order.version)])
        assert order.member_id is not None
        account = live_account(store, order.member_id)
        base = order.next(member_id=account.member_id)  # an order held by a merged-away id
        refunded, reason = _apply_refund(base, refund_id, lines)
        if reason:
            refused = replace(base, rejected={**order.rejected, refund_id: reason})
            cases = _cases(refused, now, only=refund_id)
            return Outcome("refused", account.member_id, 0, cases), PointsChange(
                orders=[(refused, order.version)]
            )
        reversal = order.points - refunded.points
        note = ""
        if not order.matured:
            after = account.next(pending=account.pending - reversal)
        else:
            assert order.spend_month is not None
            spend = spend_down(
                account.spend, order.spend_month, order.net_paid_fen - refunded.net_paid_fen
            )
            if order.expired(now):  # what is left of the order's points is nothing
                after, note, reversal = account.next(spend=spend), "points expired", 0
            else:
                buckets, short = debit(account.buckets, reversal, first=order.expiry_month)
                after = account.next(buckets=buckets, debt=account.debt + short, spend=spend)
        change = PointsChange(orders=[(refunded, order.version)])
        cause = f"refund:{order_id}:{refund_id}"
        record(change, account, after, cause, now, "refund", rules, note)
        return Outcome("applied", account.member_id, -reversal), change

    return commit_with_retry(store, plan)


def mature_order(store: PointsStore, order_id: str, rules: PointsRules, now: datetime) -> Outcome:
    """Pending points of a completed order become available once its pending period is over;
    they expire at the end of the `expiry_months`-th month after that."""

    def plan() -> tuple[Outcome, PointsChange]:
        order = store.order(order_id)
        if (
            order is None
            or order.matured
            or not order.matures_at
            or parse_iso(order.matures_at) > now
        ):
            return Outcome("duplicate"), PointsChange()
        assert order.member_id
        assert order.spend_month
        expiry_month = add_months(month_of(parse_iso(order.matures_at)), rules.expiry_months)
        account = live_account(store, order.member_id)
        buckets, debt, _ = credit(account.buckets, account.debt, order.points, expiry_month)
        spend = merge_counts(account.spend, {order.spend_month: order.net_paid_fen})
        after = upgraded(
            account.next(
                pending=account.pending - order.points, buckets=buckets, debt=debt, spend=spend
            ),
            rules,
            now,
        )
        matured = order.next(matured=True, expiry_month=expiry_month, member_id=account.member_id)
        change = PointsChange(orders=[(matured, order.version)])
        record(change, account, after, f"mature:{order_id}", now, "mature", rules)
        return Outcome("applied", account.member_id, order.points), change

    return commit_with_retry(store, plan)


# -- activity and redemption ---------------------------------------------------------------------
def award_activity(
    store: PointsStore,
    member_id: str,
    activity_id: str,
    kind: str,
    occurred_at: datetime,
    rules: PointsRules,
    now: datetime,
    members: MemberStore | None = None,
) -> Outcome:
    """Award an activity once, whoever it lands on after merges, within the daily cap.

    The daily counter keeps the 31 days up to today; an activity dated before them (or more
    than a clock's skew after now) cannot be checked against its day's cap, so it is recorded
    as outside the window and awards nothing (not an error: nothing to retry).
    """
    day = business_date(occurred_at)
    first = business_date(now) - timedelta(days=MAX_ACTIVITY_DAYS - 1)
    outside = "before the window" if day < first else ""
    if occurred_at > now + FUTURE_SKEW:
        outside = "in the future"

    def attempt(key: str) -> Outcome:
        def plan() -> tuple[Outcome, PointsChange]:
            account = live_account(store, member_id)
            marker = Marker(key, account.member_id, iso(now))
            if outside:
                change = PointsChange(markers=[marker])
                note = f"outside_window: {outside}"
                change.entries.append(entry(account, account, key, now, f"activity:{kind}", note))
                return Outcome("outside_window", account.member_id), change
            today = day.isoformat()
            used = account.activity.get(today, 0)
            award = max(0, min(rules.activity_points.get(kind, 0), rules.activity_daily_cap - used))
            counted = {**account.activity, today: used + award}
            days = {d: n for d, n in counted.items() if d >= first.isoformat()}
            bucket = add_months(month_of(now), rules.expiry_months)  # available from now
            buckets, debt, _ = credit(account.buckets, account.debt, award, bucket)
            after = account.next(buckets=buckets, debt=debt, activity=days)
            change = PointsChange(markers=[marker])
            record(change, account, after, key, now, f"activity:{kind}", rules)
            return Outcome("applied", account.member_id, award), change

        return commit_with_retry(store, plan)

    key = f"activity:{activity_id}"
    outcome = attempt(key)
    if outcome.status == "duplicate":
        marker = store.marker(key)
        if marker and not same_person(store, members, marker.member_id, member_id):
            # another member's activity with the same id: this member's is keyed by its root
            root = live_root(members, member_id)[0] if members else member_id
            outcome = attempt(f"{key}@{live_account(store, root).member_id}")
    return outcome


def redeem(
    store: PointsStore,
    member_id: str,
    redemption_id: str,
    points: int,
    reward: str,
    rules: PointsRules,
    now: datetime,
    members: MemberStore | None = None,
) -> Redemption:
    """Spend points, oldest buckets first; Conflict when short; the same id answers the same,
    also after a merge (a redemption is keyed by its id alone). An id another member used is a
    Conflict."""

    def answer(done: Redemption) -> Redemption:
        if not same_person(store, members, done.member_id, member_id):
            raise Conflict(
                f"redemption_id '{redemption_id}' was used for another member",
                details=[{"field": "redemption_id"}],
            )
        return done

    done = store.redemption(redemption_id)
    if done:
        return answer(done)
    result: list[Redemption] = []

    def plan() -> tuple[Outcome, PointsChange]:
        account = live_account(store, member_id)
        if account.available < points:
            raise Conflict(
                f"the balance is {account.available} points; {points} were asked",
                details=[{"field": "points", "message": "more than the available balance"}],
            )
        buckets, _ = debit(account.buckets, points)
        after = account.next(buckets=buckets)
        root = account.member_id
        redemption = Redemption(root, redemption_id, points, reward, iso(now), after.available)
        result[:] = [redemption]
        change = PointsChange(redemptions=[redemption])
        record(change, account, after, f"redeem:{redemption_id}", now, "redeem", rules)
        return Outcome("applied", root, -points), change

    outcome = commit_with_retry(store, plan)
    if outcome.status == "duplicate":
        stored = store.redemption(redemption_id)
        assert stored is not None
        return answer(stored)
    return result[0]


# -- helpers -------------------------------------------------------------------------------------
def _apply_refund(order: Order, refund_id: str, lines: Mapping[str, int]) -> tuple[Order, str]:
    """The order with a refund applied, or unchanged with why it applies nothing: a line the
    order lacks, or more than is left of a line. The order's points become its points
    recomputed on the net amounts, never more than it held before."""
    unknown = sorted(set(lines) - set(order.lines))
    if unknown:
        return order, f"no line {', '.join(unknown)}"
    over = sorted(
        line_id
        for line_id, fen in lines.items()
        if order.lines[line_id].refunded_fen + fen > order.lines[line_id].paid_fen
    )
    if over:
        return order, f"more than is left of line {', '.join(over)}"
    new_lines = {
        line_id: replace(line, refunded_fen=line.refunded_fen + lines.get(line_id, 0))
        for line_id, line in order.lines.items()
    }
    refunded = replace(order, lines=new_lines, refunds={**order.refunds, refund_id: dict(lines)})
    return replace(refunded, credited=min(order.points, refunded.worth())), ""


def refund_case(order: Order, refund_id: str, reason: str, now: datetime) -> ReviewCase:
    """The review case of a refund that applied nothing; its id is its cause's, so
    opening it again (a redelivery) changes nothing."""
    basis = f"{REFUND_CASE}|{order.order_id}|{refund_id}"
    return ReviewCase(
        case_id="rc_" + hashlib.sha256(basis.encode()).hexdigest()[:24],
        reason=REFUND_CASE,
        member_ids=(order.member_id,) if order.member_id else (),
        identity_types=(),
        causing_event_id=f"refund:{order.order_id}:{refund_id} ({reason})",
        opened_at=iso(now),
    )


def _cases(order: Order, now: datetime, only: str | None = None) -> tuple[ReviewCase, ...]:
    return tuple(
        refund_case(order, refund_id, reason, now)
        for refund_id, reason in sorted(order.rejected.items())
        if only is None or refund_id == only
    )


def _schedule(order: Order, rules: PointsRules) -> Order:
    """A paid and completed order matures `pending_days` after completion."""
    if order.paid and order.completed_at and not order.matures_at:
        due = parse_iso(order.completed_at) + timedelta(days=rules.pending_days)
        return replace(order, matures_at=iso(due))
    return order
