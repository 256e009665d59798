"""POST /v1/channels/{channel}/events: verify, validate, protect and log a channel event once."""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from omnihub import wiring
from omnihub.api.http import JSON, build_resolver
from omnihub.api.openapi import channel_event_doc
from omnihub.channels import CHANNELS
from omnihub.clock import default_clock, wall_clock
from omnihub.errors import HubError
from omnihub.observability import powertools
from omnihub.settings import settings
from omnihub.webhook.intake import Intake, accept

logger, tracer, metrics = powertools()
app = build_resolver(logger)


def _raw_body() -> bytes:
    """The exact bytes the channel signed (API Gateway may hand them over base64-encoded)."""
    event = app.current_event.raw_event
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")


def _count(name: str, channel: str) -> None:
    """One EMF line per answer, with the channel as its dimension (bounded: 11 channels)."""
    dimension = channel if channel in CHANNELS else "unknown"
    with single_metric(
        name=name, unit=MetricUnit.Count, value=1, default_dimensions={"channel": dimension}
    ):
        pass


@app.post("/v1/channels/<channel>/events", **channel_event_doc())
def channel_event(channel: str) -> Response[str]:
    intake = Intake(
        secret_for=wiring.channel_secret,
        previous_secret_for=wiring.channel_previous_secret,
        channel_rules=wiring.channel_rules,
        vault=wiring.vault,
        log=wiring.event_log(),
        clock=default_clock(),
        wall_clock=wall_clock(),
        extra_placeholders=settings().extra_placeholders,
    )
    signature = app.current_event.headers.get("x-omni-signature")
    try:
        result = accept(intake, channel, signature, _raw_body())
    except HubError as error:
        logger.info("channel event rejected", extra={"code": error.code, "channel": channel})
        _count(f"EventsRejected_{error.code}", channel)
        raise
    logger.append_keys(channel=channel, event_id=result.event_id, event_type=result.type)
    logger.info("channel event " + result.status)
    _count("EventsAccepted" if result.status == "accepted" else "EventsDuplicate", channel)
    return Response(
        status_code=202 if result.status == "accepted" else 200,
        content_type=JSON,
        body=json.dumps({"event_id": result.event_id, "status": result.status}),
    )


@logger.inject_lambda_context(clear_state=True)  # no event id of the last request lingers
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result: dict[str, Any] = app.resolve(event, context)
    return result
