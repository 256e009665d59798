"""Resolution: the identities of an event become one member.

`plan` is pure: given what the store holds for the event's identities, it decides whether to
create a member, merge members, attach identities or open review cases, and returns the one
atomic change that does it. `resolve` loads, plans and commits, and when a concurrent writer got
there first (a claim already taken, a member's version moved) it loads again and re-plans, so
two events racing for one new phone end with one member.

Rules:
- merge-capable identities (phone, unionid, ...) decide which members are the same person; when
  they point at several, all merge into the earliest created (unless a limit or an admin's
  un-merge forbids it: then a review case, and no merge);
- attach-only identities (openid, device id, ...) never merge; they attach to the member the
  merge-capable identities find, and find a member only for an event that carries no usable
  merge-capable identity: a new phone with a known device is a new member (the device stays
  with its holder: a family tablet must not glue two people); when they find two
  members, the event adds nothing to either (no new identity, no profile) and counts for the
  earliest (decision D42);
- placeholders never match anyone; a new identity past its type's limit opens a review case;
- profile fields: the newest value wins, by the time the channel says it happened.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from omnihub.clock import Clock, iso
from omnihub.errors import ConcurrentChange
from omnihub.events.domain import DomainEvent
from omnihub.events.envelope import Envelope, ProtectedField, ProtectedIdentity
from omnihub.identity.chain import lineage
from omnihub.identity.ids import MemberIds
from omnihub.identity.model import (
    Claim,
    HeldIdentity,
    IdentityChange,
    IdentityKey,
    Member,
    ProfileValue,
    ReviewCase,
)
from omnihub.identity.ports import MemberStore
from omnihub.identity.types import rule

MAX_ATTEMPTS = 12


@dataclass(frozen=True)
class ResolveRequest:
    causing_event_id: str
    channel: str
    occurred_at: datetime
    identities: Sequence[ProtectedIdentity]
    profile: Mapping[str, ProtectedField] = field(default_factory=dict)


@dataclass(frozen=True)
class Resolution:
    """Who the event is about (None when it named nobody usable) and what resolving did."""

    member_id: str | None
    created: bool = False
    merged: tuple[str, ...] = ()
    attached: tuple[str, ...] = ()
    review_cases: tuple[str, ...] = ()
    placeholders: int = 0
    via: str | None = None
    """The lineage of the identity that brought the event (see `identity.chain`). Capabilities
    record it on what the event creates, so an un-merge can take it back out."""


@dataclass(frozen=True)
class Snapshot:
    claims: Mapping[IdentityKey, str]
    members: Mapping[str, Member]

    def root(self, member_id: str) -> Member:
        member = self.members[member_id]
        seen = {member_id}
        while member.merged_into and member.merged_into in self.members:
            member = self.members[member.merged_into]
            if member.member_id in seen:
                break
            seen.add(member.member_id)
        return member


def request_for(envelope: Envelope) -> ResolveRequest:
    """What a channel event asks of resolution (every consumer resolves the same way)."""
    return ResolveRequest(
        causing_event_id=envelope.causing_event_id,
        channel=envelope.channel,
        occurred_at=envelope.occurred_at,
        identities=envelope.member.identities,
        profile=envelope.member.profile,
    )


def new_member_id(cause: str, ids: MemberIds) -> str:
    """A member id derived from what created it, so a replay creates the same member, and keyed,
    so nobody who knows the event id can guess it (`identity.ids`)."""
    return ids.new(cause)


def review_case_id(reason: str, cause: str, member_ids: Sequence[str], types: Sequence[str]) -> str:
    """Derived from what opened the case, so a redelivered event opens no second one."""
    basis = f"{reason}|{cause}|{','.join(sorted(member_ids))}|{','.join(sorted(types))}"
    return "rc_" + hashlib.sha256(basis.encode()).hexdigest()[:24]


def load_snapshot(store: MemberStore, refs: Sequence[IdentityKey]) -> Snapshot:
    """Claims of the refs and every member they lead to, following merge pointers."""
    claims = store.claims(refs) if refs else {}
    members: dict[str, Member] = {}
    wanted = set(claims.values())
    while wanted:
        found = store.members(wanted)
        members.update(found)
        wanted = {
            m.merged_into for m in found.values() if m.merged_into and m.merged_into not in members
        }
    return Snapshot(claims=claims, members=members)


@dataclass(frozen=True)
class Usable:
    """An identity that can match someone: not a placeholder, with its key and sealed value."""

    type: str
    key: str
    masked: str
    sealed: str

    @property
    def ref(self) -> IdentityKey:
        return (self.type, self.key)


def usable_identities(identities: Sequence[ProtectedIdentity]) -> list[Usable]:
    """Identities that can match: not placeholders, each key once, in the order given."""
    usable: dict[str, Usable] = {}
    for i in identities:
        if not i.placeholder and i.key and i.sealed and i.key not in usable:
            usable[i.key] = Usable(type=i.type, key=i.key, masked=i.masked, sealed=i.sealed)
    return list(usable.values())


def _merge_refusal(a: Member, b: Member) -> str | None:
    if b.member_id in a.no_merge_with or a.member_id in b.no_merge_with:
        return "merge_blocked"
    for identity_type in {i.type for i in (*a.identities, *b.identities)}:
        if a.count(identity_type) + b.count(identity_type) > rule(identity_type).limit:
            return "merge_limit"
    return None


def _newest_profile(
    base: Mapping[str, ProfileValue], other: Mapping[str, ProfileValue]
) -> dict[str, ProfileValue]:
    merged = dict(base)
    for name, value in other.items():
        if value.newer_than(merged.get(name)):
            merged[name] = value
    return merged


@dataclass
class _Plan:
    """Working state while planning one resolution."""

    request: ResolveRequest
    now: datetime
    change: IdentityChange = field(default_factory=IdentityChange)
    cases: list[ReviewCase] = field(default_factory=list)

    def open_case(self, reason: str, member_ids: Sequence[str], types: Sequence[str]) -> None:
        cause = self.request.causing_event_id
        case = ReviewCase(
            case_id=review_case_id(reason, cause, member_ids, types),
            reason=reason,
            member_ids=tuple(member_ids),
            identity_types=tuple(sorted(set(types))),
            causing_event_id=cause,
            opened_at=iso(self.now),
        )
        if all(c.case_id != case.case_id for c in self.cases):
            self.cases.append(case)  # one case per reason and members, however many identities

    def event(self, kind: str, member_id: str, subject: str = "", **data: object) -> None:
        self.change.events.append(
            DomainEvent(
                type=kind,
                member_id=member_id,
                causing_event_id=self.request.causing_event_id,
                occurred_at=self.now,
                data=dict(data),
                subject=subject,
            )
        )


def plan(
    request: ResolveRequest, snapshot: Snapshot, now: datetime, ids: MemberIds
) -> tuple[Resolution, IdentityChange]:
    """Decide what the event's identities mean for the members; pure."""
    usable = usable_identities(request.identities)
    placeholders = sum(1 for i in request.identities if i.placeholder)
    if not usable:
        return Resolution(member_id=None, placeholders=placeholders), IdentityChange()

    work = _Plan(request=request, now=now)
    owner = {
        i.key: snapshot.root(snapshot.claims[i.ref]).member_id
        for i in usable
        if i.ref in snapshot.claims
    }
    merging = any(rule(i.type).merges for i in usable)
    merge_roots = list(
        dict.fromkeys(owner[i.key] for i in usable if rule(i.type).merges and i.key in owner)
    )
    attach_roots = list(dict.fromkeys(owner[i.key] for i in usable if i.key in owner))
    # a merge-capable identity is never found through an attach-only one: with one in the
    # event, only merge-capable matches count (none: a new member)
    candidates = merge_roots if merging else attach_roots
    guessing = not merging and len(attach_roots) > 1

    created = False
    absorbed: list[Member] = []
    if candidates:
        ordered = sorted((snapshot.members[m] for m in candidates), key=lambda m: m.seniority)
        original = ordered[0]
        target = original
        if merge_roots:
            for other in ordered[1:]:
                refusal = _merge_refusal(target, other)
                if refusal:
                    types = sorted({i.type for i in other.identities})
                    work.open_case(refusal, [target.member_id, other.member_id], types)
                    continue
                target = _absorb(target, other)
                absorbed.append(other)
    else:
        created = True
        member_id = new_member_id(request.causing_event_id, ids)
        original = Member(member_id=member_id, created_at=iso(now), version=0)
        target = original

    attached: list[str] = []
    for identity in usable:
        if identity.key in owner or guessing:
            continue
        if target.count(identity.type) >= rule(identity.type).limit:
            work.open_case("identity_limit", [target.member_id], [identity.type])
            continue
        held = HeldIdentity(
            type=identity.type,
            key=identity.key,
            masked=identity.masked,
            sealed=identity.sealed,
            origin=target.member_id,
            added_at=iso(now),
        )
        target = replace(target, identities=(*target.identities, held))
        work.change.claim.append(Claim(identity.type, identity.key, target.member_id))
        attached.append(identity.type)

    incoming = {
        name: ProfileValue(
            masked=value.masked,
            sealed=value.sealed,
            at=iso(request.occurred_at),
            by=request.causing_event_id,
        )
        for name, value in request.profile.items()
    }
    profile = _newest_profile(target.profile, incoming)
    channels = target.channels | {request.channel}
    changed = profile != dict(target.profile) or channels != target.channels
    if changed and not guessing:  # whose profile it is, two weak holders cannot tell
        target = replace(target, profile=profile, channels=channels)

    _record(work, original, target, absorbed, created, attached)
    work.change.review_cases.extend(work.cases)
    resolution = Resolution(
        member_id=target.member_id,
        created=created,
        merged=tuple(m.member_id for m in absorbed),
        attached=tuple(attached),
        review_cases=tuple(c.case_id for c in work.cases),
        placeholders=placeholders,
        via=_via(usable, target),
    )
    return resolution, work.change


