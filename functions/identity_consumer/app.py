"""member.identified -> one member (create, attach, merge); member.erasure_requested -> erase
the one member its merge-capable identities name (or open a review case)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from omnihub import wiring
from omnihub.backbone import BusEvent
from omnihub.clock import default_clock
from omnihub.consumer import sqs_handler
from omnihub.errors import InvalidInput
from omnihub.identity.admin import erase_by_identities
from omnihub.identity.resolver import request_for, resolve, usable_identities
from omnihub.observability import powertools

logger, tracer, metrics = powertools()


def handle(event: BusEvent) -> None:
    envelope = wiring.channel_envelope(event)
    store = wiring.member_store()
    if envelope.type == "member.identified":
        resolution = resolve(store, request_for(envelope), default_clock(), ids=wiring.member_ids())
        logger.info(
            "identities resolved",
            extra={
                "member_id": resolution.member_id,
                "member_created": resolution.created,
                "members_merged": len(resolution.merged),
                "identities_attached": len(resolution.attached),
                "review_cases_opened": len(resolution.review_cases),
                "placeholders_ignored": resolution.placeholders,
            },
        )
        for name, count in (
            ("MembersCreated", int(resolution.created)),
            ("MembersMerged", len(resolution.merged)),
            ("ReviewCasesOpened", len(resolution.review_cases)),
            ("PlaceholdersIgnored", resolution.placeholders),
        ):
            if count:
                metrics.add_metric(name=name, unit=MetricUnit.Count, value=count)
    elif envelope.type == "member.erasure_requested":
        refs = [i.ref for i in usable_identities(envelope.member.identities)]
        erasure = erase_by_identities(
            store,
            refs,
            envelope.causing_event_id,
            default_clock(),
            wiring.event_log().forget_identities,
        )
        logger.info(
            "erasure requested",
            extra={"member_erased": erasure.erased, "review_case": erasure.review_case},
        )
        if erasure.review_case:
            metrics.add_metric(name="ReviewCasesOpened", unit=MetricUnit.Count, value=1)
    else:
        raise InvalidInput(f"the identity consumer does not handle {envelope.type}")


lambda_handler = sqs_handler(
    handle,
    logger=logger,
    tracer=tracer,
    metrics=metrics,
)
