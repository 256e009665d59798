"""ticket.requested -> a ticket, opened once on the member it belongs to now;
member.merged / member.unmerged -> tickets follow the member; member.erased -> they lose the
lineage of the identity that brought them and their free text (subject, notes, root cause)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from omnihub import wiring
from omnihub.backbone import BusEvent
from omnihub.clock import default_clock
from omnihub.consumer import sqs_handler
from omnihub.errors import InvalidInput
from omnihub.events.member import MemberEvent, Merged
from omnihub.observability import powertools
from omnihub.tickets.model import Ticket, ticket_id_for
from omnihub.tickets.service import erase_texts, follow_member, forget_lineage, open_once

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
        via=data.get("via") or None,
    )


def _member(detail: dict[str, Any], event_type: str) -> str:
    """The member whose tickets a member event is about: the absorbed one of a merge, the one
    that lost identities in an un-merge, the erased one."""
    event = MemberEvent.model_validate(detail)
    if event_type == "member.merged":
        return Merged.model_validate(event.data).absorbed_member_id
    return event.member()


def handle(event: BusEvent) -> None:
    store, now = wiring.ticket_store(), default_clock().now()
    kind = event.detail_type
    if kind in ("member.merged", "member.unmerged"):
        member_id = _member(event.detail, kind)
        moved = follow_member(store, wiring.member_store(), member_id)
        logger.info("tickets follow the member", extra={"member_id": member_id, "moved": moved})
        return
    if kind == "member.erased":
        member_id = _member(event.detail, kind)
        cleared = forget_lineage(store, member_id)
        texts = erase_texts(store, member_id)
        logger.info(
            "ticket lineage and texts erased",
            extra={"member_id": member_id, "cleared": cleared, "texts_erased": texts},
        )
        return
    if kind != "ticket.requested":
        raise InvalidInput(f"the tickets consumer does not handle {kind}")
    ticket = open_once(
        store,
        wiring.member_store(),
        draft_from_request(event.detail),
        now,
        event.detail["causing_event_id"],
        policies=wiring.sla_policies(),
    )
    metrics.add_metric(name=f"TicketsOpened_{ticket.priority}", unit=MetricUnit.Count, value=1)
    logger.info("ticket open", extra={"ticket_id": ticket.ticket_id, "priority": ticket.priority})


lambda_handler = sqs_handler(
    handle,
    logger=logger,
    tracer=tracer,
    metrics=metrics,
)
