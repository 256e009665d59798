"""Points follow merges and un-merges: "move each thing to where it belongs".

`absorb` moves an absorbed account to the live survivor and leaves a pointer, so a late
operation on the absorbed id follows it; orders carry the identity that brought them (`via`)
and move, with their points and tier spend, to their rightful member, so a merge handled after
an un-merge never drags them back. Erasure makes orders forget their lineage.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from omnihub.identity.chain import live_root, rightful_root
from omnihub.identity.ports import MemberStore
from omnihub.points.balances import credit, debit, merge_counts, spend_down
from omnihub.points.ledger import (
    Outcome,
    commit_with_retry,
    entry,
    live_account,
    record,
    upgraded,
)
from omnihub.points.model import Account, PointsChange
from omnihub.points.months import add_months
from omnihub.points.ports import PointsStore
from omnihub.points.rules import PointsRules, tier_rank

MOVE_PAGE = 50  # orders moved per page when a member's orders follow a merge


def absorb(
    store: PointsStore,
    absorbed_id: str,
    survivor_id: str,
    cause: str,
    rules: PointsRules,
    now: datetime,
    members: MemberStore | None = None,
) -> Outcome:
    """Move an absorbed member's points, debt and tier progress to where the survivor lives now
    (merges reach points late, twice or out of order: A<-B handled after C<-A), once; then move
    each of its orders to where it belongs (an un-merge may have taken its identity away).

    An absorbed member with no account still gets its pointer, so a late earn, refund or
    activity on its id follows it (and an operation racing the merge fails its version check).
    """
    had_account: list[bool] = []

    def plan() -> tuple[Outcome, PointsChange]:
        gone = store.account(absorbed_id)
        had_account[:] = [gone.version > 0]
        if gone.merged_into:
            return Outcome("duplicate", gone.merged_into), PointsChange()
        if gone.version == 0:  # nothing to move: the pointer alone
            pointer = Account(member_id=absorbed_id, version=1, merged_into=survivor_id)
            return Outcome("applied", survivor_id), PointsChange(accounts=[(pointer, 0)])
        live = live_root(members, survivor_id)[0] if members is not None else survivor_id
        survivor = live_account(store, live)
        if survivor.member_id == absorbed_id:
            return Outcome("refused", absorbed_id), PointsChange()  # a cycle: nothing to move
        buckets = merge_counts(survivor.buckets, gone.buckets)
        debt = survivor.debt + gone.debt
        settled = min(debt, sum(buckets.values()))  # one's debt is paid from the other's points
        buckets, _ = debit(buckets, settled)
        debt -= settled
        # months noticed on both sides only: a month one side was never told about gets its notice
        noticed = [a.expiry_notified for a in (survivor, gone) if a.buckets]
        merged = survivor.next(
            pending=survivor.pending + gone.pending,
            debt=debt,
            buckets=buckets,
            spend=merge_counts(survivor.spend, gone.spend),
            activity=merge_counts(survivor.activity, gone.activity),
            tier=max(survivor.tier, gone.tier, key=tier_rank),
            expiry_notified=min(noticed) if noticed else "",
            departed={**gone.departed, **survivor.departed},
        )
        merged = upgraded(merged, rules, now)
        emptied = gone.next(
            pending=0,
            debt=0,
            buckets={},
            spend={},
            activity={},
            merged_into=survivor.member_id,
        )
        change = PointsChange()
        record(change, survivor, merged, f"{cause}:in", now, "merge_in", rules)
        change.accounts.append((replace(emptied, due_at=None), gone.version))
        change.entries.append(entry(gone, emptied, f"{cause}:out", now, "merge_out"))
        return Outcome("applied", survivor.member_id, gone.available + gone.pending), change

    outcome = commit_with_retry(store, plan)
    if had_account and had_account[0]:  # an id that never had an account holds no orders
        relocate_orders(store, members, absorbed_id, rules, now)
    return outcome


def follow_unmerge(
    store: PointsStore,
    members: MemberStore,
    member_id: str,
    new_member_id: str,
    lineages: Collection[str],
    rules: PointsRules,
    now: datetime,
) -> int:
    """`member.unmerged`: the orders that came through the identities that left (and their
    pending and available points and tier spend) move to where those identities are now.

    The account first records the lineages that left (a version bump), so an earn resolved on
    this member before the un-merge committed re-plans and goes to the new member. Returns the
    orders moved. Safe to repeat, and in any order with merges: each order goes to its rightful
    member, which a late merge does not change.
    """
    left = frozenset(lineages)

    def plan() -> tuple[Outcome, PointsChange]:
        account = live_account(store, member_id)
        missing = {lin: new_member_id for lin in left if lin not in account.departed}
        if not missing:
            return Outcome("duplicate", account.member_id), PointsChange()
        marked = account.next(departed={**account.departed, **missing})
        return Outcome("recorded", account.member_id), PointsChange(
            accounts=[(marked, account.version)]
        )

    holder = commit_with_retry(store, plan).member_id or member_id
    moved = relocate_orders(store, members, holder, rules, now, only=left)
    if holder != member_id:
        moved += relocate_orders(store, members, member_id, rules, now, only=left)
    return moved


def forget_lineage(store: PointsStore, member_id: str) -> int:
    """`member.erased`: the member's orders forget the identity that brought them, so a freed
    identity claimed later by someone else never pulls this history along."""
    cleared = 0
    after: str | None = None
    while True:
        orders, after = store.orders_of(member_id, MOVE_PAGE, after)
        for found in orders:
            if found.via is None:
                continue

            def plan(order_id: str = found.order_id) -> tuple[Outcome, PointsChange]:
                order = store.order(order_id)
                if order is None or order.via is None:
                    return Outcome("duplicate"), PointsChange()
                forgot = order.next(via=None)
                return Outcome("applied", order.member_id), PointsChange(
                    orders=[(forgot, order.version)]
                )

            cleared += commit_with_retry(store, plan).status == "applied"
        if after is None:
            return cleared


def relocate_orders(
    store: PointsStore,
    members: MemberStore | None,
    member_id: str,
    rules: PointsRules,
    now: datetime,
    only: Collection[str] | None = None,
) -> int:
    """Move each order held by `member_id` (those brought by `only`'s lineages, or all) to
    where it belongs now; returns how many moved."""
    moved = 0
    places: dict[tuple[str | None, str], tuple[str, bool]] = {}
    after: str | None = None
    while True:
        orders, after = store.orders_of(member_id, MOVE_PAGE, after)
        for order in orders:
            if only is not None and order.via not in only:
                continue
            key = (order.via, order.member_id or member_id)
            if key not in places:
                places[key] = _belongs(store, members, *key)
            where, erased = places[key]
            done = move_order(store, order.order_id, where, rules, now, forget_via=erased)
            moved += done.status == "applied"
        if after is None:
            return moved


def _belongs(
    store: PointsStore, members: MemberStore | None, via: str | None, recorded_on: str
) -> tuple[str, bool]:
    """Where an order brought by `via` and held by `recorded_on` belongs, and whether that is
    an erased member (whose orders forget their lineage)."""
    if members is None:
        return live_account(store, recorded_on).member_id, False
    root, erased = live_root(members, recorded_on)
    if erased or via is None:
        return root, erased
    return rightful_root(members, via, recorded_on), False


def move_order(
    store: PointsStore,
    order_id: str,
    to_member: str,
    rules: PointsRules,
    now: datetime,
    forget_via: bool = False,
) -> Outcome:
    """Move one order, with its points (pending, or available in its bucket unless they
    expired) and its tier spend, to `to_member`'s live account. Points the holder already spent
    become the holder's debt (a reversal larger than the balance); the receiver's
    tier may rise at once, the holder's falls at the daily review. Idempotent."""

    def plan() -> tuple[Outcome, PointsChange]:
        order = store.order(order_id)
        if order is None or not order.paid or order.member_id is None:
            return Outcome("duplicate"), PointsChange()
        src = live_account(store, order.member_id)
        dst = live_account(store, to_member)
        via = None if forget_via else order.via
        moved = order.next(member_id=dst.member_id, via=via)
        if src.member_id == dst.member_id:  # the points are there already: re-point the order
            if (order.member_id, order.via) == (dst.member_id, via):
                return Outcome("duplicate", dst.member_id), PointsChange()
            return Outcome("recorded", dst.member_id), PointsChange(orders=[(moved, order.version)])
        if not order.matured:
            out = src.next(pending=src.pending - order.points)
            into = dst.next(pending=dst.pending + order.points)
        else:
            assert order.expiry_month
            assert order.spend_month
            points = 0 if order.expired(now) else order.points
            buckets, short = debit(src.buckets, points, first=order.expiry_month)
            out = src.next(
                buckets=buckets,
                debt=src.debt + short,
                spend=spend_down(src.spend, order.spend_month, order.net_paid_fen),
            )
            gained, debt, _ = credit(dst.buckets, dst.debt, points, order.expiry_month)
            spend = dict(dst.spend)
            if order.net_paid_fen:
                spend = merge_counts(spend, {order.spend_month: order.net_paid_fen})
            into = upgraded(
                dst.next(
                    buckets=gained,
                    debt=debt,
                    spend=spend,
                    expiry_notified=_noticed_before(dst, order.expiry_month),
                ),
                rules,
                now,
            )
        change = PointsChange(orders=[(moved, order.version)])
        cause = f"move:{order_id}:{order.version}"
        record(change, src, out, f"{cause}:out", now, "move_out", rules, note=order_id)
        record(change, dst, into, f"{cause}:in", now, "move_in", rules, note=order_id)
        return Outcome("applied", dst.member_id, order.points), change

    return commit_with_retry(store, plan)


def _noticed_before(account: Account, bucket: str) -> str:
    """The `expiry_notified` an account may keep when points of `bucket` join it: a bucket at
    or below it would never get its own notice."""
    if account.expiry_notified and bucket <= account.expiry_notified:
        return add_months(bucket, -1)
    return account.expiry_notified
