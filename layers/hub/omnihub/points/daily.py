"""The daily points job: what is due, and only what is due.

Orders whose pending period has ended mature; accounts whose next attention time has come get
their ended buckets expired (oldest first: a bucket is a month), a notice 30 days before each
month that expires (every month its own, once), and a tier review (downgrades happen only
here). Work is found through a sharded index of due times, so a run costs what is due, not what
exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from omnihub import sharding
from omnihub.clock import iso
from omnihub.events.domain import DomainEvent
from omnihub.points.ledger import (
    Outcome,
    changed,
    commit_with_retry,
    mature_order,
    record,
)
from omnihub.points.model import PointsChange
from omnihub.points.months import add_months, expiry_instant, month_of, notice_instant
from omnihub.points.ports import DueKind, PointsStore
from omnihub.points.rules import PointsRules, tier_rank

SHARDS = sharding.POINTS_DUE_SHARDS


def shard_of(key: str) -> int:
    """The due-index shard of an order or member id."""
    return sharding.shard_of(key, SHARDS)


def attend_account(
    store: PointsStore, member_id: str, rules: PointsRules, now: datetime
) -> Outcome:
    def plan() -> tuple[Outcome, PointsChange]:
        account = store.account(member_id)
        if account.version == 0 or account.merged_into:
            return Outcome("duplicate", member_id), PointsChange()
        ended = sorted(m for m in account.buckets if expiry_instant(m) <= now)
        buckets = {m: p for m, p in account.buckets.items() if m not in ended}
        first = add_months(month_of(now), -(rules.spend_window_months - 1))
        spend = {m: fen for m, fen in account.spend.items() if m >= first}
        after = account.next(buckets=buckets, spend=spend)
        earned = rules.tier_for(after.window_spend(month_of(now), rules))
        if tier_rank(earned) < tier_rank(after.tier):
            after = replace(after, tier=earned)
        change = PointsChange()
        live = sorted(m for m, p in buckets.items() if p > 0)
        noticed = [
            m
            for m in live
            if m > account.expiry_notified and notice_instant(m, rules.expiry_notice_days) <= now
        ]
        for month in noticed:  # every expiring month gets its own notice, once
            change.events.append(_expiry_notice(member_id, month, buckets[month], now))
        if noticed:
            after = replace(after, expiry_notified=noticed[-1])
        if ended:
            cause = f"expire:{member_id}:{','.join(ended)}"
            record(change, account, after, cause, now, "expire", rules)
        else:  # nothing to enter in the ledger: the review and its next due time
            attention = after.next_attention(rules, now)
            due = replace(after, due_at=iso(attention) if attention else None)
            change.accounts.append((due, account.version))
            change.events.extend(changed(account, after, f"review:{member_id}", now)[1:])
        return Outcome("applied", member_id, after.available - account.available), change

    return commit_with_retry(store, plan)


def _expiry_notice(member_id: str, month: str, points: int, now: datetime) -> DomainEvent:
    expires = expiry_instant(month)
    return DomainEvent(
        type="notification.requested",
        member_id=member_id,
        causing_event_id=f"expiry-notice:{member_id}:{month}",
        occurred_at=now,
        data={
            "purpose": "points_expiring",
            "points": points,
            "expires_at": iso(expires),
            "text": f"您有{points}积分将于{expires.date().isoformat()}零点到期，请及时使用。",
        },
    )


def run_due(
    store: PointsStore,
    kind: DueKind,
    shard: int,
    until: datetime,
    rules: PointsRules,
    *,
    after: str | None = None,
    page_size: int = 100,
    keep_going: Callable[[], bool] | None = None,
) -> tuple[int, str | None]:
    """Process one shard's due items up to `until`, page by page; returns (processed, cursor).

    `keep_going` (a callable answering whether time remains) lets the caller stop between pages
    and hand the cursor to a continuation message.
    """
    processed = 0
    cursor = after
    while True:
        ids, cursor = store.due(kind, shard, iso(until), cursor, page_size)
        for item in ids:
            if kind == "order":
                mature_order(store, item, rules, until)
            else:
                attend_account(store, item, rules, until)
            processed += 1
        if cursor is None:
            return processed, None
        if keep_going is not None and not keep_going():
            return processed, cursor
