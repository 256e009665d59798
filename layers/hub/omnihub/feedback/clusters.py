"""Clusters and batch holds (SPEC 4.3): repeated reports about one thing raise one alarm.

- The same topic on the same SKU, or on the same batch, at least THRESHOLD times within WINDOW
  raises `cluster.detected`, once per episode: an episode lasts WINDOW from its detection, and
  only after it has passed can the same key raise again.
- HOLD_REPORTS food-safety (high-risk) reports on one batch raise `batch.hold_requested`, once per
  batch.

Which reports count: complaints and anything with a medium or high risk, with a SKU or a batch.
Each counts under ONE topic, the first of TOPIC_PRECEDENCE it has: the thing that went wrong
(leakage, moisture, taste) before where it was seen (the package, the delivery). "小包装米易受潮"
is about packaging and storage; its cluster is storage, so three of them are one cluster, not two.

Race safety: each report's observation is committed first (with the feedback, in one transaction)
and counted after, with strongly consistent reads. Of any reports racing under one key the last
to commit counts them all, so a threshold is never missed; the episode marker is a conditional
write, so it is never raised twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from omnihub.clock import iso
from omnihub.events.domain import DomainEvent
from omnihub.feedback.classifier import Classification
from omnihub.feedback.model import BatchHold, ClusterKey, Episode, Incoming, Observation
from omnihub.feedback.ports import ClusterStore

WINDOW = timedelta(days=7)
THRESHOLD = 3
HOLD_REPORTS = 2
#: A batch stays on shelves and in kitchens for up to its shelf life (oil: 18 months).
HOLD_LOOKBACK = timedelta(days=730)
#: Observations are kept a day past the longest look-back that counts them (TTL is lazy anyway).
KEEP_SLACK = timedelta(days=1)
#: The pseudo-topic under which food-safety reports on a batch are counted for holds.
FOOD_SAFETY = "food_safety"
TOPIC_PRECEDENCE = (
    "leakage",
    "storage",
    "taste_quality",
    "packaging",
    "logistics",
    "service",
    "price",
    "product_info",
)
#: At most this many report references travel with a cluster or a hold.
MAX_REFS = 50


def cluster_topic(c: Classification) -> str | None:
    """The one topic a report counts under, or None when it is no report of a problem."""
    if c.intent != "complaint" and c.risk == "low":
        return None
    return next((t for t in TOPIC_PRECEDENCE if t in c.topics), None)


def cluster_keys(feedback: Incoming, c: Classification) -> list[ClusterKey]:
    topic = cluster_topic(c)
    if topic is None:
        return []
    keys: list[ClusterKey] = []
    if feedback.sku:
        keys.append(ClusterKey("sku", feedback.sku, topic))
    if feedback.batch_no:
        keys.append(ClusterKey("batch", feedback.batch_no, topic))
    return keys


def hold_key(batch_no: str) -> ClusterKey:
    return ClusterKey("batch", batch_no, FOOD_SAFETY)


def observations(feedback: Incoming, c: Classification) -> tuple[Observation, ...]:
    """What a new report adds to the counts (written with the feedback record)."""
    at = feedback.received_at
    found = [
        Observation(key, feedback.ref, at, WINDOW + KEEP_SLACK) for key in cluster_keys(feedback, c)
    ]
    if c.risk == "high" and feedback.batch_no:
        found.append(
            Observation(hold_key(feedback.batch_no), feedback.ref, at, HOLD_LOOKBACK + KEEP_SLACK)
        )
    return tuple(found)


def cluster_id(key: ClusterKey, detected_at: datetime) -> str:
    basis = f"{key.name}|{iso(detected_at)}"
    return "cl_" + hashlib.sha256(basis.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Detection:
    episodes: tuple[Episode, ...] = ()
    hold: BatchHold | None = None


def detect(store: ClusterStore, feedback: Incoming, c: Classification, now: datetime) -> Detection:
    """After a report is committed: raise the clusters and the hold it completes, if any.

    Safe to repeat (a replayed event runs it again to finish what a crash may have cut short):
    open episodes and existing holds are skipped, and the markers are conditional writes.
    """
    keys = cluster_keys(feedback, c)
    hold_batch = feedback.batch_no if c.risk == "high" else None
    if not keys and hold_batch is None:
        return Detection()
    open_keys, held = store.open_markers(keys, hold_batch, now)
    since = now - WINDOW
    episodes: list[Episode] = []
    for key in keys:
        if key in open_keys or store.count(key, since, THRESHOLD) < THRESHOLD:
            continue
        refs = store.refs(key, since, MAX_REFS)
        episode = Episode(
            cluster_id=cluster_id(key, now),
            key=key,
            count=len(refs),
            window_start=since,
            detected_at=now,
            until=now + WINDOW,
            feedback_refs=tuple(refs),
            sku=feedback.sku,
            batch_no=feedback.batch_no if key.scope == "batch" else None,
        )
        event = DomainEvent(
            type="cluster.detected",
            member_id=None,
            causing_event_id=feedback.causing_event_id,
            occurred_at=now,
            data={**episode.view(), "threshold": THRESHOLD, "window_days": WINDOW.days},
            subject=episode.cluster_id,
        )
        if store.open_episode(episode, event):
            episodes.append(episode)
    hold: BatchHold | None = None
    if hold_batch is not None and not held:
        key = hold_key(hold_batch)
        since = now - HOLD_LOOKBACK
        if store.count(key, since, HOLD_REPORTS) >= HOLD_REPORTS:
            refs = store.refs(key, since, MAX_REFS)
            candidate = BatchHold(
                batch_no=hold_batch,
                reports=len(refs),
                feedback_refs=tuple(refs),
                requested_at=now,
                sku=feedback.sku,
                evidence=tuple(c.evidence),
            )
            event = DomainEvent(
                type="batch.hold_requested",
                member_id=None,
                causing_event_id=feedback.causing_event_id,
                occurred_at=now,
                data={**candidate.view(), "threshold": HOLD_REPORTS},
                subject=hold_batch,
            )
            if store.request_hold(candidate, event):
                hold = candidate
    return Detection(episodes=tuple(episodes), hold=hold)
