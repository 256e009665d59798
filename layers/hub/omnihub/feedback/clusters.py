"""Clusters and batch holds: repeated reports about one thing raise one alarm.

- The same topic on the same SKU, or on the same batch, from at least THRESHOLD reporters within
  the window raises `cluster.detected`, once per episode. The window is WINDOW_DAYS Shanghai
  business days: the day the report is counted on and the six before (docs/decisions.md D89).
  An episode lasts WINDOW from its detection; only after it has passed can the key raise again.
- Food-safety (high-risk) reports on one batch from HOLD_REPORTS reporters within HOLD_QUARTERS
  Shanghai calendar quarters (the quarter counted and the 8 before: at least 730 days, a batch's
  shelf life) raise `batch.hold_requested`, once per batch.

Which reports count: the complaints the classifier read and routing kept as complaints, and
anything with a medium or high risk, with a SKU or a batch. A report counts under EACH of its
problem topics (CLUSTER_TOPICS), and a leak also counts as packaging: three
packaging complaints are a packaging cluster even when two of them are also about leaking.
A text that only stars or tone made a complaint names no topic of its own and counts nowhere.

Reporters, not reports (D50): one customer who sends the same report through two channels, or
twice, is one reporter for each key; a report without a member is its own reporter.

How it counts, exactly and in bounded items: each reporter has one mark per key, the time of
its latest report there. A bucket (day, or quarter for holds) of a tally holds per topic the
number of reporters whose latest report falls in it. A report newer than its reporter's mark
moves the mark and moves one count from the old mark's bucket to its own; an older or equal one
changes nothing. A reporter has a report in the window iff its latest one is in it (the window
runs up to the present), so the window's buckets summed are the distinct reporters.

Race safety: each report's mark and count move are committed with the feedback, in one
transaction conditional on the mark read (a racing report of the same reporter cancels it:
read again and retry), and counted after, with strongly consistent reads. Of any reports racing
under one key the last to commit counts them all, so a threshold is never missed; the episode
marker is a conditional write, so it is never raised twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from omnihub.clock import SHANGHAI, business_date, iso
from omnihub.events.domain import DomainEvent
from omnihub.feedback.classifier import Classification
from omnihub.feedback.model import (
    BatchHold,
    ClusterKey,
    CountChange,
    Episode,
    Incoming,
    Mark,
    MarkKey,
    MarkMove,
    Seen,
    Tally,
)
from omnihub.feedback.ports import ClusterStore

#: Shanghai business days a cluster counts: the day counted on and the six before.
WINDOW_DAYS = 7
#: How long an episode stays open after its detection.
WINDOW = timedelta(days=WINDOW_DAYS)
THRESHOLD = 3
HOLD_REPORTS = 2
#: A batch stays on shelves and in kitchens for up to its shelf life (oil: 18 months): a hold
#: counts the quarter counted on and the 8 before, at least 730 days (quarters, not days or
#: months, so that one read of 7 + 7 + 9 buckets serves a report's SKU, batch and hold).
HOLD_QUARTERS = 9
#: Marks and counts are kept a day past the last window that can read them (TTL is lazy anyway).
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


def counted_keys(feedback: Incoming, c: Classification, outcome: str) -> list[ClusterKey]:
    """Every key a report counts under: its cluster keys, and its batch's hold key when it is
    a food-safety report."""
    keys = cluster_keys(feedback, c, outcome)
    if c.risk == "high" and feedback.batch_no:
        keys.append(hold_key(feedback.batch_no))
    return keys


def tally_of(key: ClusterKey) -> Tally:
    if key.topic == FOOD_SAFETY:
        return hold_tally(key.key)
    return Tally(key.scope, key.key)


def _quarter(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def _months_back(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def bucket_of(tally: Tally, at: datetime) -> date:
    """The bucket a report falls in: its Shanghai day, or (holds) the first day of its
    quarter."""
    day = business_date(at)
    return _quarter(day) if tally.kind == "food_safety" else day


def window(tally: Tally, now: datetime, at: datetime) -> tuple[date, ...]:
    """The buckets a count at `now` sums, oldest first: WINDOW_DAYS days (HOLD_QUARTERS quarters),
    running up to the present, or to the report's own bucket should its receipt be stamped
    ahead of this clock, so every counted mark is inside it."""
    end = max(bucket_of(tally, now), bucket_of(tally, at))
    if tally.kind == "food_safety":
        first = _months_back(bucket_of(tally, now), 3 * (HOLD_QUARTERS - 1))
        found = [first]
        while found[-1] < end:
            found.append(_months_back(found[-1], -3))
        return tuple(found)
    first = bucket_of(tally, now) - timedelta(days=WINDOW_DAYS - 1)
    return tuple(first + timedelta(days=n) for n in range((end - first).days + 1))


def bucket_start(bucket: date) -> datetime:
    """The instant a bucket begins (Shanghai midnight)."""
    return datetime.combine(bucket, datetime.min.time(), tzinfo=SHANGHAI)


def keep_until(tally: Tally, bucket: date) -> datetime:
    """When a bucket's count, and the marks in it, can no longer be read by any window."""
    if tally.kind == "food_safety":
        return bucket_start(_months_back(bucket, -3 * HOLD_QUARTERS)) + KEEP_SLACK
    return bucket_start(bucket) + timedelta(days=WINDOW_DAYS) + KEEP_SLACK


