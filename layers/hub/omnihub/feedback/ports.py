"""What the feedback capability needs from storage. Adapters own key formats and conditions."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any, Protocol

from omnihub.events.domain import DomainEvent
from omnihub.feedback.model import (
    BatchHold,
    ClusterKey,
    Counted,
    Episode,
    FeedbackWrite,
    Tally,
)


class ClusterStore(Protocol):
    def open_markers(
        self, keys: Sequence[ClusterKey], hold_batch: str | None, now: datetime
    ) -> tuple[frozenset[ClusterKey], bool]:
        """The keys whose episode is still open at `now`, and whether the batch is held."""
        ...

    def tally(
        self, tally: Tally, topics: Collection[str], since: datetime, limit: int
    ) -> dict[str, Counted]:
        """For each topic asked, the distinct reporters observed under it on `tally` since
        `since` (strongly consistent) and the references of those reports, oldest first, at
        most `limit`. One read of the tally serves every topic."""
        ...

    def open_episodes(self, found: Sequence[tuple[Episode, DomainEvent]]) -> tuple[Episode, ...]:
        """Record the episodes and publish their events in one write, leaving out each whose
        key has an episode open; returns the episodes opened."""
        ...

    def request_hold(self, hold: BatchHold, event: DomainEvent) -> bool:
        """Record the hold and publish its event, unless the batch is held: then False."""
        ...


class FeedbackStore(ClusterStore, Protocol):
    def record(self, write: FeedbackWrite) -> bool:
        """Write the feedback, its observations and its events atomically. False (and nothing
        written) when this feedback was recorded before. ConcurrentChange when its member was
        merged or erased meanwhile (resolve again) or another writer got in the way."""
        ...

    def recent_feedback(self, member_id: str, limit: int) -> list[dict[str, Any]]:
        """The member's newest feedback, without the text."""
        ...

    def move_feedback(self, member_id: str, where: Callable[[str | None], tuple[str, bool]]) -> int:
        """Move each feedback recorded on `member_id` to the member `where(via)` names for its
        lineage (asked once per lineage, only when there is feedback, and again after a lost
        race; True with it: that member was erased, drop the text and the lineage); feedback
        `where` puts on `member_id` itself stays. Each move is conditioned on its target being
        still live and its lineage still leading there. Returns how many moved; repeating it
        moves nothing more."""
        ...

    def redact_feedback(self, member_id: str, at: datetime) -> int:
        """Drop the texts and the lineage of a member's feedback (erasure); the readings
        stay."""
        ...

    def clusters(self, limit: int) -> list[dict[str, Any]]:
        """Detected clusters, newest first."""
        ...

    def suggestions(self, limit: int) -> list[dict[str, Any]]:
        """The product board: suggestions, newest first."""
        ...

    def holds(self, limit: int) -> list[dict[str, Any]]:
        """Batch holds requested, newest first."""
        ...
