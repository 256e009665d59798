"""What the feedback capability needs from storage. Adapters own key formats and conditions."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from omnihub.events.domain import DomainEvent
from omnihub.feedback.model import (
    BatchHold,
    ClusterKey,
    Episode,
    FeedbackWrite,
    MarkKey,
    Seen,
    Tally,
)


class ClusterStore(Protocol):
    def look(
        self,
        marks: Sequence[MarkKey],
        keys: Sequence[ClusterKey],
        hold_batch: str | None,
        now: datetime,
    ) -> Seen:
        """One strongly consistent read before a report is written: the marks asked (those
        that exist), the keys whose episode is still open at `now`, whether the batch is held."""
        ...

    def count(self, windows: Mapping[Tally, Sequence[date]]) -> dict[Tally, dict[str, int]]:
        """Per tally and topic, the reporters counted in the buckets asked, summed (strongly
        consistent; one read serves every tally)."""
        ...

    def refs(self, key: ClusterKey, since: datetime, limit: int) -> tuple[str, ...]:
        """The references of the marks under `key` received at `since` or later, oldest
        first, at most `limit` (read only when a key raises)."""
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
        """Write the feedback, its mark moves and count changes, and its events atomically.
        False (and nothing written) when this feedback was recorded before. ConcurrentChange
        (nothing written) when its member was merged or erased meanwhile (resolve again), a
        mark is no longer what was read, or another writer got in the way: read again."""
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
