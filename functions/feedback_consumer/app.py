"""feedback.received -> classify, keep on the member's file, route, count clusters;
member.merged / member.unmerged -> the member's feedback follows the identity that brought it;
member.erased -> it loses its texts and that lineage."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from omnihub import wiring
from omnihub.backbone import BusEvent
from omnihub.clock import default_clock
from omnihub.consumer import sqs_handler
from omnihub.errors import InvalidInput
from omnihub.events.channel import FeedbackReceived
from omnihub.events.envelope import Envelope
from omnihub.events.member import IDENTITY_SOURCE, MemberEvent, Merged, Unmerged
from omnihub.feedback.model import Incoming
from omnihub.feedback.service import follow_member, forget, receive
from omnihub.identity.resolver import request_for, resolve
from omnihub.observability import powertools

logger, tracer, metrics = powertools()


def _incoming(envelope: Envelope, data: FeedbackReceived) -> Incoming:
    return Incoming(
        channel=envelope.channel,
        feedback_id=data.feedback_id,
        text=data.text,
        kind=data.kind,
        causing_event_id=envelope.causing_event_id,
        occurred_at=envelope.occurred_at,
        received_at=envelope.received_at,
        order_id=data.order_id,
        sku=data.sku,
        batch_no=data.batch_no,
        rating=data.rating,
    )


def _count(name: str, value: int = 1) -> None:
    if value:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def handle_feedback(event: BusEvent) -> None:
    envelope = wiring.channel_envelope(event)
    if envelope.type != "feedback.received":
        raise InvalidInput(f"the feedback consumer does not handle {envelope.type}")
    data = FeedbackReceived.model_validate(envelope.data)
    members = wiring.member_store()
    clock = default_clock()
    request = request_for(envelope)
    received = receive(
        wiring.feedback_store(),
        _incoming(envelope, data),
        lambda: resolve(members, request, clock, ids=wiring.member_ids()),
        clock,
        wiring.knowledge_base(),
    )
    c, route, found = received.classification, received.route, received.detection
    # The text and the evidence terms are the customer's words: they never reach a log line.
    logger.info(
        "feedback routed" if received.recorded else "feedback seen before; nothing changed",
        extra={
            "feedback_id": data.feedback_id,
            "member_id": received.member_id,
            "kind": data.kind,
            "intent": c.intent,
            "sentiment": c.sentiment,
            "risk": c.risk,
            "topics": c.topics,
            "outcome": route.outcome,
            "reading": route.reading,
            "priority": route.priority,
            "knowledge_entry": route.knowledge_entry,
            "clusters_detected": [e.cluster_id for e in found.episodes],
            "batch_hold_requested": found.hold is not None,
        },
    )
    if received.recorded:
        _count("FeedbackRecorded")
        if route.ticket is not None:
            _count(f"TicketsRequested{route.ticket.priority}")
        _count("FoodSafetyAlerts", int(route.alert))
        _count("KnowledgeAnswers", int(route.outcome == "knowledge_answer"))
        _count("Suggestions", int(route.board))
    else:
        _count("FeedbackDuplicates")
    _count("ClustersDetected", len(found.episodes))
    _count("BatchHoldsRequested", int(found.hold is not None))


def handle_member_event(event: BusEvent) -> None:
    detail = MemberEvent.model_validate(event.detail)
    store = wiring.feedback_store()
    if detail.type == "member.merged":
        merged = Merged.model_validate(detail.data)
        moved = follow_member(store, wiring.member_store(), merged.absorbed_member_id)
        logger.info(
            "feedback followed a merge",
            extra={
                "member_id": merged.survivor_member_id,
                "absorbed_member_id": merged.absorbed_member_id,
                "feedback_moved": moved,
            },
        )
        _count("FeedbackMoved", moved)
    elif detail.type == "member.unmerged":
        member_id = detail.member()
        moved = follow_member(store, wiring.member_store(), member_id)
        logger.info(
            "feedback followed an un-merge",
            extra={
                "member_id": member_id,
                "new_member_id": Unmerged.model_validate(detail.data).new_member_id,
                "feedback_moved": moved,
            },
        )
        _count("FeedbackMoved", moved)
    elif detail.type == "member.erased":
        redacted = forget(store, detail.member(), default_clock())
        logger.info(
            "feedback texts erased",
            extra={"member_id": detail.member_id, "feedback_redacted": redacted},
        )
        _count("FeedbackRedacted", redacted)
    else:
        raise InvalidInput(f"the feedback consumer does not handle {detail.type}")


def handle(event: BusEvent) -> None:
    if event.source == IDENTITY_SOURCE:
        handle_member_event(event)
    else:
        handle_feedback(event)


lambda_handler = sqs_handler(
    handle,
    logger=logger,
    tracer=tracer,
    metrics=metrics,
)
