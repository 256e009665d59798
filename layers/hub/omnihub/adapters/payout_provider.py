"""Payout providers behind the leaders' payout port (`omnihub.leaders.ports.PayoutProvider`).

Chosen by the template parameter `PayoutProvider` (env `PAYOUT_PROVIDER`, D73):
- `fake` (dev only) pays every payout on paper, except the ones named in the SSM parameter
  `/omnihub/dev/leaders/fake-payout-failures` (a JSON list of payout ids, or `"*"` for all), so a
  test or a person at `make dev` can make a given payout fail. Outside dev it refuses to start:
  the template's rule refuses the deploy, this is the second lock.
- `unconfigured` is the placeholder for a real channel: every `pay` raises
  `PayoutProviderNotConfigured`, so a payout stays `requested`, is retried and then waits in the
  payouts DLQ (alarmed): money is never reported paid when nothing was sent.
The domain calls `pay` only for a payout still `requested`; a crash between the call and the
record calls it again, so a real channel must take the payout id as its idempotency key (e.g. a
merchant transfer's `out_detail_no`). A real channel is another class with `pay`, and a value
added to the parameter's AllowedValues.
"""

from __future__ import annotations

import json
import os
from typing import Any

from botocore.exceptions import ClientError

from omnihub.adapters.aws import client
from omnihub.leaders.ports import PayoutProvider, PayoutResult
from omnihub.settings import settings


class FakePayoutProvider:
    def __init__(self, ssm: Any, failures_parameter: str) -> None:
        self._ssm = ssm
        self._failures_parameter = failures_parameter

    def _failing(self) -> set[str]:
        """Read each time (no cache): a test changes it between payouts."""
        try:
            value = self._ssm.get_parameter(Name=self._failures_parameter)["Parameter"]["Value"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "ParameterNotFound":
                raise
            return set()
        ids = json.loads(value)
        return {"*"} if ids == "*" else {str(i) for i in ids}

    def pay(self, leader_id: str, payout_id: str, amount_fen: int) -> PayoutResult:
        failing = self._failing()
        if "*" in failing or payout_id in failing:
            return PayoutResult("failed", reason="the fake payout channel was told to fail")
        return PayoutResult("paid", reference=f"fake-{leader_id}/{payout_id}")


class PayoutProviderNotConfigured(RuntimeError):
    """No real payout channel is configured: nothing was sent (the payout stays requested)."""


class UnconfiguredPayoutProvider:
    """The placeholder for a real channel: refuses every payout, loudly."""

    def pay(self, leader_id: str, payout_id: str, amount_fen: int) -> PayoutResult:
        raise PayoutProviderNotConfigured(
            f"payout {payout_id} was not sent: PayoutProvider is 'unconfigured' (no real payout "
            "channel is built yet); it stays requested and reaches the payouts DLQ after retries"
        )


def payout_provider() -> PayoutProvider:
    kind = os.environ.get("PAYOUT_PROVIDER", "fake")
    if kind == "unconfigured":
        return UnconfiguredPayoutProvider()
    if kind != "fake":
        raise RuntimeError(f"payout provider {kind!r} is not available")
    s = settings()
    if s.stage != "dev":
        raise RuntimeError(f"the fake payout provider pays nobody: refused in stage {s.stage!r}")
    return FakePayoutProvider(client("ssm"), f"{s.parameter_path}/leaders/fake-payout-failures")
