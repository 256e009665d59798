"""FeedbackStore in memory with the adapter's conditions: a feedback is recorded once, only for a
live member, and only while the marks it moves are as it read them; an episode marker is taken
only when the key's previous episode has ended; a batch is held once. Every write applies whole
under one lock, or not at all."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from omnihub.clock import iso
from omnihub.errors import ConcurrentChange
from omnihub.events.domain import DomainEvent
from omnihub.feedback.model import (
    BatchHold,
    ClusterKey,
    Episode,
    FeedbackRecord,
    FeedbackWrite,
    Mark,
    MarkKey,
    Seen,
    Tally,
)


@dataclass
class FakeFeedbackStore:
    records: dict[str, FeedbackRecord] = field(default_factory=dict)
    erased_texts: set[str] = field(default_factory=set)
    marks: dict[MarkKey, Mark] = field(default_factory=dict)
    #: Per (tally, bucket): per topic, the reporters whose latest report is in that bucket.
    buckets: dict[tuple[Tally, date], dict[str, int]] = field(default_factory=dict)
    open_until: dict[ClusterKey, datetime] = field(default_factory=dict)
    episodes: list[Episode] = field(default_factory=list)
    held: dict[str, BatchHold] = field(default_factory=dict)
    published: dict[str, DomainEvent] = field(default_factory=dict)
    #: Whether a member id may receive feedback (not merged, not erased); None: everyone.
    member_is_live: Callable[[str], bool] | None = None
    #: Runs just before a record's conditions are checked (to let another writer in).
    before_record: Callable[[FeedbackWrite], None] | None = None
    writes: int = 0
    looks: int = 0
    counts: int = 0
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # -- writing -----------------------------------------------------------------------------
    def record(self, write: FeedbackWrite) -> bool:
        if self.before_record:
            self.before_record(write)
        record = write.record
        ref = record.incoming.ref
        with self._lock:
            if ref in self.records:
                return False
            member = record.member_id
            if member is not None and self.member_is_live and not self.member_is_live(member):
                raise ConcurrentChange("the member was merged or erased")
            if any(self.marks.get(m.key) != m.read for m in write.moves):
                raise ConcurrentChange("a mark moved since it was read")
            self.records[ref] = record
            for move in write.moves:
                self.marks[move.key] = move.mark
            for change in write.counts:
                counts = self.buckets.setdefault((change.tally, change.bucket), {})
                for topic, delta in change.deltas:
                    counts[topic] = counts.get(topic, 0) + delta
            self._publish(write.events)
            self.writes += 1
            return True

    def _publish(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            if event.event_id in self.published:
                raise AssertionError(f"event {event.event_id} published twice")
            self.published[event.event_id] = event

    # -- clusters ----------------------------------------------------------------------------
    def look(
        self,
        marks: Sequence[MarkKey],
        keys: Sequence[ClusterKey],
        hold_batch: str | None,
        now: datetime,
    ) -> Seen:
        with self._lock:
            self.looks += 1
            return Seen(
                marks={m: self.marks[m] for m in marks if m in self.marks},
                open_keys=frozenset(
                    k for k in keys if k in self.open_until and self.open_until[k] > now
                ),
                held=hold_batch is not None and hold_batch in self.held,
            )

    def count(self, windows: Mapping[Tally, Sequence[date]]) -> dict[Tally, dict[str, int]]:
        with self._lock:
            self.counts += 1
            sums: dict[Tally, dict[str, int]] = {}
            for tally, window in windows.items():
                into = sums.setdefault(tally, {})
                for bucket in window:
                    for topic, n in self.buckets.get((tally, bucket), {}).items():
                        into[topic] = into.get(topic, 0) + n
            return sums

    def refs(self, key: ClusterKey, since: datetime, limit: int) -> tuple[str, ...]:
        with self._lock:
            found = sorted(
                (iso(mark.at), mark.ref)
                for at, mark in self.marks.items()
                if at.key == key and mark.at >= since
            )
            return tuple(ref for _, ref in found[:limit])

    def open_episodes(self, found: Sequence[tuple[Episode, DomainEvent]]) -> tuple[Episode, ...]:
        with self._lock:
            opened: list[tuple[Episode, DomainEvent]] = []
            for episode, event in found:
                until = self.open_until.get(episode.key)
                if until is None or until <= episode.detected_at:
                    opened.append((episode, event))
            for episode, event in opened:
                self.open_until[episode.key] = episode.until
                self.episodes.append(episode)
                self._publish([event])
            return tuple(episode for episode, _ in opened)

    def request_hold(self, hold: BatchHold, event: DomainEvent) -> bool:
        with self._lock:
            if hold.batch_no in self.held:
                return False
            self.held[hold.batch_no] = hold
            self._publish([event])
            return True

    # -- members -----------------------------------------------------------------------------
    def recent_feedback(self, member_id: str, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            mine = [r for r in self.records.values() if r.member_id == member_id]
            mine.sort(key=lambda r: (iso(r.incoming.received_at), r.incoming.ref), reverse=True)
            return [r.summary() for r in mine[:limit]]

    def move_feedback(self, member_id: str, where: Callable[[str | None], tuple[str, bool]]) -> int:
        with self._lock:
            targets: dict[str | None, tuple[str, bool]] = {}
            leaving = []
            for ref, r in self.records.items():
                if r.member_id != member_id:
                    continue
                if r.via not in targets:
                    targets[r.via] = where(r.via)
                root, erased = targets[r.via]
                if root != member_id:
                    leaving.append((ref, root, erased))
            for ref, root, erased in leaving:
                record = replace(self.records[ref], member_id=root)
                if erased:
                    record = replace(record, via=None)
                    self.erased_texts.add(ref)
                self.records[ref] = record
            return len(leaving)

    def redact_feedback(self, member_id: str, at: datetime) -> int:
        with self._lock:
            refs = [ref for ref, r in self.records.items() if r.member_id == member_id]
            self.erased_texts.update(refs)
            for ref in refs:
                self.records[ref] = replace(self.records[ref], via=None)
            return len(refs)

    def text_of(self, ref: str) -> str | None:
        """The kept text, as the table would answer (None once erased)."""
        return None if ref in self.erased_texts else self.records[ref].incoming.text

    # -- insights ----------------------------------------------------------------------------
    def clusters(self, limit: int) -> list[dict[str, Any]]:
        newest = sorted(self.episodes, key=lambda e: e.detected_at, reverse=True)
        return [e.view() for e in newest[:limit]]

    def suggestions(self, limit: int) -> list[dict[str, Any]]:
        board = [r for r in self.records.values() if r.on_board]
        board.sort(key=lambda r: r.incoming.received_at, reverse=True)
        return [
            {"feedback_id": r.incoming.feedback_id, "text": self.text_of(r.incoming.ref)}
            for r in board[:limit]
        ]

    def holds(self, limit: int) -> list[dict[str, Any]]:
        newest = sorted(self.held.values(), key=lambda h: h.requested_at, reverse=True)
        return [h.view() for h in newest[:limit]]

    def events_of(self, kind: str) -> list[DomainEvent]:
        return [e for e in self.published.values() if e.type == kind]
