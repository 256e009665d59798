"""SSM parameters (channel secrets, the PII key), cached per process for five minutes.

A missing parameter is a definite answer (None, cached for a minute); any other failure
propagates, so an SSM outage is a 5xx the channel retries, never a false 404.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

TTL_SECONDS = 300
MISSING_TTL_SECONDS = 60


class ParameterCache:
    def __init__(self, client: Any) -> None:
        self._client = client
        self._cache: dict[str, tuple[str | None, float]] = {}

    def get(self, name: str) -> str | None:
        now = time.monotonic()
        hit = self._cache.get(name)
        if hit and hit[1] > now:
            return hit[0]
        try:
            value: str | None = self._client.get_parameter(Name=name, WithDecryption=True)[
                "Parameter"
            ]["Value"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "ParameterNotFound":
                raise
            value = None
        self._cache[name] = (
            value,
            now + (TTL_SECONDS if value is not None else MISSING_TTL_SECONDS),
        )
        return value

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise RuntimeError(f"SSM parameter {name} is missing")
        return value
