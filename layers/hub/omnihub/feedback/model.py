"""What the feedback capability keeps and writes: the feedback record, reporter marks and
bucket counts for clusters, episodes and batch holds. Plain values; the adapter owns key formats
and conditions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from omnihub.clock import iso
from omnihub.events.domain import DomainEvent
from omnihub.feedback.classifier import Classification

Scope = Literal["sku", "batch"]


def feedback_ref(channel: str, feedback_id: str) -> str:
    """Feedback ids are unique per channel only; this names a piece of feedback hub-wide."""
    return f"{channel}:{feedback_id}"


@dataclass(frozen=True)
class Incoming:
    """One feedback.received event, as the capability reads it."""

    channel: str
    feedback_id: str
    text: str
    kind: str
    causing_event_id: str
    occurred_at: datetime
    received_at: datetime
    order_id: str | None = None
    sku: str | None = None
    batch_no: str | None = None
    rating: int | None = None

    @property
    def ref(self) -> str:
        return feedback_ref(self.channel, self.feedback_id)


@dataclass(frozen=True)
class FeedbackRecord:
    """The kept feedback: the text (staff need it), its reading and where it was routed."""

    incoming: Incoming
    member_id: str | None
    classification: Classification
    outcome: str
    priority: str | None
    knowledge_entry: str | None
    on_board: bool
    via: str | None = None
    """The lineage of the identity that brought it (`identity.chain`): an un-merge takes it
    along with that identity."""

    def summary(self) -> dict[str, Any]:
        """What a member's file shows: never the text."""
        c = self.classification
        return {
            "feedback_id": self.incoming.feedback_id,
            "channel": self.incoming.channel,
            "kind": self.incoming.kind,
            "intent": c.intent,
            "sentiment": c.sentiment,
            "topics": list(c.topics),
            "risk": c.risk,
            "priority": self.priority,
            "outcome": self.outcome,
            "received_at": iso(self.incoming.received_at),
        }


@dataclass(frozen=True, order=True)
class ClusterKey:
    """What reports are counted together: one topic on one SKU, or on one batch."""

    scope: Scope
    key: str
    topic: str

    @property
    def name(self) -> str:
        return f"{self.scope}:{self.key}:{self.topic}"


TallyKind = Literal["topics", "food_safety"]


@dataclass(frozen=True, order=True)
class Tally:
    """Where reports about one thing are counted: the problem topics of a SKU or a batch
    (clusters), or the food-safety reports on a batch (holds)."""

    scope: Scope
    key: str
    kind: TallyKind = "topics"

    def cluster(self, topic: str) -> ClusterKey:
        return ClusterKey(self.scope, self.key, topic)


@dataclass(frozen=True, order=True)
class MarkKey:
    """One reporter under one key (a cluster key, or a batch's food-safety hold key)."""

    key: ClusterKey
    reporter: str


@dataclass(frozen=True)
class Mark:
    """A reporter's latest report under a key: when it was received, and which it was."""

    at: datetime
    ref: str


@dataclass(frozen=True)
class MarkMove:
    """This report becomes its reporter's latest under `key`: the mark moves to it from `read`
    (None: the reporter had no mark), conditional on the mark still being `read`."""

    key: MarkKey
    read: Mark | None
    mark: Mark
    keep_until: datetime


@dataclass(frozen=True)
class CountChange:
    """Per topic, how many more (or fewer) reporters have their latest report in one bucket
    (a Shanghai day, or a month for holds) of a tally."""

    tally: Tally
    bucket: date
    deltas: tuple[tuple[str, int], ...]
    keep_until: datetime


@dataclass(frozen=True)
class Seen:
    """What a report reads before it is written: its reporter's marks, the keys whose episode
    is open, and whether its batch is held."""

    marks: Mapping[MarkKey, Mark] = field(default_factory=dict)
    open_keys: frozenset[ClusterKey] = frozenset()
    held: bool = False


@dataclass(frozen=True)
class FeedbackWrite:
    """Everything one new piece of feedback writes, in one transaction."""

    record: FeedbackRecord
    moves: tuple[MarkMove, ...] = ()
    counts: tuple[CountChange, ...] = ()
    events: tuple[DomainEvent, ...] = ()


@dataclass(frozen=True)
class Episode:
    """A detected cluster: reports under one key in one window; no second alarm until `until`."""

    cluster_id: str
    key: ClusterKey
    count: int
    window_start: datetime
    detected_at: datetime
    until: datetime
    feedback_refs: tuple[str, ...]
    sku: str | None = None
    batch_no: str | None = None

    def view(self) -> dict[str, Any]:
        return {
            "cluster_id": self.cluster_id,
            "scope": self.key.scope,
            "key": self.key.key,
            "topic": self.key.topic,
            "sku": self.sku,
            "batch_no": self.batch_no,
            "count": self.count,
            "window_start": iso(self.window_start),
            "detected_at": iso(self.detected_at),
            "until": iso(self.until),
            "feedback_refs": list(self.feedback_refs),
        }


@dataclass(frozen=True)
class BatchHold:
    """A request to hold a batch after repeated food-safety reports; once per batch."""

    batch_no: str
    reports: int
    feedback_refs: tuple[str, ...]
    requested_at: datetime
    sku: str | None = None
    evidence: tuple[str, ...] = field(default_factory=tuple)

    def view(self) -> dict[str, Any]:
        return {
            "batch_no": self.batch_no,
            "sku": self.sku,
            "reports": self.reports,
            "feedback_refs": list(self.feedback_refs),
            "evidence": list(self.evidence),
            "requested_at": iso(self.requested_at),
        }
