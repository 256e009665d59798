"""Points operations (SPEC 4.2). Each loads what it needs, plans one PointsChange and commits it;
a lost race re-plans, a cause applied before changes nothing.

- order.paid: the first report of an order earns pending points per line at multipliers frozen
  now; later reports of the same order (another channel) earn nothing.
- order.completed: the order matures `pending_days` later (the daily job makes it available).
- order.refunded: line by line, pending first, then available (the line's bucket, then the
  oldest), then debt; matured spend leaves the tier window.
- points.activity: check-in, survey, review, at most the daily cap; available at once.
- redemption: oldest buckets first, refused when short, once per redemption id.
Refunds and completions that arrive before their payment are kept on the order and applied
when it comes, so delivery order does not change the outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from omnihub import retry
from omnihub.clock import business_date, iso, parse_iso
from omnihub.errors import Conflict, InvalidInput
from omnihub.events.domain import DomainEvent
from omnihub.points.balances import credit, debit, merge_counts, spend_down
from omnihub.points.model import (
    MAX_ACTIVITY_DAYS,
    Account,
    LedgerEntry,
    Line,
    Order,
    PointsChange,
    Redemption,
)
from omnihub.points.months import add_months, month_of
from omnihub.points.ports import PointsStore
from omnihub.points.rules import PointsRules, tier_rank


@dataclass(frozen=True)
class Outcome:
    status: str  # applied | duplicate | recorded
    member_id: str | None = None
    points: int = 0


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
) -> None:
    """Add an account change, its ledger entry and its events to the unit of work; the account
    carries the time the daily job must next look at it."""
    attention = after.next_attention(rules, at)
    after = replace(after, due_at=iso(attention) if attention else None)
    change.accounts.append((after, before.version))
    change.entries.append(entry(before, after, cause, at, kind))
    change.events.extend(changed(before, after, cause, at))


def upgraded(account: Account, rules: PointsRules, now: datetime) -> Account:
    """Upgrades happen at once; downgrades only at the daily review."""
    earned = rules.tier_for(account.window_spend(month_of(now), rules))
    return replace(account, tier=earned) if tier_rank(earned) > tier_rank(account.tier) else account


def live_account(store: PointsStore, member_id: str) -> Account:
    """The account points go to: a merged-away member's account names its survivor's.

    An operation that reaches an absorbed member's account before the merge does is moved with
    the rest by `absorb` (atomic, version-checked), so either order ends the same.
    """
    account = store.account(member_id)
    seen = {member_id}
    while account.merged_into and account.merged_into not in seen:
        seen.add(account.merged_into)
        account = store.account(account.merged_into)
    return account


# -- merges --------------------------------------------------------------------------------------
def absorb(
    store: PointsStore,
    absorbed_id: str,
    survivor_id: str,
    cause: str,
    rules: PointsRules,
    now: datetime,
) -> Outcome:
    """Move an absorbed member's points, debt and tier progress to the survivor, once."""

    def plan() -> tuple[Outcome, PointsChange]:
        gone = store.account(absorbed_id)
        if gone.version == 0 or gone.merged_into:
            return Outcome("duplicate", survivor_id), PointsChange()
        survivor = store.account(survivor_id)
        buckets = merge_counts(survivor.buckets, gone.buckets)
        debt = survivor.debt + gone.debt
        settled = min(debt, sum(buckets.values()))  # one's debt is paid from the other's points
        buckets, _ = debit(buckets, settled)
        debt -= settled
        merged = survivor.next(
            pending=survivor.pending + gone.pending,
            debt=debt,
            buckets=buckets,
            spend=merge_counts(survivor.spend, gone.spend),
            activity=merge_counts(survivor.activity, gone.activity),
            tier=max(survivor.tier, gone.tier, key=tier_rank),
        )
        merged = upgraded(merged, rules, now)
        emptied = gone.next(
            pending=0, debt=0, buckets={}, spend={}, activity={}, merged_into=survivor_id
        )
        change = PointsChange()
        record(change, survivor, merged, f"{cause}:in", now, "merge_in", rules)
        change.accounts.append((replace(emptied, due_at=None), gone.version))
        change.entries.append(entry(gone, emptied, f"{cause}:out", now, "merge_out"))
        return Outcome("applied", survivor_id, gone.available + gone.pending), change

    return commit_with_retry(store, plan)


