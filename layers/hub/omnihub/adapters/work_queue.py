"""Work messages onto an SQS queue, ten a call: how the scheduled jobs fan out (the T+1 run and
the tier review onto the commission work queue, the points' daily work onto its own). A module
of its own so that a fan-out function imports no store at cold start."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from omnihub.adapters.aws import client
from omnihub.settings import need


def send_work(queue_url: str, messages: Sequence[dict[str, Any]]) -> None:
    """Send every message, ten a call; one not queued fails the caller (it is retried, and the
    work is idempotent, so a repeat costs only its reads)."""
    for start in range(0, len(messages), 10):
        batch = messages[start : start + 10]
        response = client("sqs").send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(n), "MessageBody": json.dumps(m)} for n, m in enumerate(batch)],
        )
        if response.get("Failed"):
            raise RuntimeError(f"{len(response['Failed'])} work messages were not queued")


def queue_work(messages: Sequence[dict[str, Any]]) -> None:
    """Commission work (settle or review a shard) onto the commission work queue."""
    url = need(os.environ.get("COMMISSION_WORK_QUEUE_URL"), "COMMISSION_WORK_QUEUE_URL")
    send_work(url, messages)
