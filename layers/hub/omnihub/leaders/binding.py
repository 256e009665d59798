"""Leaders and the members bound to them: registration, admin rebinding, and
what merges, un-merges and erasure do to bindings.

- leader.registered: the leader's profile, with the member their own identities resolve to (a
  member is never bound to their own leader profile). Orders that came through the link of a
  leader who had not registered yet count now.
- Only an admin rebinds the (live) member; orders paid from then on count for the new leader.
  The admin's binding keeps the seniority of the one it replaces and stays with the member it
  was made on (it came through no identity).
- member.merged / member.unmerged: each bond goes to where it belongs now and the earliest wins
  there (`placement`), whatever order the events are handled in.
- member.erased: the member's binding keeps its leader but forgets the identities that brought
  it, so a freed identity claimed later by someone else pulls nothing; a leader profile the
  member registered loses its name and community (the account and ledgers stay, by leader id).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from omnihub.clock import iso
from omnihub.errors import ConcurrentChange, Conflict, NotFound
from omnihub.identity.chain import live_root
from omnihub.identity.ports import MemberStore
from omnihub.leaders.booking import Outcome, commit_with_retry, leader_event
from omnihub.leaders.days import month_of
from omnihub.leaders.model import Binding, Leader, LeadersChange, TierSpell
from omnihub.leaders.orders import attribute_awaiting
from omnihub.leaders.placement import place_binding
from omnihub.leaders.ports import LeadersStore
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
    members: MemberStore,
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
                tier_month=month_of(occurred_at),  # a new leader's month is rookie: decided
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
        if attribute_awaiting(store, members, order_id, scheme, now).status == "applied":
            counted += 1
    return outcome, counted


def rebind(
    store: LeadersStore,
    members: MemberStore,
    member_id: str,
    leader_id: str,
    admin: str,
    now: datetime,
) -> tuple[Binding, str | None]:
    """Bind a member (its live root) to another leader; returns the binding and the previous
    leader. NotFound for an unknown leader; Conflict for the leader's own member."""
    result: list[tuple[Binding, str | None]] = []

    def plan() -> tuple[Outcome, LeadersChange]:
        leader = store.leader(leader_id)
        if leader is None:
            raise NotFound(f"no leader {leader_id}")
        member = live_root(members, member_id)[0]
        if live_root(members, leader.member_id)[0] == member:
            raise Conflict(
                "a member cannot be bound to their own leader profile",
                details=[{"field": "leader_id", "message": "the member is this leader"}],
            )
        current = store.binding(member)
        live = current if current is not None and current.moved_to is None else None
        if live is not None and live.leader_id == leader_id:
            result[:] = [(live, leader_id)]
            return Outcome("duplicate", leader_id), LeadersChange()
        at = iso(now)
        bound = Binding(
            member_id=member,
            leader_id=leader_id,
            bound_at=at,
            first_bound_at=live.first_bound_at if live is not None else at,
            by=f"admin:{admin}",
            version=current.version + 1 if current is not None else 1,
            others=live.others if live is not None else (),
        )
        previous = live.leader_id if live is not None else None
        result[:] = [(bound, previous)]
        change = LeadersChange(bindings=[(bound, current.version if current else 0)])
        change.events.append(
            leader_event(
                "leader.member_bound",
                f"rebind:{member}:{leader_id}:{at}",
                now,
                {"leader_id": leader_id, "by": "admin", "previous_leader_id": previous},
                member_id=member,
                subject=leader_id,
            )
        )
        return Outcome("applied", leader_id), change

    if commit_with_retry(store, plan).status == "applied":  # a merge may have committed since
        bound = result[0][0]
        place_binding(store, members, bound.member_id, f"rebind:{bound.member_id}", now)
    return result[0]


def follow_merge(
    store: LeadersStore, members: MemberStore, absorbed_id: str, cause: str, now: datetime
) -> Outcome:
    """The absorbed member's bonds go to the live survivor (whatever merges were handled before
    this one); the earliest binding wins. ConcurrentChange while the members table does not
    show the merge yet (the event is retried)."""
    if live_root(members, absorbed_id)[0] == absorbed_id:
        raise ConcurrentChange(f"the members table does not show {absorbed_id} merged yet")
    return place_binding(store, members, absorbed_id, cause, now)


def follow_unmerge(
    store: LeadersStore,
    members: MemberStore,
    root_id: str,
    new_member_id: str,
    cause: str,
    now: datetime,
) -> Outcome:
    """The bonds the split identities brought go to the new member; the root keeps the rest
    (the earliest of them wins, or it is unbound). Also where the root has merged since."""
    if new_member_id not in members.members([new_member_id]):
        raise ConcurrentChange(f"the members table does not show {new_member_id} yet")
    outcome = place_binding(store, members, root_id, cause, now)
    root = live_root(members, root_id)[0]
    if root != root_id:
        later = place_binding(store, members, root, cause, now)
        outcome = outcome if outcome.status == "applied" else later
    return outcome


ERASED = "(erased)"


def follow_erasure(store: LeadersStore, member_id: str) -> Outcome:
    """Clear the lineage of the erased member's binding (it keeps its leader: the ledgers that
    name the member stay whole), and the personal data of any leader profile the member
    registered (name, community); idempotent."""

    def plan() -> tuple[Outcome, LeadersChange]:
        change = LeadersChange()
        current = store.binding(member_id)
        if current is not None and any(b.via is not None for b in current.bonds()):
            others = tuple(replace(b, via=None) for b in current.others)
            change.bindings.append((current.next(via=None, others=others), current.version))
        for leader in store.leaders_of(member_id):
            if (leader.name, leader.community) != (ERASED, ERASED):
                erased = leader.next(name=ERASED, community=ERASED)
                change.leaders.append((erased, leader.version))
        if not (change.bindings or change.leaders):
            return Outcome("duplicate"), change
        leader_id = current.leader_id if change.bindings and current else None
        return Outcome("applied", leader_id or change.leaders[0][0].leader_id), change

    return commit_with_retry(store, plan)
