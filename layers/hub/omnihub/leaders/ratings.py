"""Star ratings from members bound to a leader: the NPS input of the monthly tier review.

A rating counts for the month it was given while that month's review has not started on the
leader's shard, else for the first month after it still open (as a late booking goes to the first
open day): the rating's transaction is conditioned on the review's start marker, so a rating
planned before the review and committed after it plans again. Once per cause, whichever month."""

from __future__ import annotations

from datetime import datetime

from omnihub.clock import iso
from omnihub.identity.chain import rightful_root
from omnihub.identity.ports import MemberStore
from omnihub.leaders.booking import Outcome, commit_with_retry
from omnihub.leaders.days import ACTIVE_SHARDS, month_of, next_month, shard_of
from omnihub.leaders.model import LeadersChange, Rating
from omnihub.leaders.ports import LeadersStore

MAX_MONTHS_LATE = 24


def record_rating(
    store: LeadersStore,
    members: MemberStore,
    member_id: str,
    via: str | None,
    cause: str,
    rating: int,
    occurred_at: datetime,
) -> Outcome:
    """Keep the rating for the member's leader in the month it was given (once per cause); the
    rater is where the rating's identity belongs now (it may have merged since it resolved)."""

    def plan() -> tuple[Outcome, LeadersChange]:
        binding = store.binding(rightful_root(members, via, member_id))
        if binding is None or binding.moved_to is not None:
            return Outcome("no_leader"), LeadersChange()
        leader_id, shard = binding.leader_id, shard_of(binding.leader_id, ACTIVE_SHARDS)
        month = month_of(occurred_at)
        for _ in range(MAX_MONTHS_LATE):
            if store.rating(leader_id, month, cause) is not None:
                return Outcome("duplicate", leader_id), LeadersChange()
            if not store.run_started(month, shard):
                break
            month = next_month(month)
        kept = Rating(
            leader_id=binding.leader_id,
            month=month,
            cause=cause,
            rating=rating,
            at=iso(occurred_at),
        )
        return Outcome("applied", binding.leader_id), LeadersChange(ratings=[kept])

    return commit_with_retry(store, plan)
