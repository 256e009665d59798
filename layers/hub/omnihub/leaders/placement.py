"""Where a member's leader binding belongs now: one move for merges, un-merges
and the writes that race them.

Each bond of a binding remembers the identity that brought it (`Bond.via`). Its home is the live
root of whoever holds that identity now, else the live root of the member it is recorded on
(`identity.chain.rightful_root`); an erased member keeps what it has. `place_binding` moves every
bond of a member's binding to its home and lets the earliest bond win there; that one move serves
member.merged (the absorbed member's bonds go to the live survivor, however many merges were
handled before), member.unmerged (the bonds the split identities brought go with them) and any
order of the two, twice or late. A write that binds a member calls it again after its commit: a
merge or an un-merge that committed between reading the member and writing closes that way.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import partial

from omnihub.identity.chain import live_root, rightful_root
from omnihub.identity.ports import MemberStore
from omnihub.leaders.booking import Outcome, commit_with_retry, leader_event
from omnihub.leaders.model import Binding, Bond, LeadersChange
from omnihub.leaders.ports import LeadersStore

MAX_HOPS = 8


def home(members: MemberStore, via: str | None, recorded_on: str) -> tuple[str, bool]:
    """Where a thing recorded on `recorded_on` and brought by `via` belongs now, and whether
    that member was erased (an erased member's things stay: a freed identity claimed by someone
    else later must not pull them)."""
    root, erased = live_root(members, recorded_on)
    if erased or via is None:
        return root, erased
    return rightful_root(members, via, recorded_on), False


def place_binding(
    store: LeadersStore, members: MemberStore, member_id: str, cause: str, now: datetime
) -> Outcome:
    """Move each bond of the member's binding to its home, then check the homes it went to the
    same way (they may have merged or split since they were read). Idempotent. The outcome
    names the leader the member's winning bond counts for where it went."""
    first = Outcome("duplicate")
    todo, hops = [member_id], 0
    while todo and hops < MAX_HOPS:
        source = todo.pop(0)
        hops += 1
        went: list[str] = []
        outcome = commit_with_retry(store, partial(_plan, store, members, source, cause, now, went))
        if outcome.status == "applied" and first.status != "applied":
            first = outcome
        todo.extend(d for d in went if d not in todo)
    return first


def _plan(
    store: LeadersStore,
    members: MemberStore,
    source: str,
    cause: str,
    now: datetime,
    went: list[str],
) -> tuple[Outcome, LeadersChange]:
    went.clear()
    current = store.binding(source)
    bonds = current.bonds() if current is not None else ()
    if current is None or not bonds:
        return Outcome("duplicate"), LeadersChange()
    homes = {bond: home(members, bond.via, source) for bond in bonds}
    leaving: dict[str, list[Bond]] = {}
    staying: list[Bond] = []
    for bond, (dest, erased) in homes.items():
        if dest == source:
            staying.append(bond)
        else:  # an erased member's bonds keep no lineage
            leaving.setdefault(dest, []).append(replace(bond, via=None) if erased else bond)
    if not leaving:
        return Outcome("duplicate", current.leader_id), LeadersChange()
    absorbed = live_root(members, source)[0] != source
    kind = "merge" if absorbed else "unmerge"
    change = LeadersChange()
    if staying:
        change.bindings.append((Binding.holding(source, staying, current), current.version))
    elif absorbed:  # say where its binding went
        winner = homes[current.bond][0]
        change.bindings.append((current.next(moved_to=winner, others=()), current.version))
    else:  # a live member whose every bond left with an un-merge: it is unbound now
        change.unbound.append((source, current.version))
    outcome = Outcome("applied", current.leader_id)
    for dest, group in leaving.items():
        kept = store.binding(dest)
        previous = kept.leader_id if kept is not None and kept.moved_to is None else None
        before = kept.bonds() if kept is not None else ()
        arrived = [replace(b, by=f"{kind}:{source}") for b in group]
        placed = Binding.holding(dest, (*before, *arrived), kept)
        change.bindings.append((placed, kept.version if kept is not None else 0))
        went.append(dest)
        if dest == homes[current.bond][0]:
            outcome = Outcome("applied", placed.leader_id)
        if placed.leader_id != previous:
            change.events.append(
                leader_event(
                    "leader.member_bound",
                    cause,
                    now,
                    {"leader_id": placed.leader_id, "by": kind, "previous_leader_id": previous},
                    member_id=dest,
                    subject=placed.leader_id,
                )
            )
    return outcome, change
