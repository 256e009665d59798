"""What staff do to members: find them, read their file, split an identity out, erase them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from omnihub.clock import Clock, iso
from omnihub.errors import ConcurrentChange, Conflict, Gone, NotFound
from omnihub.events.domain import DomainEvent
from omnihub.identity.chain import lineage
from omnihub.identity.model import (
    Claim,
    HeldIdentity,
    IdentityChange,
    IdentityKey,
    Member,
    ReviewCase,
)
from omnihub.identity.ports import MemberStore
from omnihub.identity.resolver import MAX_ATTEMPTS, load_snapshot, review_case_id
from omnihub.identity.types import rule


def current(store: MemberStore, member_id: str) -> Member:
    """The live member behind an id: an absorbed member's id answers with its survivor."""
    seen: set[str] = set()
    wanted = member_id
    while True:
        found = store.members([wanted]).get(wanted)
        if found is None:
            raise NotFound(f"no member {member_id}")
        if found.merged_into is None or found.merged_into in seen:
            break
        seen.add(wanted)
        wanted = found.merged_into
    if found.erased_at:
        raise Gone(f"member {member_id} was erased")
    return found


def lookup(store: MemberStore, ref: IdentityKey) -> str:
    """The member holding an identity (claims always name a live root)."""
    owner = store.claims([ref]).get(ref)
    if owner is None:
        raise NotFound("no member holds this identity")
    return current(store, owner).member_id


def split_member_id(root_id: str, ref: IdentityKey) -> str:
    basis = f"unmerge|{root_id}|{ref[0]}|{ref[1]}"
    return "mbr_" + hashlib.sha256(basis.encode()).hexdigest()[:24]


def unmerge(store: MemberStore, member_id: str, ref: IdentityKey, cause: str, clock: Clock) -> str:
    """Split an identity, and the identities that came with it, into a member of its own.

    'Came with it' means: held identities of the same origin (the member they belonged to before
    a merge). An identity the member had from the start leaves alone. The two members are
    marked never to merge again automatically; a later event joining them opens a review case.
    Repeating the request answers the member the first one created.
    """
    for _ in range(MAX_ATTEMPTS):
        root = current(store, member_id)
        held = root.held(ref)
        if held is None:
            owner = store.claims([ref]).get(ref)
            split = store.members([owner]).get(owner) if owner else None
            if split is not None and split.split_from == root.member_id:
                return split.member_id
            raise NotFound("this member does not hold that identity")
        group: tuple[HeldIdentity, ...] = (held,)
        if held.origin != root.member_id:
            group = tuple(i for i in root.identities if i.origin == held.origin)
        if len(group) == len(root.identities):
            raise Conflict("the member would be left without identities; erase it instead")
        now = clock.now()
        new_id = split_member_id(root.member_id, ref)
        moved = tuple(Claim(i.type, i.key, new_id) for i in group)
        split = Member(
            member_id=new_id,
            created_at=iso(now),
            identities=tuple(replace(i, origin=new_id) for i in group),
            channels=root.channels,
            split_from=root.member_id,
            no_merge_with=frozenset({root.member_id}),
        )
        remaining = tuple(i for i in root.identities if i not in group)
        change = IdentityChange(
            create=[split],
            update=[
                (
                    root.bump(
                        identities=remaining,
                        no_merge_with=root.no_merge_with | {new_id},
                    ),
                    root.version,
                )
            ],
            move=[(claim, root.member_id) for claim in moved],
            events=[
                DomainEvent(
                    type="member.unmerged",
                    member_id=root.member_id,
                    causing_event_id=cause,
                    occurred_at=now,
                    subject=new_id,
                    data={
                        "new_member_id": new_id,
                        "identity_types": sorted(i.type for i in group),
                        "lineage": sorted(lineage(i.ref) for i in group),
                    },
                )
            ],
        )
        try:
            store.commit(change)
        except ConcurrentChange:
            continue
        return new_id
    raise ConcurrentChange("the member kept changing; try again")


ForgetEvents = Callable[[Sequence[str]], int]
"""Rewrites the event-log rows indexed by these lookup keys (EventLog.forget_identities)."""


def erase(
    store: MemberStore,
    member_id: str,
    cause: str,
    clock: Clock,
    forget_events: ForgetEvents | None = None,
) -> str | None:
    """Erase a member's personal data and free its identities (一键退会); cannot be undone.

    The member keeps its id and creation time, so the anonymised points and money ledgers that
    name it stay whole. Erasing an erased member changes nothing. The event log's rows of the
    member are rewritten first (`forget_events`, found by the identities' lookup keys, which
    the erasure itself then forgets): a crash in between is retried, and the retry still knows
    the keys. Tickets, feedback and leader records follow `member.erased`.
    """
    for _ in range(MAX_ATTEMPTS):
        try:
            root = current(store, member_id)
        except Gone:
            return None
        if forget_events is not None:
            forget_events([i.key for i in root.identities])
        now = clock.now()
        change = IdentityChange(
            update=[(root.bump(identities=(), profile={}, erased_at=iso(now)), root.version)],
            release=[Claim(i.type, i.key, root.member_id) for i in root.identities],
            events=[
                DomainEvent(
                    type="member.erased",
                    member_id=root.member_id,
                    causing_event_id=cause,
                    occurred_at=now,
                )
            ],
        )
        try:
            store.commit(change)
        except ConcurrentChange:
            continue
        return root.member_id
    raise ConcurrentChange("the member kept changing; try again")


@dataclass(frozen=True)
class Erasure:
    """What an erasure request did: the member erased, or the review case opened instead."""

    erased: str | None = None
    review_case: str | None = None


def erase_by_identities(
    store: MemberStore,
    refs: Sequence[IdentityKey],
    cause: str,
    clock: Clock,
    forget_events: ForgetEvents | None = None,
) -> Erasure:
    """Erase the one member the request's merge-capable identities resolve to.

    Attach-only identities (a device, an openid) are weak evidence: a family tablet is held by
    one member but used by several, so they never choose whom to erase. Merge-capable
    identities that lead to two members erase nobody and open `erasure_ambiguous`; a request
    whose only known identities are attach-only erases nobody and opens `erasure_unconfirmed`
    for an admin to confirm (D41); a request naming nobody known does nothing.
    """
    snapshot = load_snapshot(store, refs)
    roots: dict[bool, dict[str, None]] = {True: {}, False: {}}
    types: dict[bool, set[str]] = {True: set(), False: set()}
    for ref, owner in snapshot.claims.items():
        merges = rule(ref[0]).merges
        roots[merges][snapshot.root(owner).member_id] = None
        types[merges].add(ref[0])
    strong, weak = list(roots[True]), list(roots[False])
    if len(strong) == 1:
        return Erasure(erased=erase(store, strong[0], cause, clock, forget_events))
    if strong:
        reason, member_ids, case_types = "erasure_ambiguous", strong, types[True]
    elif weak:
        reason, member_ids, case_types = "erasure_unconfirmed", weak, types[False]
    else:
        return Erasure()
    case = ReviewCase(
        case_id=review_case_id(reason, cause, member_ids, sorted(case_types)),
        reason=reason,
        member_ids=tuple(sorted(member_ids)),
        identity_types=tuple(sorted(case_types)),
        causing_event_id=cause,
        opened_at=iso(clock.now()),
    )
    store.commit(IdentityChange(review_cases=[case]))
    return Erasure(review_case=case.case_id)
