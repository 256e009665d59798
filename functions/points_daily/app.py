"""points-daily (00:30 Asia/Shanghai): fan the due work out, one message per kind and shard."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from omnihub.adapters.work_queue import send_work
from omnihub.clock import default_clock, iso
from omnihub.observability import powertools
from omnihub.settings import need, settings
from omnihub.sharding import POINTS_DUE_SHARDS as SHARDS

logger, tracer, metrics = powertools()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    until = iso(default_clock().now())
    queue = need(settings().points_work_queue_url, "POINTS_WORK_QUEUE_URL")
    messages = [
        {"kind": kind, "shard": shard, "until": until}
        for kind in ("order", "account")
        for shard in range(SHARDS)
    ]
    send_work(queue, messages)
    metrics.add_metric(name="PointsWorkQueued", unit=MetricUnit.Count, value=len(messages))
    logger.info("points work queued", extra={"messages": len(messages), "until": until})
    return {"queued": len(messages), "until": until}
