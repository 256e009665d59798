"""boto3 clients, created once per process on first use (after a test's mock has started)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=2,
    read_timeout=5,
    tcp_keepalive=True,
)


@cache
def client(service: str) -> Any:
    """One client per service; botocore retries throttling and 5xx with backoff."""
    return boto3.client(service, config=_CONFIG)
