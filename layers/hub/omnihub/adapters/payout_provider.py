"""Payout providers behind the leaders' payout port.

`fake` (the only one so far; template parameter `PayoutProvider`) pays every payout, except the
ones named in the SSM parameter `/omnihub/<stage>/leaders/fake-payout-failures` (a JSON list of
payout ids, or `"*"` for all), so a test or a person at `make dev` can make a given payout fail.
The domain calls `pay` only for a payout still `requested`; a crash between the call and the
record calls it again, so a real channel must take the payout id as its idempotency key (e.g. a
merchant transfer's `out_detail_no`). A real channel is another class with `pay`.
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


def payout_provider() -> PayoutProvider:
    kind = os.environ.get("PAYOUT_PROVIDER", "fake")
    if kind != "fake":
        raise RuntimeError(f"payout provider {kind!r} is not available")
    parameter = f"{settings().parameter_path}/leaders/fake-payout-failures"
    return FakePayoutProvider(client("ssm"), parameter)
