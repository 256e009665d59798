"""SSM parameters (channel secrets, the PII key, rule sets), cached per process for five minutes.

A missing parameter is a definite answer (None, cached for a minute); any other failure
propagates, so an SSM outage is a 5xx the channel retries, never a false 404.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from botocore.exceptions import ClientError
from pydantic import ValidationError

T = TypeVar("T")

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


class LastGood(Generic[T]):
    """A rule set held in one parameter: parsed when its text changes (`read` is
    the cache above, which re-reads it at most every five minutes); a broken value is never
    applied: the last good one (or the defaults, if none was good yet) stays and `on_invalid`
    is told once per broken text, so a bad `put-parameter` cannot make an event fail. A
    missing parameter means the defaults."""

    def __init__(
        self,
        read: Callable[[str], str | None],
        name: str,
        parse: Callable[[str], T],
        default: Callable[[], T],
        on_invalid: Callable[[str, ValidationError], None],
    ) -> None:
        self._read, self._name, self._parse, self._on_invalid = read, name, parse, on_invalid
        self._default = default
        self._good: T = default()
        self._seen: str | None = None

    def value(self) -> T:
        raw = self._read(self._name)
        if raw == self._seen:
            return self._good
        self._seen = raw
        if raw is None:
            self._good = self._default()
            return self._good
        try:
            self._good = self._parse(raw)
        except ValidationError as error:
            self._on_invalid(self._name, error)
        return self._good
