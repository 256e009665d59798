"""Shared by the leaders operations: plan-and-commit with retries, and which leader-day a booking
goes into.

A booking (a completed order's entry, a reversal, a withdrawal, a returned payout) goes into the
leader's day for the business day it happened on (Asia/Shanghai: an order completed at 23:59:50
and processed at 00:00:10 still goes into the day it completed on) while that day is open, else
into the first open day after it. Open is enforced in the booking's own transaction,
not by the time left before 02:00: it checks that the leader-day it books into is still open, or
creates that day conditioned on the day's T+1 run not having started (and on the leader's
account, whose last statement the new day must follow). A day is created only before its run is
due (02:00 the next day): one opened later would never be visited by a run. The run closes each
leader-day before it reads it, so a booking planned before the run and committed after it fails
its condition and is planned again, into the next open day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from omnihub import retry
from omnihub.clock import iso
from omnihub.errors import ConcurrentChange
from omnihub.events.domain import DomainEvent
from omnihub.leaders.days import ACTIVE_SHARDS, add_days, month_of_day, run_due, shard_of
from omnihub.leaders.model import LeaderDay, LeadersChange
from omnihub.leaders.ports import LeadersStore

MAX_DAYS_AHEAD = 400


@dataclass(frozen=True)
class Outcome:
    """What an operation did: applied | duplicate | recorded | awaiting_leader | no_leader |
    self_binding (and the leader and fen it concerned, for logs and metrics)."""

    status: str
    leader_id: str | None = None
    fen: int = 0


def commit_with_retry(
    store: LeadersStore, plan: Callable[[], tuple[Outcome, LeadersChange]]
) -> Outcome:
    """Plan against fresh state and commit; re-plan on a lost race; a repeat is a duplicate."""
    return retry.commit_with_retry(
        store.commit, plan, lambda o: replace(o, status="duplicate", fen=0), "the leader's items"
    )


def book_day(
    store: LeadersStore, leader_id: str, earliest: str, change: LeadersChange, now: datetime
) -> str:
    """The leader-day a booking goes into: the first day from `earliest` still open to it. An
    open leader-day is checked to be still open when `change` commits; a day that has none yet is
    created in `change` when it follows the last statement, its run is not due yet and has not
    started (the store conditions the creation on the account and the run's marker, so two first
    bookings and a starting run race safely; a day whose run is due is never opened late, since
    no run would come back for it)."""
    shard = shard_of(leader_id, ACTIVE_SHARDS)
    day = earliest
    account = None
    for _ in range(MAX_DAYS_AHEAD):
        if any((d.leader_id, d.day, d.status) == (leader_id, day, "open") for d, _ in change.days):
            return day  # this change writes it open already
        item = store.day(leader_id, day)
        if item is not None and item.status == "open":
            change.require_open(leader_id, day)
            return day
        if item is None:
            if account is None:  # once per booking: a new day must follow the chain
                account = store.account(leader_id)
            last = account.last_statement
            if last is not None and day <= last:
                day = add_days(last, 1)  # every day up to the last statement is closed
                continue
            if now < run_due(day) and not store.run_started(day, shard):
                opened = LeaderDay(leader_id=leader_id, day=day, version=1, opened_at=iso(now))
                change.days.append((opened, 0))
                change.require_account(leader_id, account.version)
                # the month's review finds the leader even if the day's run is late
                change.month_active.append((leader_id, month_of_day(day)))
                return day
        day = add_days(day, 1)
    raise ConcurrentChange(f"no open day for leader {leader_id} after {earliest}")


def leader_event(
    kind: str,
    cause: str,
    at: datetime,
    data: dict[str, Any],
    *,
    member_id: str | None = None,
    subject: str = "",
) -> DomainEvent:
    """A domain event of the leaders context (source omnihub.leaders)."""
    return DomainEvent(
        type=kind,
        member_id=member_id,
        causing_event_id=cause,
        occurred_at=at,
        data=data,
        subject=subject,
    )
