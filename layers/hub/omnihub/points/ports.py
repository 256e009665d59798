"""What the points domain needs from storage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from omnihub.points.model import Account, LedgerEntry, Marker, Order, PointsChange, Redemption

DueKind = Literal["order", "account"]


class PointsStore(Protocol):
    def account(self, member_id: str) -> Account:
        """The member's account (version 0 when it has never been written)."""
        ...

    def order(self, order_id: str) -> Order | None: ...

    def redemption(self, redemption_id: str) -> Redemption | None:
        """A redemption by its id alone (whoever it was for)."""
        ...

    def marker(self, key: str) -> Marker | None:
        """The once-only cause `key` (an activity id), whoever it went to."""
        ...

    def commit(self, change: PointsChange) -> None:
        """All or nothing. ConcurrentChange when a version moved; AlreadyApplied when a ledger
        entry, redemption or marker of the same cause exists (the request was done before)."""
        ...

    def ledger(self, member_id: str, limit: int) -> list[LedgerEntry]:
        """Newest first."""
        ...

    def orders_of(
        self, member_id: str, limit: int, after: str | None = None
    ) -> tuple[list[Order], str | None]:
        """The paid orders whose points the member holds now, newest payment first, one page
        (and a cursor when there may be more). Read from an index: it may lag a fresh write."""
        ...

    def due(
        self, kind: DueKind, shard: int, until: str, after: str | None, limit: int
    ) -> tuple[Sequence[str], str | None]:
        """Ids (order ids or member ids) whose due time is <= until, one shard, one page."""
        ...
