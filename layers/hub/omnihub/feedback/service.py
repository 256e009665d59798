"""The feedback capability's use cases: receive a piece of feedback; follow merges, un-merges
and erasure.

`receive` classifies and routes once (both pure), reads its reporter's marks (with the open
episodes, in one read), then writes the feedback record, its mark moves and count changes and its
routing events in one transaction that is conditional on the feedback being new, on its member
still being live and on the marks being as read. A replay writes nothing and publishes nothing; a
member merged or erased meanwhile, or a racing report of the same reporter, is read again.
Cluster and hold detection follow the commit (see `clusters`), also on a replay, so a crash
between the two is finished by the redelivery.

The record keeps `via`, the lineage of the identity that brought it (`Resolution.via`). Merges
and un-merges both move each feedback to where that lineage belongs now (`follow_member`), so
they commute and a late or repeated event moves nothing back; erasure drops texts and lineage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from omnihub.clock import Clock
from omnihub.errors import ConcurrentChange
from omnihub.feedback.classifier import Classification, classify
from omnihub.feedback.clusters import (
    Detection,
    cluster_keys,
    count_changes,
    counted_keys,
    detect,
    plan_marks,
    reporter_of,
)
from omnihub.feedback.knowledge import KnowledgeBase, default_knowledge_base
from omnihub.feedback.model import FeedbackRecord, FeedbackWrite, Incoming, MarkKey, Seen
from omnihub.feedback.ports import FeedbackStore
from omnihub.feedback.routing import Route, route, routing_events
from omnihub.identity.chain import live_root, rightful_root
from omnihub.identity.ports import MemberStore
from omnihub.identity.resolver import Resolution

MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Received:
    """What receiving one piece of feedback did (for logs and metrics: no text in here)."""

    recorded: bool
    member_id: str | None
    classification: Classification
    route: Route
    detection: Detection


def _who(found: Resolution | str | None) -> tuple[str | None, str | None]:
    """The member and the lineage that brought the feedback; a bare id carries no lineage."""
    if isinstance(found, Resolution):
        return found.member_id, found.via
    return found, None


def receive(
    store: FeedbackStore,
    feedback: Incoming,
    member_of: Callable[[], Resolution | str | None],
    clock: Clock,
    kb: KnowledgeBase | None = None,
) -> Received:
    """Keep, route and count one piece of feedback; safe to repeat and to run concurrently.

    `member_of` resolves the event's identities to a member (the identity resolver's
    Resolution, whose `via` the record and its ticket request keep); it is called again when
    the member was merged or erased between resolving and writing.
    """
    c = classify(feedback.text)
    decided = route(c, feedback, kb or default_knowledge_base())
    for _ in range(MAX_ATTEMPTS):
        member_id, via = _who(member_of())
        now = clock.now()
        record = FeedbackRecord(
            incoming=feedback,
            member_id=member_id,
            classification=c,
            outcome=decided.outcome,
            priority=decided.priority,
            knowledge_entry=decided.knowledge_entry,
            on_board=decided.board,
            via=via,
        )
        events = tuple(routing_events(decided, c, feedback, member_id, now, via))
        try:
            reporter = reporter_of(feedback, member_id)
            keys = counted_keys(feedback, c, decided.outcome)
            seen = _look(store, feedback, c, decided.outcome, reporter, now)
            moves = plan_marks(keys, reporter, seen.marks, feedback)
            write = FeedbackWrite(record, moves, count_changes(moves), events)
            recorded = store.record(write)
        except ConcurrentChange:
            continue
        detection = detect(store, feedback, c, decided.outcome, clock.now(), seen)
        return Received(recorded, member_id, c, decided, detection)
    raise ConcurrentChange("the feedback's member kept changing; the event will be retried")


def _look(
    store: FeedbackStore,
    feedback: Incoming,
    c: Classification,
    outcome: str,
    reporter: str,
    now: datetime,
) -> Seen:
    """The reporter's marks under every key the report counts under, and the open markers:
    one read, none for a report that counts nowhere."""
    keys = counted_keys(feedback, c, outcome)
    if not keys:
        return Seen()
    hold_batch = feedback.batch_no if c.risk == "high" else None
    return store.look(
        [MarkKey(k, reporter) for k in keys], cluster_keys(feedback, c, outcome), hold_batch, now
    )


def follow_member(store: FeedbackStore, members: MemberStore, member_id: str) -> int:
    """Feedback follows the member: each feedback recorded on `member_id` moves to
    where its lineage belongs now (`rightful_root`, to the live end of any merge chain). After a
    merge `member_id` is the absorbed member, after an un-merge the one that lost identities.
    Onto an erased member it loses its text and lineage. Idempotent."""
    return store.move_feedback(
        member_id, lambda via: live_root(members, rightful_root(members, via, member_id))
    )


def forget(store: FeedbackStore, member_id: str, clock: Clock) -> int:
    """Erasure (一键退会): the texts and the lineage go (an identity freed now and claimed by
    someone else later must not pull this feedback along), the anonymous readings stay."""
    return store.redact_feedback(member_id, clock.now())
