"""What staff do to members: find them, read their file, split an identity out, erase them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace

from omnihub.clock import Clock, iso
from omnihub.errors import ConcurrentChange, Conflict, Gone, NotFound
from omnihub.events.domain import DomainEvent
from omnihub.identity.chain import lineage
from omnihub.identity.model import Claim, HeldIdentity, IdentityChange, IdentityKey, Member
from omnihub.identity.ports import MemberStore
from omnihub.identity.resolver import MAX_ATTEMPTS, load_snapshot


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


def erase(store: MemberStore, member_id: str, cause: str, clock: Clock) -> str | None:
    """Erase a member's personal data and free its identities (一键退会); cannot be undone.

    The member keeps its id and creation time, so the anonymised points and money ledgers that
    name it stay whole. Erasing an erased member changes nothing.
    """
    for _ in range(MAX_ATTEMPTS):
        try:
            root = current(store, member_id)
        except Gone:
            return None
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


def erase_by_identities(
    store: MemberStore, refs: Sequence[IdentityKey], cause: str, clock: Clock
) -> list[str]:
    """Erase whoever the identities lead to (an erasure request from a channel)."""
    snapshot = load_snapshot(store, refs)
    roots = sorted({snapshot.root(owner).member_id for owner in snapshot.claims.values()})
    return [m for m in (erase(store, root, cause, clock) for root in roots) if m]
