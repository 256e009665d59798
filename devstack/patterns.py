"""Event filtering for event source mappings (FilterCriteria), in EventBridge pattern syntax.

Lambda drops stream and queue records that match none of a mapping's filters before batching.
The matching is moto's own EventBridge matcher (exact values, prefix, suffix, equals-ignore-case,
anything-but, numeric, exists, wildcard, cidr), so filters and rules read patterns one way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def any_matches(patterns: Sequence[Mapping[str, Any]], event: Mapping[str, Any]) -> bool:
    """True when there are no filters or at least one matches (filters are OR-ed)."""
    return not patterns or any(matches(p, event) for p in patterns)


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """True when every field of `pattern` matches `event` (fields are AND-ed)."""
    from moto.events.models import EventPattern

    return bool(EventPattern(None, dict(pattern)).matches_event(event))
