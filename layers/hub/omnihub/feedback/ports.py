"""What the feedback capability needs from storage. Adapters own key formats and conditions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from omnihub.events.domain import DomainEvent
from omnihub.feedback.model import BatchHold, ClusterKey, Episode, FeedbackWrite


class ClusterStore(Protocol):
    def open_markers(
        self, keys: Sequence[ClusterKey], hold_batch: str | None, now: datetime
    ) -> tuple[frozenset[ClusterKey], bool]:
        """The keys whose episode is still open at `now`, and whether the batch is held."""
        ...

    def count(self, key: ClusterKey, since: datetime, stop_at: int) -> int:
        """Reports observed under `key` since `since` (strongly consistent); may stop counting
        once `stop_at` is reached."""
        ...

    def refs(self, key: ClusterKey, since: datetime, limit: int) -> list[str]:
        """References of the reports observed under `key` since `since`, oldest first."""
        ...

    def open_episode(self, episode: Episode, event: DomainEvent) -> bool:
        """Record the episode and publish its event, unless an episode of the key is open:
        then nothing, and False."""
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

    def move_feedback(self, absorbed: str, target: Callable[[], tuple[str, bool]]) -> int:
        """Move every feedback of an absorbed member to the member `target()` names (asked only
        if there is something to move; True with it: that member was erased, drop the texts).
        Returns how many moved; repeating it moves nothing more."""
        ...

    def redact_feedback(self, member_id: str, at: datetime) -> int:
        """Drop the texts of a member's feedback (erasure); the readings stay."""
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
