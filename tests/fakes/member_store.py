"""MemberStore in memory with DynamoDB's transaction semantics: every condition of a change is
checked and the whole change applied under one lock, or nothing is applied."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from omnihub.errors import ConcurrentChange
from omnihub.events.domain import DomainEvent
from omnihub.identity.model import IdentityChange, IdentityKey, Member, ReviewCase


@dataclass
class FakeMemberStore:
    member_rows: dict[str, Member] = field(default_factory=dict)
    claim_rows: dict[IdentityKey, str] = field(default_factory=dict)
    cases: dict[str, ReviewCase] = field(default_factory=dict)
    published: dict[str, DomainEvent] = field(default_factory=dict)
    commits: int = 0
    conflicts: int = 0
    reads: int = 0
    before_commit: Callable[[IdentityChange], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def claims(
        self, refs: Sequence[IdentityKey], *, consistent: bool = False
    ) -> dict[IdentityKey, str]:
        with self._lock:
            self.reads += 1
            return {r: self.claim_rows[r] for r in refs if r in self.claim_rows}

    def members(
        self, member_ids: Collection[str], *, consistent: bool = False
    ) -> dict[str, Member]:
        with self._lock:
            self.reads += 1
            return {m: self.member_rows[m] for m in member_ids if m in self.member_rows}

    def commit(self, change: IdentityChange) -> None:
        _one_action_per_item(change)
        if self.before_commit:
            self.before_commit(change)
        with self._lock:
            if not self._conditions_hold(change):
                self.conflicts += 1
                raise ConcurrentChange("a condition failed")
            for member in change.create:
                self.member_rows[member.member_id] = member
            for member, _ in change.update:
                self.member_rows[member.member_id] = member
            for claim in change.claim:
                self.claim_rows[claim.ref] = claim.member_id
            for claim, _ in change.move:
                self.claim_rows[claim.ref] = claim.member_id
            for claim in change.release:
                del self.claim_rows[claim.ref]
            for case in change.review_cases:
                self.cases.setdefault(case.case_id, case)
            for event in change.events:
                self.published.setdefault(event.event_id, event)
            self.commits += 1

    def _conditions_hold(self, change: IdentityChange) -> bool:
        return (
            all(m.member_id not in self.member_rows for m in change.create)
            and all(
                m.member_id in self.member_rows
                and self.member_rows[m.member_id].version == expected
                for m, expected in change.update
            )
            and all(c.ref not in self.claim_rows for c in change.claim)
            and all(self.claim_rows.get(c.ref) == owner for c, owner in change.move)
            and all(self.claim_rows.get(c.ref) == c.member_id for c in change.release)
        )

    def open_review_cases(self, limit: int) -> list[ReviewCase]:
        cases = sorted(self.cases.values(), key=lambda c: c.opened_at, reverse=True)
        return [c for c in cases if c.status == "open"][:limit]

    def events_of(self, kind: str) -> list[DomainEvent]:
        return [e for e in self.published.values() if e.type == kind]

    def roots(self) -> dict[str, Member]:
        """Live members: not merged away, not erased."""
        return {
            m.member_id: m
            for m in self.member_rows.values()
            if m.merged_into is None and m.erased_at is None
        }


def _one_action_per_item(change: IdentityChange) -> None:
    """DynamoDB refuses a transaction that touches one item twice (ValidationException)."""
    items = [
        *(("member", m.member_id) for m in change.create),
        *(("member", m.member_id) for m, _ in change.update),
        *(("claim", c.ref) for c in change.claim),
        *(("claim", c.ref) for c, _ in change.move),
        *(("claim", c.ref) for c in change.release),
        *(("case", c.case_id) for c in change.review_cases),
        *(("event", e.event_id) for e in change.events),
    ]
    if len(items) != len(set(items)):
        raise ValueError("a transaction may not touch one item twice")
