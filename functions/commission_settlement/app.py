"""commission-settlement (02:00 Asia/Shanghai): queue the T+1 run for yesterday, one work message
per shard of the index of leaders active that day."""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from omnihub.adapters.aws import client
from omnihub.clock import default_clock
from omnihub.leaders.days import ACTIVE_SHARDS, add_days, day_of
from omnihub.observability import powertools
from omnihub.settings import need

logger, tracer, metrics = powertools()


def queue(messages: list[dict[str, Any]]) -> None:
    """Send the work messages, ten a call; a message not queued fails the run (it is retried,
    and a repeat only queues work that is idempotent)."""
    url = need(os.environ.get("COMMISSION_WORK_QUEUE_URL"), "COMMISSION_WORK_QUEUE_URL")
    for start in range(0, len(messages), 10):
        batch = messages[start : start + 10]
        response = client("sqs").send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(n), "MessageBody": json.dumps(m)} for n, m in enumerate(batch)],
        )
        if response.get("Failed"):
            raise RuntimeError(f"{len(response['Failed'])} work messages were not queued")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    day = add_days(day_of(default_clock().now()), -1)
    queue([{"kind": "settle", "day": day, "shard": s} for s in range(ACTIVE_SHARDS)])
    metrics.add_metric(name="SettlementShardsQueued", unit=MetricUnit.Count, value=ACTIVE_SHARDS)
    logger.info("commission settlement queued", extra={"day": day, "shards": ACTIVE_SHARDS})
    return {"queued": ACTIVE_SHARDS, "day": day}
