"""Members, the identities they hold, and the unit of work that changes them atomically."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from omnihub.events.domain import DomainEvent

IdentityKey = tuple[str, str]
"""(identity type, lookup key): how a claim is addressed."""


@dataclass(frozen=True)
class HeldIdentity:
    """An identity on a member. `origin` is the member it first belonged to: un-merge uses it."""

    type: str
    key: str
    masked: str
    sealed: str
    origin: str
    added_at: str

    @property
    def ref(self) -> IdentityKey:
        return (self.type, self.key)


@dataclass(frozen=True)
class ProfileValue:
    """A profile field; the newest (`at`, then `by`) wins, whatever order events arrive in."""

    masked: str
    sealed: str
    at: str
    by: str

    def newer_than(self, other: ProfileValue | None) -> bool:
        return other is None or (self.at, self.by) > (other.at, other.by)


@dataclass(frozen=True)
class Member:
    member_id: str
    created_at: str
    version: int = 1
    identities: tuple[HeldIdentity, ...] = ()
    profile: Mapping[str, ProfileValue] = field(default_factory=dict)
    channels: frozenset[str] = frozenset()
    merged_into: str | None = None
    erased_at: str | None = None
    split_from: str | None = None
    no_merge_with: frozenset[str] = frozenset()

    @property
    def seniority(self) -> tuple[str, str]:
        """Sort key for 'earliest created' (ties broken by id, so every process agrees)."""
        return (self.created_at, self.member_id)

    def count(self, identity_type: str) -> int:
        return sum(1 for i in self.identities if i.type == identity_type)

    def held(self, ref: IdentityKey) -> HeldIdentity | None:
        return next((i for i in self.identities if i.ref == ref), None)

    def bump(self, **changes: object) -> Member:
        """The next version of this member, for an update conditioned on the current one."""
        return replace(self, version=self.version + 1, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Claim:
    """The index entry 'this identity belongs to that member'; claims always name a live root."""

    type: str
    key: str
    member_id: str

    @property
    def ref(self) -> IdentityKey:
        return (self.type, self.key)


@dataclass(frozen=True)
class ReviewCase:
    """A merge or attachment the limits refused; admins decide."""

    case_id: str
    reason: str
    member_ids: tuple[str, ...]
    identity_types: tuple[str, ...]
    causing_event_id: str
    opened_at: str
    status: str = "open"


@dataclass
class IdentityChange:
    """Everything one decision writes, committed all or nothing.

    `update` holds the new state of members with the version it replaces; `claim` adds claims
    that must not exist yet; `move` re-points claims expected to name `expected_owner`;
    `release` deletes claims expected to name their member.
    """

    create: list[Member] = field(default_factory=list)
    update: list[tuple[Member, int]] = field(default_factory=list)
    claim: list[Claim] = field(default_factory=list)
    move: list[tuple[Claim, str]] = field(default_factory=list)
    release: list[Claim] = field(default_factory=list)
    review_cases: list[ReviewCase] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (
            self.create
            or self.update
            or self.claim
            or self.move
            or self.release
            or self.review_cases
            or self.events
        )
