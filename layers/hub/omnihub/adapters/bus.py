"""EventBridge PutEvents in batches (10 entries, 256 KB a call); reports each entry's fate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omnihub.backbone import BusEntry

MAX_ENTRIES = 10
MAX_REQUEST_BYTES = 256 * 1024


def _size(entry: BusEntry) -> int:
    return len(entry.source) + len(entry.detail_type) + len(entry.detail.encode()) + 64


class EventBridgePublisher:
    def __init__(self, client: Any, bus_name: str) -> None:
        self._client = client
        self._bus = bus_name

    def publish(self, entries: Sequence[BusEntry]) -> list[bool]:
        """One flag per entry, in order: True when EventBridge took it."""
        results: list[bool] = []
        batch: list[BusEntry] = []
        size = 0
        for entry in entries:
            if batch and (len(batch) == MAX_ENTRIES or size + _size(entry) > MAX_REQUEST_BYTES):
                results.extend(self._put(batch))
                batch, size = [], 0
            batch.append(entry)
            size += _size(entry)
        if batch:
            results.extend(self._put(batch))
        return results

    def _put(self, batch: list[BusEntry]) -> list[bool]:
        response = self._client.put_events(
            Entries=[
                {
                    "EventBusName": self._bus,
                    "Source": e.source,
                    "DetailType": e.detail_type,
                    "Detail": e.detail,
                    "Time": e.time,
                }
                for e in batch
            ]
        )
        return ["ErrorCode" not in result for result in response["Entries"]]
