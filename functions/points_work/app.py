"""One shard of due points work: matured orders, or accounts to expire and review."""

from __future__ import annotations

import json
from typing import Literal

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field

from omnihub import wiring
from omnihub.adapters.aws import client
from omnihub.clock import parse_iso
from omnihub.consumer import TimeBudget, sqs_handler
from omnihub.observability import powertools
from omnihub.points.daily import SHARDS, run_due
from omnihub.settings import need, settings

logger, tracer, metrics = powertools()
RESERVE_MS = 30_000  # stop paging and hand over with this much time left


class WorkItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["order", "account"]
    shard: int = Field(ge=0, lt=SHARDS)
    until: str
    after: str | None = None


BUDGET = TimeBudget(reserve_ms=RESERVE_MS)  # stop paging and hand over in time


def handle(item: WorkItem) -> None:
    done, cursor = run_due(
        wiring.points_store(),
        item.kind,
        item.shard,
        parse_iso(item.until),
        wiring.points_rules(),
        after=item.after,
        keep_going=BUDGET.left,
    )
    metrics.add_metric(name=f"PointsDue_{item.kind}", unit=MetricUnit.Count, value=done)
    if cursor:  # more than one invocation's worth: the rest goes on in a new message
        client("sqs").send_message(
            QueueUrl=need(settings().points_work_queue_url, "POINTS_WORK_QUEUE_URL"),
            MessageBody=json.dumps({**item.model_dump(), "after": cursor}),
        )
    logger.info("points work done", extra={"kind": item.kind, "shard": item.shard, "items": done})


lambda_handler = sqs_handler(
    handle,
    logger=logger,
    tracer=tracer,
    metrics=metrics,
    parse=WorkItem.model_validate_json,
    correlation=lambda item: f"{item.kind}#{item.shard}",
    budget=BUDGET,
)