def _via(usable: Sequence[Usable], target: Member) -> str | None:
    """The event's first merge-capable identity that the member holds, else its first held one
    (an identity a limit kept on another member does not speak for this one)."""
    held = [i for i in usable if target.held(i.ref) is not None]
    bringer = next((i for i in held if rule(i.type).merges), held[0] if held else None)
    return lineage(bringer.ref) if bringer else None


def _absorb(survivor: Member, other: Member) -> Member:
    """The survivor as it is once `other` has merged into it (identities keep their origin)."""
    return replace(
        survivor,
        identities=(*survivor.identities, *other.identities),
        profile=_newest_profile(survivor.profile, other.profile),
        channels=survivor.channels | other.channels,
        no_merge_with=survivor.no_merge_with | other.no_merge_with,
    )


def _record(
    work: _Plan,
    original: Member,
    target: Member,
    absorbed: list[Member],
    created: bool,
    attached: list[str],
) -> None:
    change = work.change
    if created:
        change.create.append(replace(target, version=1))
        work.event(
            "member.created",
            target.member_id,
            channel=work.request.channel,
            identity_types=attached,
        )
    elif target != original:
        change.update.append((target.bump(), original.version))
    for other in absorbed:
        gone = other.bump(identities=(), profile={}, merged_into=target.member_id)
        change.update.append((gone, other.version))
        change.move.extend(
            (Claim(i.type, i.key, target.member_id), other.member_id) for i in other.identities
        )
        work.event(
            "member.merged",
            target.member_id,
            subject=other.member_id,
            survivor_member_id=target.member_id,
            absorbed_member_id=other.member_id,
        )


def _jittered_pause(attempt: int) -> None:
    time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))  # noqa: S311 - jitter, not crypto


def resolve(
    store: MemberStore,
    request: ResolveRequest,
    clock: Clock,
    *,
    ids: MemberIds,
    pause: Callable[[int], None] = _jittered_pause,
) -> Resolution:
    """Resolve the event's identities to one member; safe to repeat and to run concurrently."""
    refs = [i.ref for i in usable_identities(request.identities)]
    for attempt in range(MAX_ATTEMPTS):
        snapshot = load_snapshot(store, refs)
        resolution, change = plan(request, snapshot, clock.now(), ids)
        if change.is_empty():
            return resolution
        try:
            store.commit(change)
        except ConcurrentChange:
            pause(attempt)
            continue
        return resolution
    raise ConcurrentChange("identity resolution kept losing races; the event will be retried")
