"""Event-log stream -> bus: every inserted row (channel or domain event) is published once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from omnihub import wiring
from omnihub.backbone import forward
from omnihub.observability import powertools

logger, tracer, metrics = powertools()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records", [])
    failed = forward(records, wiring.publisher().publish)
    metrics.add_metric(
        name="EventsPublished", unit=MetricUnit.Count, value=len(records) - len(failed)
    )
    if failed:
        logger.warning(
            "bus refused entries; the stream will retry them", extra={"failed": len(failed)}
        )
        metrics.add_metric(name="PublishFailures", unit=MetricUnit.Count, value=len(failed))
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}
