"""Star ratings from members bound to a leader: the NPS input of the monthly tier review."""

from __future__ import annotations

from datetime import datetime

from omnihub.clock import iso
from omnihub.leaders.booking import Outcome, commit_with_retry
from omnihub.leaders.days import month_of
from omnihub.leaders.model import LeadersChange, Rating
from omnihub.leaders.ports import LeadersStore


def record_rating(
    store: LeadersStore, member_id: str, cause: str, rating: int, occurred_at: datetime
) -> Outcome:
    """Keep the rating for the member's leader in the month it was given (once per cause)."""

    def plan() -> tuple[Outcome, LeadersChange]:
        binding = store.binding(member_id)
        if binding is None or binding.moved_to is not None:
            return Outcome("no_leader"), LeadersChange()
        kept = Rating(
            leader_id=binding.leader_id,
            month=month_of(occurred_at),
            cause=cause,
            rating=rating,
            at=iso(occurred_at),
        )
        return Outcome("applied", binding.leader_id), LeadersChange(ratings=[kept])

    return commit_with_retry(store, plan)
