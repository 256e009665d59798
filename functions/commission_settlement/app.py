"""commission-settlement (02:00 Asia/Shanghai): queue the T+1 run for yesterday, one work message
per shard of the index of leaders active that day."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from omnihub.adapters.work_queue import queue_work
from omnihub.clock import default_clock
from omnihub.leaders.days import ACTIVE_SHARDS, add_days, day_of
from omnihub.observability import powertools

logger, tracer, metrics = powertools()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    day = add_days(day_of(default_clock().now()), -1)
    queue_work([{"kind": "settle", "day": day, "shard": s} for s in range(ACTIVE_SHARDS)])
    metrics.add_metric(name="SettlementShardsQueued", unit=MetricUnit.Count, value=ACTIVE_SHARDS)
    logger.info("commission settlement queued", extra={"day": day, "shards": ACTIVE_SHARDS})
    return {"queued": ACTIVE_SHARDS, "day": day}
