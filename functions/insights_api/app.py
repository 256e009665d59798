"""Staff API over feedback insights: detected clusters, the product board, batch holds."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from omnihub import wiring
from omnihub.api.http import build_resolver, handle
from omnihub.observability import powertools
from omnihub.privacy import mask_optional

logger, tracer, metrics = powertools()

READERS = frozenset({"agent", "quality", "admin"})
POLICIES = {
    "GET /v1/insights/clusters": READERS,
    "GET /v1/insights/suggestions": READERS,
    "GET /v1/insights/batch-holds": frozenset({"quality", "admin"}),
}
app = build_resolver(logger, POLICIES)
Limit = Annotated[int, Query(ge=1, le=100)]


class ClusterView(BaseModel):
    cluster_id: str
    scope: str
    key: str
    topic: str
    sku: str | None = None
    batch_no: str | None = None
    count: int
    window_start: str
    detected_at: str
    until: str
    feedback_refs: list[str]


class Clusters(BaseModel):
    items: list[ClusterView]


class SuggestionView(BaseModel):
    feedback_id: str
    channel: str
    kind: str
    text: str | None = None
    topics: list[str]
    sku: str | None = None
    received_at: str


class Suggestions(BaseModel):
    items: list[SuggestionView]


class HoldView(BaseModel):
    batch_no: str
    sku: str | None = None
    reports: int
    feedback_refs: list[str]
    evidence: list[str]
    requested_at: str


class Holds(BaseModel):
    items: list[HoldView]


@app.get("/v1/insights/clusters")
def list_clusters(limit: Limit = 50) -> Clusters:
    """Clusters detected (newest first): N reports of one topic on one SKU or batch in 7 days."""
    return Clusters(items=[ClusterView(**c) for c in wiring.feedback_store().clusters(limit)])


@app.get("/v1/insights/suggestions")
def list_suggestions(limit: Limit = 50) -> Suggestions:
    """The product board: customers' suggestions (P4, no ticket), newest first."""
    found = wiring.feedback_store().suggestions(limit)
    # masked again on the way out: rows kept before the webhook masked free text
    return Suggestions(
        items=[SuggestionView(**{**s, "text": mask_optional(s.get("text"))}) for s in found]
    )


@app.get("/v1/insights/batch-holds")
def list_batch_holds(limit: Limit = 50) -> Holds:
    """Batches with repeated food-safety reports, newest request first (quality and admins)."""
    return Holds(items=[HoldView(**h) for h in wiring.feedback_store().holds(limit)])


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(app, event, context, POLICIES)
