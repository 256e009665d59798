"""The feedback capability's use cases: receive a piece of feedback; follow merges and erasure.

`receive` classifies and routes once (both pure), then writes the feedback record, its cluster
observations and its routing events in one transaction that is conditional on the feedback being
new and on its member still being live. A replay writes nothing and publishes nothing; a member
merged or erased meanwhile is resolved again. Cluster and hold detection follow the commit (see
`clusters`), also on a replay, so a crash between the two is finished by the redelivery.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from omnihub.clock import Clock
from omnihub.errors import ConcurrentChange
from omnihub.feedback.classifier import Classification, classify
from omnihub.feedback.clusters import Detection, detect, observations
from omnihub.feedback.knowledge import KnowledgeBase, default_knowledge_base
from omnihub.feedback.model import FeedbackRecord, FeedbackWrite, Incoming
from omnihub.feedback.ports import FeedbackStore
from omnihub.feedback.routing import Route, route, routing_events
from omnihub.identity.chain import live_root
from omnihub.identity.ports import MemberStore

MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Received:
    """What receiving one piece of feedback did (for logs and metrics: no text in here)."""

    recorded: bool
    member_id: str | None
    classification: Classification
    route: Route
    detection: Detection


def receive(
    store: FeedbackStore,
    feedback: Incoming,
    member_of: Callable[[], str | None],
    clock: Clock,
    kb: KnowledgeBase | None = None,
) -> Received:
    """Keep, route and count one piece of feedback; safe to repeat and to run concurrently.

    `member_of` resolves the event's identities to a member (the identity resolver); it is
    called again when the member was merged or erased between resolving and writing.
    """
    c = classify(feedback.text)
    decided = route(c, feedback, kb or default_knowledge_base())
    counted = observations(feedback, c)
    for _ in range(MAX_ATTEMPTS):
        member_id = member_of()
        now = clock.now()
        record = FeedbackRecord(
            incoming=feedback,
            member_id=member_id,
            classification=c,
            outcome=decided.outcome,
            priority=decided.priority,
            knowledge_entry=decided.knowledge_entry,
            on_board=decided.board,
        )
        events = tuple(routing_events(decided, c, feedback, member_id, now))
        try:
            recorded = store.record(FeedbackWrite(record, counted, events))
        except ConcurrentChange:
            continue
        detection = detect(store, feedback, c, clock.now())
        return Received(recorded, member_id, c, decided, detection)
    raise ConcurrentChange("the feedback's member kept changing; the event will be retried")


def follow_merge(store: FeedbackStore, members: MemberStore, absorbed: str, survivor: str) -> int:
    """Feedback follows the member (SPEC 4.1): move the absorbed member's feedback to where the
    survivor is now (it may itself have merged on since). Idempotent."""
    return store.move_feedback(absorbed, lambda: live_root(members, survivor))


def forget(store: FeedbackStore, member_id: str, clock: Clock) -> int:
    """Erasure (一键退会): the texts go, the anonymous readings stay for the statistics."""
    return store.redact_feedback(member_id, clock.now())
