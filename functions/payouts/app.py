"""commission.payout_requested -> the payout provider -> paid, or failed with the money back;
commission.payouts_continued -> the next chunk of a withdrawal's payout requests (a withdrawal of
any size goes out in chunks, each its own transaction)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from omnihub.adapters.leaders_store import leaders_store
from omnihub.adapters.payout_provider import payout_provider
from omnihub.backbone import BusEvent
from omnihub.clock import default_clock
from omnihub.consumer import sqs_handler
from omnihub.errors import InvalidInput
from omnihub.leaders.withdrawals import continue_payouts, pay_out
from omnihub.observability import powertools

logger, tracer, metrics = powertools()


class PayoutRequested(BaseModel):
    model_config = ConfigDict(extra="ignore")

    leader_id: str
    withdrawal_id: str
    payout_id: str
    amount_fen: StrictInt


class PayoutsContinued(BaseModel):
    model_config = ConfigDict(extra="ignore")

    leader_id: str
    withdrawal_id: str
    issued: StrictInt = Field(ge=1)


def handle(event: BusEvent) -> None:
    if event.detail_type == "commission.payouts_continued":
        more = PayoutsContinued.model_validate(event.detail.get("data"))
        chunk = continue_payouts(
            leaders_store(), more.leader_id, more.withdrawal_id, more.issued, default_clock().now()
        )
        metrics.add_metric(name=f"PayoutChunks_{chunk.status}", unit=MetricUnit.Count, value=1)
        logger.info(
            "payout chunk " + chunk.status,
            extra={"leader_id": more.leader_id, "withdrawal_id": more.withdrawal_id},
        )
        return
    if event.detail_type != "commission.payout_requested":
        raise InvalidInput(f"the payouts function does not handle {event.detail_type}")
    request = PayoutRequested.model_validate(event.detail.get("data"))
    outcome = pay_out(
        leaders_store(),
        payout_provider(),
        request.leader_id,
        request.withdrawal_id,
        request.payout_id,
        default_clock().now(),
    )
    metrics.add_metric(name=f"Payouts_{outcome.status}", unit=MetricUnit.Count, value=1)
    logger.info(
        "payout " + outcome.status,
        extra={"leader_id": request.leader_id, "payout_id": request.payout_id},
    )


lambda_handler = sqs_handler(
    handle,
    logger=logger,
    tracer=tracer,
    metrics=metrics,
)
