"""Shared by the leaders operations: plan-and-commit with retries, and which leader-day a booking
goes into.

A booking (a completed order's entry, a reversal, a withdrawal, a returned payout) goes into the
leader's open day for the business day it happens on (Asia/Shanghai). The T+1 run settles day D
at 02:00 on D+1, two hours after the last booking for D could have been planned; a booking planned
for a day that is settled by the time it looks goes into the next open day.
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
from omnihub.leaders.days import add_days
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
    """The open leader-day a booking goes into: the first day from `earliest` that is neither
    settled nor before the last statement. A day seen for the first time is created in `change`
    (conditioned on not existing, so two first bookings race safely)."""
    day = earliest
    last_statement: str | None = None
    checked_account = False
    for _ in range(MAX_DAYS_AHEAD):
        item = store.day(leader_id, day)
        if item is not None and item.status == "open":
            return day
        if item is None:
            if not checked_account:  # once per leader-day: a new day must follow the chain
                last_statement = store.account(leader_id).last_statement
                checked_account = True
            if last_statement is None or day > last_statement:
                if all(d.day != day for d, _ in change.days):
                    opened = LeaderDay(leader_id=leader_id, day=day, version=1, opened_at=iso(now))
                    change.days.append((opened, 0))
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
