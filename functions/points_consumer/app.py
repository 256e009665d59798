"""Orders, refunds and activity earn and reverse points; merges move them (SPEC 4.2)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from omnihub import wiring
from omnihub.backbone import BusEvent
from omnihub.clock import default_clock
from omnihub.consumer import sqs_handler
from omnihub.errors import InvalidInput
from omnihub.events.channel import OrderCompleted, OrderPaid, OrderRefunded, PointsActivity
from omnihub.events.envelope import Envelope
from omnihub.identity.resolver import request_for, resolve
from omnihub.observability import powertools
from omnihub.points import ledger
from omnihub.points.ledger import Outcome

logger, tracer, metrics = powertools()


def _member(envelope: Envelope) -> str:
    """Who earns: the member the event's identities resolve to (created if new)."""
    resolution = resolve(wiring.member_store(), request_for(envelope), default_clock())
    if resolution.member_id is None:
        raise InvalidInput(
            "the event names no usable identity to credit",
            details=[{"field": "member.identities"}],
        )
    return resolution.member_id


def handle(event: BusEvent) -> None:
    store, rules, now = wiring.points_store(), wiring.points_rules(), default_clock().now()
    if event.detail_type == "member.merged":
        data = event.detail["data"]
        outcome = ledger.absorb(
            store,
            data["absorbed_member_id"],
            data["survivor_member_id"],
            f"merge:{event.detail['event_id']}",
            rules,
            now,
        )
        _report("merge", outcome)
        return
    envelope = wiring.channel_envelope(event)
    if envelope.type == "order.paid":
        paid = OrderPaid.model_validate(envelope.data)
        outcome = ledger.earn_order(
            store,
            _member(envelope),
            envelope.channel,
            envelope.occurred_at,
            paid.model_dump(),
            rules,
            now,
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
        outcome = ledger.award_activity(
            store,
            _member(envelope),
            activity.activity_id,
            activity.kind,
            envelope.occurred_at,
            rules,
            now,
        )
    else:
        raise InvalidInput(f"the points consumer does not handle {envelope.type}")
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
