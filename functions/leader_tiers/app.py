"""leader-tiers (the 1st of each month, 08:00 Asia/Shanghai): queue the review of last month's
leader tiers, one work message per shard."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from omnihub.adapters.work_queue import queue_work
from omnihub.clock import default_clock
from omnihub.leaders.days import ACTIVE_SHARDS, month_of, previous_month
from omnihub.observability import powertools

logger, tracer, metrics = powertools()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    month = previous_month(month_of(default_clock().now()))
    queue_work([{"kind": "tiers", "month": month, "shard": s} for s in range(ACTIVE_SHARDS)])
    metrics.add_metric(name="TierShardsQueued", unit=MetricUnit.Count, value=ACTIVE_SHARDS)
    logger.info("leader tier review queued", extra={"month": month, "shards": ACTIVE_SHARDS})
    return {"queued": ACTIVE_SHARDS, "month": month}
