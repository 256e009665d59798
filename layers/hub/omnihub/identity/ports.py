"""What the identity domain needs from storage. Adapters own key formats and conditions."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from omnihub.identity.model import IdentityChange, IdentityKey, Member, ReviewCase


class MemberStore(Protocol):
    def claims(
        self, refs: Sequence[IdentityKey], *, consistent: bool = False
    ) -> dict[IdentityKey, str]:
        """The member each claimed identity belongs to (unclaimed ones are absent). `consistent`
        reads what every committed change wrote (capabilities placing things after a merge)."""
        ...

    def members(
        self, member_ids: Collection[str], *, consistent: bool = False
    ) -> dict[str, Member]:
        """Members by id (unknown ids are absent)."""
        ...

    def commit(self, change: IdentityChange) -> None:
        """Write the change atomically or not at all; ConcurrentChange if a condition failed."""
        ...

    def open_review_cases(self, limit: int) -> list[ReviewCase]:
        """The newest open review cases."""
        ...
