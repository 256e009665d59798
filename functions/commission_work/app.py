"""One shard of leader work: the T+1 settlement of a day, or the monthly tier review."""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field

from omnihub.adapters.leaders_store import commission_scheme, leaders_store
from omnihub.adapters.work_queue import queue_work
from omnihub.clock import default_clock
from omnihub.consumer import TimeBudget, sqs_handler
from omnihub.leaders.days import ACTIVE_SHARDS
from omnihub.leaders.settlement import run_settlement
from omnihub.leaders.tiers import run_tiers
from omnihub.observability import powertools

logger, tracer, metrics = powertools()
RESERVE_MS = 30_000  # stop paging and hand over with this much time left


class WorkItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["settle", "tiers"]
    shard: int = Field(ge=0, lt=ACTIVE_SHARDS)
    day: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    month: str | None = Field(None, pattern=r"^\d{4}-\d{2}$")
    after: str | None = None


BUDGET = TimeBudget(reserve_ms=RESERVE_MS)  # stop paging and hand over in time


def handle(item: WorkItem) -> None:
    store, now = leaders_store(), default_clock().now()
    if item.kind == "settle":
        if item.day is None:
            raise ValueError("a settle message names its day")
        done, cursor = run_settlement(
            store, item.day, item.shard, now, after=item.after, keep_going=BUDGET.left
        )
        metrics.add_metric(name="LeaderDaysSettled", unit=MetricUnit.Count, value=done)
    else:
        if item.month is None:
            raise ValueError("a tiers message names its month")
        done, cursor = run_tiers(
            store,
            item.month,
            item.shard,
            commission_scheme(),
            now,
            after=item.after,
            keep_going=BUDGET.left,
        )
        metrics.add_metric(name="LeaderTiersChanged", unit=MetricUnit.Count, value=done)
    if cursor:  # more than one invocation's worth: the rest goes on in a new message
        queue_work([{**item.model_dump(exclude_none=True), "after": cursor}])
    logger.info(
        "leader work done",
        extra={"kind": item.kind, "shard": item.shard, "done": done, "more": bool(cursor)},
    )


lambda_handler = sqs_handler(
    handle,
    logger=logger,
    tracer=tracer,
    metrics=metrics,
    parse=WorkItem.model_validate_json,
    correlation=lambda item: f"{item.kind}#{item.day or item.month}#{item.shard}",
    budget=BUDGET,
)
