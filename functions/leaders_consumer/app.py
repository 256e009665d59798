"""Leaders register; orders bind members and earn, complete and refund commission; ratings feed
the leaders' NPS; merges and un-merges move bindings, erasure clears their lineage."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from omnihub import wiring
from omnihub.adapters.leaders_store import commission_scheme, leaders_store
from omnihub.backbone import BusEvent
from omnihub.clock import default_clock
from omnihub.consumer import sqs_handler
from omnihub.errors import InvalidInput
from omnihub.events.channel import (
    FeedbackReceived,
    LeaderRegistered,
    OrderCompleted,
    OrderPaid,
    OrderRefunded,
)
from omnihub.events.envelope import Envelope
from omnihub.events.member import MEMBER_EVENTS, MemberEvent, Merged, Unmerged
from omnihub.identity.resolver import request_for, resolve
from omnihub.leaders import binding, orders
from omnihub.leaders.booking import Outcome
from omnihub.leaders.orders import PaidLine, Payment
from omnihub.leaders.ratings import record_rating
from omnihub.observability import powertools

logger, tracer, metrics = powertools()


def _resolved(envelope: Envelope) -> tuple[str, str | None]:
    """Whose event it is: the member its identities resolve to (created if new), and the
    lineage of the identity that brought it."""
    resolution = resolve(
        wiring.member_store(), request_for(envelope), default_clock(), ids=wiring.member_ids()
    )
    if resolution.member_id is None:
        raise InvalidInput(
            "the event names no usable identity", details=[{"field": "member.identities"}]
        )
    return resolution.member_id, resolution.via


def _member_event(event: BusEvent) -> Outcome:
    store, members, now = leaders_store(), wiring.member_store(), default_clock().now()
    detail = MemberEvent.model_validate(event.detail)
    if event.detail_type == "member.merged":
        absorbed = Merged.model_validate(detail.data).absorbed_member_id
        return binding.follow_merge(store, members, absorbed, detail.event_id, now)
    if event.detail_type == "member.unmerged":
        new_id = Unmerged.model_validate(detail.data).new_member_id
        return binding.follow_unmerge(store, members, detail.member(), new_id, detail.event_id, now)
    return binding.follow_erasure(store, detail.member())


def handle(event: BusEvent) -> None:
    if event.detail_type in MEMBER_EVENTS:
        _report(event.detail_type, _member_event(event))
        return
    store, members, now = leaders_store(), wiring.member_store(), default_clock().now()
    envelope = wiring.channel_envelope(event)
    scheme = commission_scheme()
    if envelope.type == "order.paid":
        paid = OrderPaid.model_validate(envelope.data)
        buyer, via = _resolved(envelope)
        payment = Payment(
            order_id=paid.order_id,
            member_id=buyer,
            channel=envelope.channel,
            paid_at=envelope.occurred_at,
            lines=[PaidLine(i.line_id, i.category, i.paid_fen) for i in paid.items],
            leader_link=paid.leader_id,
            cause=envelope.causing_event_id,
            via=via,
        )
        outcome = orders.record_payment(store, members, payment, scheme, now)
    elif envelope.type == "order.completed":
        completed = OrderCompleted.model_validate(envelope.data)
        outcome = orders.record_completion(
            store, completed.order_id, envelope.occurred_at, scheme, now
        )
    elif envelope.type == "order.refunded":
        refund = OrderRefunded.model_validate(envelope.data)
        lines: dict[str, int] = {}
        for line in refund.lines:
            lines[line.line_id] = lines.get(line.line_id, 0) + line.amount_fen
        outcome = orders.record_refund(store, refund.order_id, refund.refund_id, lines, scheme, now)
    elif envelope.type == "leader.registered":
        leader = LeaderRegistered.model_validate(envelope.data)
        own, _ = _resolved(envelope)
        outcome, counted = binding.register_leader(
            store,
            leader.leader_id,
            leader.name,
            leader.community,
            own,
            envelope.occurred_at,
            scheme,
            now,
            members,
        )
        if counted:
            metrics.add_metric(name="WaitingOrdersCounted", unit=MetricUnit.Count, value=counted)
    elif envelope.type == "feedback.received":
        feedback = FeedbackReceived.model_validate(envelope.data)
        if feedback.rating is None:
            return  # only ratings feed the leaders' NPS
        rater = resolve(members, request_for(envelope), default_clock(), ids=wiring.member_ids())
        if rater.member_id is None:
            return  # an anonymous rating is nobody's customer
        outcome = record_rating(
            store,
            members,
            rater.member_id,
            rater.via,
            envelope.causing_event_id,
            feedback.rating,
            envelope.occurred_at,
        )
    else:
        raise InvalidInput(f"the leaders consumer does not handle {envelope.type}")
    _report(envelope.type, outcome)


def _report(kind: str, outcome: Outcome) -> None:
    logger.info(
        "commission " + outcome.status,
        extra={"kind": kind, "leader_id": outcome.leader_id, "fen": outcome.fen},
    )
    metrics.add_metric(name=f"Leaders_{outcome.status}", unit=MetricUnit.Count, value=1)


lambda_handler = sqs_handler(
    handle,
    logger=logger,
    tracer=tracer,
    metrics=metrics,
)
