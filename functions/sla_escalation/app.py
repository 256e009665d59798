"""sla-escalation, every minute: warn at 75% and escalate at breach, reading only what is due."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from omnihub import wiring
from omnihub.clock import default_clock
from omnihub.observability import powertools
from omnihub.tickets.service import SHARDS, sweep_shard

logger, tracer, metrics = powertools()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = default_clock().now()
    read = changed = 0
    for shard in range(SHARDS):
        r, c = sweep_shard(wiring.ticket_store(), shard, now)
        read, changed = read + r, changed + c
    metrics.add_metric(name="TicketsDueRead", unit=MetricUnit.Count, value=read)
    metrics.add_metric(name="TicketsEscalatedOrWarned", unit=MetricUnit.Count, value=changed)
    logger.info("sla sweep", extra={"due": read, "changed": changed})
    return {"due": read, "changed": changed}
