"""leader-tiers (the 1st of each month, 08:00 Asia/Shanghai): queue the review of last month's
leader tiers, one work message per shard."""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from omnihub.adapters.aws import client
from omnihub.clock import default_clock
from omnihub.leaders.days import ACTIVE_SHARDS, month_of, previous_month
from omnihub.observability import powertools
from omnihub.settings import need

logger, tracer, metrics = powertools()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    month = previous_month(month_of(default_clock().now()))
    url = need(os.environ.get("COMMISSION_WORK_QUEUE_URL"), "COMMISSION_WORK_QUEUE_URL")
    messages = [{"kind": "tiers", "month": month, "shard": s} for s in range(ACTIVE_SHARDS)]
    for start in range(0, len(messages), 10):
        batch = messages[start : start + 10]
        response = client("sqs").send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(n), "MessageBody": json.dumps(m)} for n, m in enumerate(batch)],
        )
        if response.get("Failed"):
            raise RuntimeError(f"{len(response['Failed'])} work messages were not queued")
    metrics.add_metric(name="TierShardsQueued", unit=MetricUnit.Count, value=len(messages))
    logger.info("leader tier review queued", extra={"month": month, "shards": len(messages)})
    return {"queued": len(messages), "month": month}
