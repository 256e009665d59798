"""Clusters and batch holds: repeated reports about one thing raise one alarm.

- The same topic on the same SKU, or on the same batch, from at least THRESHOLD reporters within
  WINDOW raises `cluster.detected`, once per episode: an episode lasts WINDOW from its
  detection, and only after it has passed can the same key raise again.
- Food-safety (high-risk) reports on one batch from HOLD_REPORTS reporters raise
  `batch.hold_requested`, once per batch.

Which reports count: the complaints the classifier read and routing kept as complaints, and
anything with a medium or high risk, with a SKU or a batch. A report counts under EACH of its
problem topics (CLUSTER_TOPICS), and a leak also counts as packaging: three
packaging complaints are a packaging cluster even when two of them are also about leaking.
A text that only stars or tone made a complaint names no topic of its own and counts nowhere.

Reporters, not reports (D50): one customer who sends the same report through two channels, or
twice, is one reporter for each key; a report without a member is its own reporter.

Race safety: each report's observation is committed first (with the feedback, in one transaction)
and counted after, with strongly consistent reads. Of any reports racing under one key the last
to commit counts them all, so a threshold is never missed; the episode marker is a conditional
write, so it is never raised twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from omnihub.clock import iso
from omnihub.events.domain import DomainEvent
from omnihub.feedback.classifier import Classification
from omnihub.feedback.model import (
    BatchHold,
    ClusterKey,
    Counted,
    Episode,
    Incoming,
    Observation,
    Tally,
)
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
#: The topics a cluster can be about ("other" is about nothing in particular).
CLUSTER_TOPICS = (
    "packaging",
    "leakage",
    "logistics",
    "taste_quality",
    "storage",
    "price",
    "service",
    "product_info",
)
#: A topic that also counts as a broader one: a leak is a packaging problem too.
ALSO_COUNTS_AS = {"leakage": "packaging"}
#: Routes of a report the words made a complaint (complaint tickets and food safety).
REPORTED = frozenset({"complaint", "food_safety"})
#: At most this many report references travel with a cluster or a hold.
MAX_REFS = 50


def cluster_topics(c: Classification, outcome: str) -> tuple[str, ...]:
    """Every topic a report counts under, or () when it is no report of a problem.

    `outcome` is the route: a complaint that routing read as a question is no report, and a
    praise or an empty text that low stars made a complaint names no problem of its own.
    """
    words_complain = c.intent == "complaint" and outcome in REPORTED
    if not words_complain and c.risk == "low":
        return ()
    topics: set[str] = {t for t in c.topics if t in CLUSTER_TOPICS}
    topics.update(ALSO_COUNTS_AS[t] for t in list(topics) if t in ALSO_COUNTS_AS)
    return tuple(t for t in CLUSTER_TOPICS if t in topics)


def tallies(feedback: Incoming) -> list[Tally]:
    """Where a report about a problem is counted: its SKU and its batch."""
    found: list[Tally] = []
    if feedback.sku:
        found.append(Tally("sku", feedback.sku))
    if feedback.batch_no:
        found.append(Tally("batch", feedback.batch_no))
    return found


def cluster_keys(feedback: Incoming, c: Classification, outcome: str) -> list[ClusterKey]:
    topics = cluster_topics(c, outcome)
    return [tally.cluster(topic) for tally in tallies(feedback) for topic in topics]


def hold_tally(batch_no: str) -> Tally:
    return Tally("batch", batch_no, "food_safety")


def hold_key(batch_no: str) -> ClusterKey:
    return ClusterKey("batch", batch_no, FOOD_SAFETY)


def reporter_of(feedback: Incoming, member_id: str | None) -> str:
    """Who a report counts for: its member, or, without one, the report itself."""
    return f"mbr:{member_id}" if member_id else f"ref:{feedback.ref}"


def observations(
    feedback: Incoming, c: Classification, outcome: str, member_id: str | None
) -> tuple[Observation, ...]:
    """What a new report adds to the counts (written with the feedback record): one row per
    tally, listing its topics."""
    at = feedback.received_at
    reporter = reporter_of(feedback, member_id)
    topics = cluster_topics(c, outcome)
    found = [
        Observation(tally, topics, reporter, feedback.ref, at, WINDOW + KEEP_SLACK)
        for tally in (tallies(feedback) if topics else [])
    ]
    if c.risk == "high" and feedback.batch_no:
        found.append(
            Observation(
                hold_tally(feedback.batch_no),
                (FOOD_SAFETY,),
                reporter,
                feedback.ref,
                at,
                HOLD_LOOKBACK + KEEP_SLACK,
            )
        )
    return tuple(found)


def count_reporters(
    rows: Iterable[tuple[str, str, Sequence[str], str]], topics: Collection[str], limit: int
) -> dict[str, Counted]:
    """The counting rule of a tally: distinct reporters and the oldest references per topic,
    from (sort key, ref, topics, reporter) rows in any order."""
    reporters: dict[str, set[str]] = {t: set() for t in topics}
    refs: dict[str, list[tuple[str, str]]] = {t: [] for t in topics}
    for sk, ref, row_topics, reporter in rows:
        for topic in row_topics:
            if topic in reporters:
                reporters[topic].add(reporter)
                refs[topic].append((sk, ref))
    return {
        t: Counted(len(reporters[t]), tuple(ref for _, ref in sorted(refs[t])[:limit]))
        for t in topics
    }


def cluster_id(key: ClusterKey, detected_at: datetime) -> str:
    basis = f"{key.name}|{iso(detected_at)}"
    return "cl_" + hashlib.sha256(basis.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Detection:
    episodes: tuple[Episode, ...] = ()
    hold: BatchHold | None = None


def detect(
    store: ClusterStore, feedback: Incoming, c: Classification, outcome: str, now: datetime
) -> Detection:
    """After a report is committed: raise the clusters and the hold it completes, if any.

    Reads: one BatchGetItem for the open markers, then one read of each tally that has a topic
    without an open episode (all its topics at once), and of the batch's food-safety tally.
    Safe to repeat (a replayed event runs it again to finish what a crash may have cut short):
    open episodes and existing holds are skipped, and the markers are conditional writes.
    """
    topics = cluster_topics(c, outcome)
    keys = cluster_keys(feedback, c, outcome)
    hold_batch = feedback.batch_no if c.risk == "high" else None
    if not keys and hold_batch is None:
        return Detection()
    open_keys, held = store.open_markers(keys, hold_batch, now)
    since = now - WINDOW
    found: list[tuple[Episode, DomainEvent]] = []
    for tally in tallies(feedback) if topics else []:
        wanted = [t for t in topics if tally.cluster(t) not in open_keys]
        if not wanted:
            continue
        counted = store.tally(tally, wanted, since, MAX_REFS)
        for topic in wanted:
            seen = counted.get(topic, Counted())
            if seen.reporters < THRESHOLD:
                continue
            found.append(_episode(tally.cluster(topic), seen, feedback, since, now))
    episodes = store.open_episodes(found) if found else ()
    hold: BatchHold | None = None
    if hold_batch is not None and not held:
        since = now - HOLD_LOOKBACK
        seen = store.tally(hold_tally(hold_batch), (FOOD_SAFETY,), since, MAX_REFS).get(
            FOOD_SAFETY, Counted()
        )
        if seen.reporters >= HOLD_REPORTS:
            candidate = BatchHold(
                batch_no=hold_batch,
                reports=seen.reporters,
                feedback_refs=seen.refs,
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


def _episode(
    key: ClusterKey, seen: Counted, feedback: Incoming, since: datetime, now: datetime
) -> tuple[Episode, DomainEvent]:
    episode = Episode(
        cluster_id=cluster_id(key, now),
        key=key,
        count=seen.reporters,
        window_start=since,
        detected_at=now,
        until=now + WINDOW,
        feedback_refs=seen.refs,
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
    return episode, event
