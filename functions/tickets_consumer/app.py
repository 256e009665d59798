"""ticket.requested -> a ticket, opened once; member.merged -> tickets follow the survivor."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from omnihub import wiring
from omnihub.backbone import BusEvent
from omnihub.clock import default_clock
from omnihub.consumer import sqs_handler
from omnihub.errors import InvalidInput
from omnihub.observability import powertools
from omnihub.tickets.model import Ticket, ticket_id_for
from omnihub.tickets.service import move_to_survivor, open_once

logger, tracer, metrics = powertools()


def draft_from_request(detail: dict[str, Any]) -> Ticket:
    """The ticket a feedback route asked for (see omnihub.feedback.routing)."""
    data = detail["data"]
    if data.get("priority") not in ("P1", "P2", "P3"):
        raise InvalidInput(
            "a ticket request needs priority P1, P2 or P3", details=[{"field": "data.priority"}]
        )
    responder = data.get("first_responder") or None
    return Ticket(
        ticket_id=ticket_id_for(detail["causing_event_id"]),
        member_id=data.get("member_id") or detail.get("member_id"),
        channel=data.get("channel") or "unknown",
        priority=data["priority"],
        created_at="",
        opened_by="feedback-routing",
        source="feedback",
        first_responder=(
            f"{responder['role']}:{responder.get('id') or responder.get('channel')}"
            if responder
            else None
        ),
        subject=", ".join(data.get("topics", [])),
        feedback_id=data.get("feedback_id"),
        risk=data.get("risk"),
        topics=tuple(data.get("topics", [])),
        sku=data.get("sku"),
        batch_no=data.get("batch_no"),
        order_id=data.get("order_id"),
    )


def handle(event: BusEvent) -> None:
    store, now = wiring.ticket_store(), default_clock().now()
    if event.detail_type == "member.merged":
        data = event.detail["data"]
        moved = move_to_survivor(store, data["absorbed_member_id"], data["survivor_member_id"])
        logger.info("tickets follow a merge", extra={"moved": moved})
        return
    if event.detail_type != "ticket.requested":
        raise InvalidInput(f"the tickets consumer does not handle {event.detail_type}")
    ticket = open_once(
        store, draft_from_request(event.detail), now, event.detail["causing_event_id"]
    )
    metrics.add_metric(name=f"TicketsOpened_{ticket.priority}", unit=MetricUnit.Count, value=1)
    logger.info("ticket open", extra={"ticket_id": ticket.ticket_id, "priority": ticket.priority})


lambda_handler = sqs_handler(
    handle,
    logger=logger,
    tracer=tracer,
    metrics=metrics,
)
