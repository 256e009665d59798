"""Orders, refunds and activity earn and reverse points; merges and un-merges move them, erasure
drops the orders' lineage."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from omnihub import wiring
from omnihub.backbone import BusEvent
from omnihub.clock import default_clock
from omnihub.consumer import sqs_handler
from omnihub.errors import InvalidInput
from omnihub.events.channel import OrderCompleted, OrderPaid, OrderRefunded, PointsActivity
from omnihub.events.envelope import Envelope
from omnihub.events.member import IDENTITY_SOURCE, MemberEvent, Merged, Unmerged
from omnihub.identity.model import IdentityChange
from omnihub.identity.resolver import Resolution, request_for, resolve
from omnihub.observability import powertools
from omnihub.points import ledger, merges
from omnihub.points.ledger import Outcome

logger, tracer, metrics = powertools()


def _member(envelope: Envelope) -> Resolution:
    """Who earns: the member the event's identities resolve to (created if new), and the
    identity that brought the event."""
    resolution = resolve(
        wiring.member_store(), request_for(envelope), default_clock(), ids=wiring.member_ids()
    )
    if resolution.member_id is None:
        raise InvalidInput(
            "the event names no usable identity to credit",
            details=[{"field": "member.identities"}],
        )
    return resolution


def handle_member_event(event: BusEvent) -> None:
    store, rules, now = wiring.points_store(), wiring.points_rules(), default_clock().now()
    members = wiring.member_store()
    detail = MemberEvent.model_validate(event.detail)
    if detail.type == "member.merged":
        merged = Merged.model_validate(detail.data)
        outcome = merges.absorb(
            store,
            merged.absorbed_member_id,
            merged.survivor_member_id,
            f"merge:{detail.event_id}",
            rules,
            now,
            members=members,
        )
        _report("merge", outcome)
        return
    if detail.type == "member.unmerged":
        split = Unmerged.model_validate(detail.data)
        moved = merges.follow_unmerge(
            store, members, detail.member(), split.new_member_id, split.lineage, rules, now
        )
        logger.info("points followed an un-merge", extra={"orders_moved": moved})
        metrics.add_metric(name="PointsOrdersUnmerged", unit=MetricUnit.Count, value=moved)
    elif detail.type == "member.erased":
        cleared = merges.forget_lineage(store, detail.member())
        logger.info("orders forgot their lineage", extra={"orders": cleared})
    else:
        raise InvalidInput(f"the points consumer does not handle {detail.type}")


def handle(event: BusEvent) -> None:
    if event.source == IDENTITY_SOURCE:
        handle_member_event(event)
        return
    store, rules, now = wiring.points_store(), wiring.points_rules(), default_clock().now()
    envelope = wiring.channel_envelope(event)
    if envelope.type == "order.paid":
        paid = OrderPaid.model_validate(envelope.data)
        who = _member(envelope)
        assert who.member_id is not None
        outcome = ledger.earn_order(
            store,
            who.member_id,
            envelope.channel,
            envelope.occurred_at,
            paid.model_dump(),
            rules,
            now,
            via=who.via,
            members=wiring.member_store(),
        )
    elif envelope.type == "order.completed":
        completed = OrderCompleted.model_validate(envelope.data)
        outcome = ledger.complete_order(store, completed.order_id, envelope.occurred_at, rules)
    elif envelope.type == "order.refunded":
        refund = OrderRefunded.model_validate(envelope.data)
        lines: dict[str, int] = {}
        for line in refund.lines:
            lines[line.line_id] = lines.get(line.line_id, 0) + line.amount_fen
        outcome = ledger.refund_order(store, refund.order_id, refund.refund_id, lines, rules, now)
    elif envelope.type == "points.activity":
        activity = PointsActivity.model_validate(envelope.data)
        who = _member(envelope)
        assert who.member_id is not None
        outcome = ledger.award_activity(
            store,
            who.member_id,
            activity.activity_id,
            activity.kind,
            envelope.occurred_at,
            rules,
            now,
            members=wiring.member_store(),
        )
    else:
        raise InvalidInput(f"the points consumer does not handle {envelope.type}")
    if outcome.cases:  # after the points commit; an upsert, so a redelivery heals a crash
        wiring.member_store().commit(IdentityChange(review_cases=list(outcome.cases)))
    if outcome.status == "refused" or (outcome.status == "applied" and outcome.cases):
        metrics.add_metric(
            name="PointsRefundsRefused", unit=MetricUnit.Count, value=len(outcome.cases)
        )
    _report(envelope.type, outcome)


def _report(kind: str, outcome: Outcome) -> None:
    logger.info(
        "points " + outcome.status,
        extra={"kind": kind, "member_id": outcome.member_id, "points": outcome.points},
    )
    if outcome.status == "duplicate":
        metrics.add_metric(name="PointsDuplicatesIgnored", unit=MetricUnit.Count, value=1)


lambda_handler = sqs_handler(
    handle,
    logger=logger,
    tracer=tracer,
    metrics=metrics,
)