def plan_marks(
    keys: Sequence[ClusterKey], reporter: str, seen: Mapping[MarkKey, Mark], feedback: Incoming
) -> tuple[MarkMove, ...]:
    """The marks this report moves: under each key where its reporter has no mark or an older
    one. A replay, or an older report arriving late, moves none."""
    mark = Mark(feedback.received_at, feedback.ref)
    moves = []
    for key in keys:
        at = MarkKey(key, reporter)
        read = seen.get(at)
        if read is None or read.at < mark.at:
            tally = tally_of(key)
            moves.append(MarkMove(at, read, mark, keep_until(tally, bucket_of(tally, mark.at))))
    return tuple(moves)


def count_changes(moves: Sequence[MarkMove]) -> tuple[CountChange, ...]:
    """The count moves of a report's mark moves, one change per bucket (an item is written
    once per transaction): +1 in the new mark's bucket, -1 in the old one's when it differs."""
    deltas: dict[tuple[Tally, date], dict[str, int]] = {}
    for move in moves:
        tally, topic = tally_of(move.key.key), move.key.key.topic
        new = bucket_of(tally, move.mark.at)
        old = bucket_of(tally, move.read.at) if move.read is not None else None
        if old == new:
            continue
        into = deltas.setdefault((tally, new), {})
        into[topic] = into.get(topic, 0) + 1
        if old is not None:
            out = deltas.setdefault((tally, old), {})
            out[topic] = out.get(topic, 0) - 1
    return tuple(
        CountChange(tally, bucket, tuple(sorted(nonzero.items())), keep_until(tally, bucket))
        for (tally, bucket), topics in sorted(deltas.items())
        if (nonzero := {t: n for t, n in topics.items() if n})
    )


def cluster_id(key: ClusterKey, detected_at: datetime) -> str:
    basis = f"{key.name}|{iso(detected_at)}"
    return "cl_" + hashlib.sha256(basis.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Detection:
    episodes: tuple[Episode, ...] = ()
    hold: BatchHold | None = None


def detect(
    store: ClusterStore,
    feedback: Incoming,
    c: Classification,
    outcome: str,
    now: datetime,
    seen: Seen,
) -> Detection:
    """After a report is committed: raise the clusters and the hold it completes, if any.

    `seen` is what was read before the commit (open episodes, hold): a marker taken since only
    makes its conditional write fail. Reads: one strongly consistent read of the window's
    buckets of every tally that has a topic without an open episode (and of the batch's
    food-safety quarters unless held), all at once; a key that reaches its threshold adds one
    read of its marks for the references. Safe to repeat (a replayed event runs it again to
    finish what a crash may have cut short): the markers are conditional writes.
    """
    topics = cluster_topics(c, outcome)
    hold_batch = feedback.batch_no if c.risk == "high" and not seen.held else None
    wanted: dict[Tally, list[str]] = {}
    for tally in tallies(feedback) if topics else []:
        open_ = [t for t in topics if tally.cluster(t) not in seen.open_keys]
        if open_:
            wanted[tally] = open_
    windows = {tally: window(tally, now, feedback.received_at) for tally in wanted}
    if hold_batch is not None:
        windows[hold_tally(hold_batch)] = window(hold_tally(hold_batch), now, feedback.received_at)
    if not windows:
        return Detection()
    counted = store.count(windows)
    found: list[tuple[Episode, DomainEvent]] = []
    for tally, names in wanted.items():
        since = bucket_start(windows[tally][0])
        for topic in names:
            reporters = counted.get(tally, {}).get(topic, 0)
            if reporters < THRESHOLD:
                continue
            key = tally.cluster(topic)
            refs = store.refs(key, since, MAX_REFS)
            found.append(_episode(key, reporters, refs, feedback, since, now))
    episodes = store.open_episodes(found) if found else ()
    hold: BatchHold | None = None
    if hold_batch is not None:
        tally = hold_tally(hold_batch)
        reporters = counted.get(tally, {}).get(FOOD_SAFETY, 0)
        if reporters >= HOLD_REPORTS:
            since = bucket_start(windows[tally][0])
            candidate = BatchHold(
                batch_no=hold_batch,
                reports=reporters,
                feedback_refs=store.refs(hold_key(hold_batch), since, MAX_REFS),
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
    key: ClusterKey,
    reporters: int,
    refs: tuple[str, ...],
    feedback: Incoming,
    since: datetime,
    now: datetime,
) -> tuple[Episode, DomainEvent]:
    episode = Episode(
        cluster_id=cluster_id(key, now),
        key=key,
        count=reporters,
        window_start=since,
        detected_at=now,
        until=now + WINDOW,
        feedback_refs=refs,
        sku=feedback.sku,
        batch_no=feedback.batch_no if key.scope == "batch" else None,
    )
    event = DomainEvent(
        type="cluster.detected",
        member_id=None,
        causing_event_id=feedback.causing_event_id,
        occurred_at=now,
        data={**episode.view(), "threshold": THRESHOLD, "window_days": WINDOW_DAYS},
        subject=episode.cluster_id,
    )
    return episode, event
