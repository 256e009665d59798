"""Event filtering for event source mappings (FilterCriteria), in EventBridge pattern syntax, and
the partial batch failures their handlers report.

Lambda drops stream and queue records that match none of a mapping's filters before batching.
The matching is moto's own EventBridge matcher (exact values, prefix, suffix, equals-ignore-case,
anything-but, numeric, exists, wildcard, cidr), so filters and rules read patterns one way.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any


def any_matches(patterns: Sequence[Mapping[str, Any]], event: Mapping[str, Any]) -> bool:
    """True when there are no filters or at least one matches (filters are OR-ed)."""
    return not patterns or any(matches(p, event) for p in patterns)


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """True when every field of `pattern` matches `event` (fields are AND-ed)."""
    from moto.events.models import EventPattern

    return bool(EventPattern(None, dict(pattern)).matches_event(event))


def reported_failures(result: Any, report: bool, batch_ids: Collection[str]) -> list[str] | None:
    """The `batchItemFailures` identifiers of a handler's answer (none unless the mapping has
    ReportBatchItemFailures); None when one is not in the batch: Lambda then fails it all."""
    if not report or not isinstance(result, dict):
        return []
    ids = [
        str((f or {}).get("itemIdentifier") or "") for f in result.get("batchItemFailures") or []
    ]
    return ids if all(i in batch_ids for i in ids) else None
