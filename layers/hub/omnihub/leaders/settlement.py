"""The T+1 run: each leader-day settled once, into the available balance, with its
statement.

The run of day D first marks itself started on its shard (no leader-day of the shard can be
created for D from then on), then, per leader-day, closes the day to bookings (open -> closing, one
conditional write) before it reads it: a booking planned before and committed after fails its
open-day condition and goes to the next open day, so what the run reads is all the day will hold.
The day's earnings are derived by reading the day's entries (one item per completed order, booked
as orders complete); nothing sums per order during the day, so a star leader's busy day writes no
hot item. The statement, the account and the pending shards change in one transaction conditioned
on the day's and the account's versions: a movement that lands on the account while the run reads
makes it read again, a rerun finds the day settled and pays nothing, and a run that died half way
resumes with the leaders it had not reached (a day left closing is settled by the rerun).

Statements chain: a day's opening is the previous statement's closing, so an earlier day of the
leader still open (its run failed) is settled first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from omnihub.clock import iso
from omnihub.errors import ConcurrentChange
from omnihub.leaders.booking import Outcome, commit_with_retry, leader_event
from omnihub.leaders.days import PENDING_SHARDS, add_days, month_of_day, shard_of
from omnihub.leaders.model import LeadersChange, Statement
from omnihub.leaders.ports import LeadersStore

FIRST_DAY = "0001-01-01"


def settle_leader_day(store: LeadersStore, leader_id: str, day: str, now: datetime) -> Outcome:
    """Settle one leader-day (and any earlier day of the leader left open); idempotent."""
    account = store.account(leader_id)
    if account.last_statement is not None and account.last_statement >= day:
        item = store.day(leader_id, day)
        if item is not None and item.status != "settled":
            raise ConcurrentChange(f"{leader_id} {day} is open behind its last statement")
        return Outcome("duplicate", leader_id)
    fresh = [account]  # the first plan reuses this read unless an earlier day changes it
    if account.last_statement != add_days(day, -1):
        first = add_days(account.last_statement, 1) if account.last_statement else FIRST_DAY
        for earlier in store.days(leader_id, first, add_days(day, -1)):
            if earlier.status != "settled":
                settle_leader_day(store, leader_id, earlier.day, now)
                fresh.clear()
    closed = store.close_day(leader_id, day)  # no booking lands in it from here on
    if closed is None or closed.status == "settled":
        return Outcome("duplicate", leader_id)
    read = [closed]  # the first plan reuses what the close answered

    def plan() -> tuple[Outcome, LeadersChange]:
        item = read.pop() if read else store.day(leader_id, day)
        if item is None or item.status == "settled":
            return Outcome("duplicate", leader_id), LeadersChange()
        account = fresh.pop() if fresh else store.account(leader_id)
        entries, moves = store.day_contents(leader_id, day)
        earned = sum(e.commission_fen for e in entries)
        orders = [e for e in entries if not e.adjustment]  # re-pricings are earnings, not orders
        reversed_fen = sum(m.amount_fen for m in moves if m.kind == "reversal")
        withdrawals = sum(m.amount_fen for m in moves if m.kind == "withdrawal")
        returned = sum(m.amount_fen for m in moves if m.kind == "return")
        withdrawn = withdrawals - returned
        opening = account.closing_fen
        closing = opening + earned - reversed_fen - withdrawn
        statement = Statement(
            date=day,
            opening_fen=opening,
            earned_fen=earned,
            reversed_fen=reversed_fen,
            withdrawn_fen=withdrawn,
            closing_fen=closing,
            withdrawals_fen=withdrawals,
            returned_fen=returned,
            orders=len(orders),
            lines=sum(len(e.lines) for e in orders),
            sales_fen=sum(e.sales_fen for e in orders),
            refunded_sales_fen=sum(m.sales_fen for m in moves if m.kind == "reversal"),
            returning_orders=sum(1 for e in orders if e.returning),
            settled_at=iso(now),
        )
        change = LeadersChange()
        change.days.append((item.next(status="settled", statement=statement), item.version))
        change.accounts.append(
            (
                account.next(
                    available_fen=account.available_fen + earned,
                    closing_fen=closing,
                    last_statement=day,
                ),
                account.version,
            )
        )
        for entry in entries:
            change.add_pending(
                leader_id, shard_of(entry.order_id, PENDING_SHARDS), -entry.commission_fen
            )
        change.month_active.append((leader_id, month_of_day(day)))
        change.events.append(
            leader_event(
                "commission.settled",
                f"commission-settlement:{day}",
                now,
                {
                    "leader_id": leader_id,
                    "date": day,
                    "opening_fen": opening,
                    "earned_fen": earned,
                    "reversed_fen": reversed_fen,
                    "withdrawn_fen": withdrawn,
                    "closing_fen": closing,
                },
                subject=leader_id,
            )
        )
        return Outcome("applied", leader_id, earned), change

    return commit_with_retry(store, plan)


def run_settlement(
    store: LeadersStore,
    day: str,
    shard: int,
    now: datetime,
    *,
    after: str | None = None,
    page_size: int = 50,
    keep_going: Callable[[], bool] | None = None,
) -> tuple[int, str | None]:
    """Settle one shard of the leaders active on `day`, page by page; returns (settled, cursor).

    The shard's run is marked started first (again on a rerun: idempotent), so no leader-day of
    the shard is created for `day` behind it. `keep_going` (answering whether time remains) lets
    the caller stop between pages and hand the cursor to a continuation message.
    """
    if after is None:
        store.start_run(day, shard, iso(now))
    settled = 0
    cursor = after
    while True:
        leaders, cursor = store.open_leaders(day, shard, cursor, page_size)
        for leader_id in leaders:
            if settle_leader_day(store, leader_id, day, now).status == "applied":
                settled += 1
        if cursor is None:
            return settled, None
        if keep_going is not None and not keep_going():
            return settled, cursor
