"""AWS clients, created once per process on first use (after a test's mock has started).

Made with botocore, which boto3 wraps: a client is the same object either way, but importing
boto3 also imports s3transfer and its dependencies, tens of milliseconds of every cold start
for a transfer manager no function uses (docs/performance.md, "Cold start").
"""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.config import Config
from botocore.session import Session

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=2,
    read_timeout=5,
    tcp_keepalive=True,
)


@cache
def session() -> Session:
    """One botocore session per process, as boto3's default session: region and credentials
    from the environment (Lambda sets both), endpoint data loaded once for every client."""
    return Session()


@cache
def client(service: str) -> Any:
    """One client per service; botocore retries throttling and 5xx with backoff."""
    return session().create_client(service, config=_CONFIG)
