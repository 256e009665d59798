"""Leaders and the members bound to them (SPEC 4.5): registration, admin rebinding, merges.

- leader.registered: the leader's profile, with the member their own identities resolve to (a
  member is never bound to their own leader profile). Orders that came through the link of a
  leader who had not registered yet count now.
- Only an admin rebinds; orders paid from then on count for the new leader.
- member.merged: the survivor keeps the earliest binding of the two (by first binding time).
"""

from __future__ import annotations

from datetime import datetime

from omnihub.clock import iso
from omnihub.errors import Conflict, NotFound
from omnihub.leaders.booking import Outcome, commit_with_retry, leader_event
from omnihub.leaders.model import Binding, Leader, LeadersChange, TierSpell
from omnihub.leaders.orders import attribute_awaiting
from omnihub.leaders.ports import LeadersStore, MemberRoot
from omnihub.leaders.scheme import CommissionScheme


def register_leader(
    store: LeadersStore,
    leader_id: str,
    name: str,
    community: str,
    member_id: str,
    occurred_at: datetime,
    scheme: CommissionScheme,
    now: datetime,
    root_of: MemberRoot,
) -> tuple[Outcome, int]:
    """Create (or, for a newer report, rename) the leader; then count the orders that waited.
    Returns the outcome and how many waiting orders were counted."""
    at = iso(occurred_at)

    def plan() -> tuple[Outcome, LeadersChange]:
        leader = store.leader(leader_id)
        change = LeadersChange()
        if leader is None:
            created = Leader(
                leader_id=leader_id,
                name=name,
                community=community,
                member_id=member_id,
                registered_at=at,
                updated_at=at,
                version=1,
                tiers=(TierSpell(since=at, tier="rookie"),),
            )
            change.leaders.append((created, 0))
            return Outcome("applied", leader_id), change
        if at > leader.updated_at and (name, community) != (leader.name, leader.community):
            renamed = leader.next(name=name, community=community, updated_at=at)
            change.leaders.append((renamed, leader.version))
            return Outcome("applied", leader_id), change
        return Outcome("duplicate", leader_id), change

    outcome = commit_with_retry(store, plan)
    counted = 0
    for order_id in store.awaiting_orders(leader_id):
        if attribute_awaiting(store, order_id, scheme, now, root_of).status == "applied":
            counted += 1
    return outcome, counted


def rebind(
    store: LeadersStore,
    member_id: str,
    leader_id: str,
    admin: str,
    now: datetime,
    root_of: MemberRoot,
) -> tuple[Binding, str | None]:
    """Bind a (live) member to another leader; returns the binding and the previous leader.
    NotFound for an unknown leader; Conflict for the leader's own member."""
    result: list[tuple[Binding, str | None]] = []

    def plan() -> tuple[Outcome, LeadersChange]:
        leader = store.leader(leader_id)
        if leader is None:
            raise NotFound(f"no leader {leader_id}")
        if root_of(leader.member_id) == member_id:
            raise Conflict(
                "a member cannot be bound to their own leader profile",
                details=[{"field": "leader_id", "message": "the member is this leader"}],
            )
        current = store.binding(member_id)
        live = current if current is not None and current.moved_to is None else None
        if live is not None and live.leader_id == leader_id:
            result[:] = [(live, leader_id)]
            return Outcome("duplicate", leader_id), LeadersChange()
        at = iso(now)
        if current is None:
            bound = Binding(member_id, leader_id, at, at, f"admin:{admin}", version=1)
        else:
            first = live.first_bound_at if live is not None else at
            bound = current.next(
                leader_id=leader_id,
                bound_at=at,
                first_bound_at=first,
                by=f"admin:{admin}",
                moved_to=None,
            )
        previous = live.leader_id if live is not None else None
        result[:] = [(bound, previous)]
        change = LeadersChange(bindings=[(bound, current.version if current else 0)])
        change.events.append(
            leader_event(
                "leader.member_bound",
                f"rebind:{member_id}:{leader_id}:{at}",
                now,
                {"leader_id": leader_id, "by": "admin", "previous_leader_id": previous},
                member_id=member_id,
                subject=leader_id,
            )
        )
        return Outcome("applied", leader_id), change

    commit_with_retry(store, plan)
    return result[0]


def follow_merge(
    store: LeadersStore, absorbed_id: str, survivor_id: str, cause: str, now: datetime
) -> Outcome:
    """The absorbed member's binding moves to the survivor; the earliest binding wins."""

    def plan() -> tuple[Outcome, LeadersChange]:
        gone = store.binding(absorbed_id)
        if gone is None or gone.moved_to is not None:
            return Outcome("duplicate"), LeadersChange()
        change = LeadersChange(bindings=[(gone.next(moved_to=survivor_id), gone.version)])
        kept = store.binding(survivor_id)
        live = kept if kept is not None and kept.moved_to is None else None
        if live is not None and (live.first_bound_at, live.leader_id) <= (
            gone.first_bound_at,
            gone.leader_id,
        ):
            return Outcome("applied", live.leader_id), change  # the survivor's is earlier
        moved = dict(
            leader_id=gone.leader_id,
            bound_at=gone.bound_at,
            first_bound_at=gone.first_bound_at,
            by=f"merge:{absorbed_id}",
        )
        if kept is None:
            change.bindings.append((Binding(member_id=survivor_id, version=1, **moved), 0))
        else:
            change.bindings.append((kept.next(moved_to=None, **moved), kept.version))
        change.events.append(
            leader_event(
                "leader.member_bound",
                cause,
                now,
                {
                    "leader_id": gone.leader_id,
                    "by": "merge",
                    "previous_leader_id": live.leader_id if live is not None else None,
                },
                member_id=survivor_id,
                subject=gone.leader_id,
            )
        )
        return Outcome("applied", gone.leader_id), change

    return commit_with_retry(store, plan)