# -- orders --------------------------------------------------------------------------------------
def earn_order(
    store: PointsStore,
    member_id: str,
    channel: str,
    paid_at: datetime,
    data: Mapping[str, Any],
    rules: PointsRules,
    now: datetime,
) -> Outcome:
    order_id = str(data["order_id"])

    def plan() -> tuple[Outcome, PointsChange]:
        order = store.order(order_id) or Order(order_id=order_id)
        if order.paid:
            return Outcome("duplicate", order.member_id), PointsChange()
        account = live_account(store, member_id)
        refunded = _refunded_by_line(order)
        lines = {
            item["line_id"]: Line(
                line_id=item["line_id"],
                category=item["category"],
                paid_fen=item["paid_fen"],
                multiplier=str(rules.multiplier(account.tier, channel, item["category"], paid_at)),
                refunded_fen=min(item["paid_fen"], refunded.get(item["line_id"], 0)),
            )
            for item in data["items"]
        }
        unknown = set(refunded) - set(lines)
        if unknown:
            raise InvalidInput(
                "a refund named lines the order does not have", details=[{"field": "data.lines"}]
            )
        paid = order.next(
            member_id=account.member_id,
            channel=channel,
            paid_at=iso(paid_at),
            expiry_month=add_months(month_of(paid_at), rules.expiry_months),
            spend_month=month_of(paid_at),
            lines=lines,
        )
        paid = _schedule(paid, rules)
        after = account.next(pending=account.pending + paid.points)
        change = PointsChange(orders=[(paid, order.version)])
        record(change, account, after, f"earn:{order_id}", now, "earn", rules)
        return Outcome("applied", account.member_id, paid.points), change

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
    def plan() -> tuple[Outcome, PointsChange]:
        order = store.order(order_id) or Order(order_id=order_id)
        if refund_id in order.refunds:
            return Outcome("duplicate", order.member_id), PointsChange()
        refunds = {**order.refunds, refund_id: dict(lines)}
        if not order.paid:  # kept until the payment arrives
            held = order.next(refunds=refunds)
            return Outcome("recorded"), PointsChange(orders=[(held, order.version)])
        unknown = set(lines) - set(order.lines)
        if unknown:
            raise InvalidInput(
                "the refund names lines the order does not have",
                details=[{"field": "data.lines", "message": ", ".join(sorted(unknown))}],
            )
        new_lines = {
            line_id: replace(
                line, refunded_fen=min(line.paid_fen, line.refunded_fen + lines.get(line_id, 0))
            )
            for line_id, line in order.lines.items()
        }
        refunded = order.next(lines=new_lines, refunds=refunds)
        reversal = order.points - refunded.points
        assert order.member_id is not None
        account = live_account(store, order.member_id)
        if not order.matured:
            after = account.next(pending=account.pending - reversal)
        else:
            buckets, short = debit(account.buckets, reversal, first=order.expiry_month)
            assert order.spend_month is not None
            spend = spend_down(
                account.spend, order.spend_month, order.net_paid_fen - refunded.net_paid_fen
            )
            after = account.next(buckets=buckets, debt=account.debt + short, spend=spend)
        change = PointsChange(orders=[(refunded, order.version)])
        record(change, account, after, f"refund:{order_id}:{refund_id}", now, "refund", rules)
        return Outcome("applied", account.member_id, -reversal), change

    return commit_with_retry(store, plan)


def mature_order(store: PointsStore, order_id: str, rules: PointsRules, now: datetime) -> Outcome:
    """Pending points of a completed order become available once its pending period is over."""

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
        assert order.expiry_month
        assert order.spend_month
        account = live_account(store, order.member_id)
        buckets, debt, _ = credit(account.buckets, account.debt, order.points, order.expiry_month)
        spend = merge_counts(account.spend, {order.spend_month: order.net_paid_fen})
        after = upgraded(
            account.next(
                pending=account.pending - order.points, buckets=buckets, debt=debt, spend=spend
            ),
            rules,
            now,
        )
        change = PointsChange(orders=[(order.next(matured=True), order.version)])
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
) -> Outcome:
    day = business_date(occurred_at).isoformat()

    def plan() -> tuple[Outcome, PointsChange]:
        account = live_account(store, member_id)
        used = account.activity.get(day, 0)
        award = max(0, min(rules.activity_points.get(kind, 0), rules.activity_daily_cap - used))
        days = dict(sorted({**account.activity, day: used + award}.items())[-MAX_ACTIVITY_DAYS:])
        bucket = add_months(month_of(occurred_at), rules.expiry_months)
        buckets, debt, _ = credit(account.buckets, account.debt, award, bucket)
        after = account.next(buckets=buckets, debt=debt, activity=days)
        change = PointsChange()
        record(change, account, after, f"activity:{activity_id}", now, f"activity:{kind}", rules)
        return Outcome("applied", account.member_id, award), change

    return commit_with_retry(store, plan)


def redeem(
    store: PointsStore,
    member_id: str,
    redemption_id: str,
    points: int,
    reward: str,
    rules: PointsRules,
    now: datetime,
) -> Redemption:
    """Spend points, oldest buckets first; Conflict when short; the same id answers the same."""
    root = live_account(store, member_id).member_id
    done = store.redemption(root, redemption_id)
    if done:
        return done
    result: list[Redemption] = []

    def plan() -> tuple[Outcome, PointsChange]:
        account = live_account(store, root)
        if account.available < points:
            raise Conflict(
                f"the balance is {account.available} points; {points} were asked",
                details=[{"field": "points", "message": "more than the available balance"}],
            )
        buckets, _ = debit(account.buckets, points)
        after = account.next(buckets=buckets)
        redemption = Redemption(root, redemption_id, points, reward, iso(now), after.available)
        result[:] = [redemption]
        change = PointsChange(redemptions=[redemption])
        record(change, account, after, f"redeem:{redemption_id}", now, "redeem", rules)
        return Outcome("applied", root, -points), change

    outcome = commit_with_retry(store, plan)
    if outcome.status == "duplicate":
        stored = store.redemption(root, redemption_id)
        assert stored is not None
        return stored
    return result[0]


# -- helpers -------------------------------------------------------------------------------------
def _refunded_by_line(order: Order) -> dict[str, int]:
    """Refunds kept on an order before its payment arrived, summed by line."""
    total: dict[str, int] = {}
    for refund in order.refunds.values():
        total = merge_counts(total, refund)
    return total


def _schedule(order: Order, rules: PointsRules) -> Order:
    """A paid and completed order matures `pending_days` after completion."""
    if order.paid and order.completed_at and not order.matures_at:
        due = parse_iso(order.completed_at) + timedelta(days=rules.pending_days)
        return replace(order, matures_at=iso(due))
    return order
