"""Event filtering for event source mappings (FilterCriteria), in EventBridge pattern syntax.

Lambda drops stream and queue records that match none of a mapping's filters before batching.
Supported: exact values, `prefix`, `suffix`, `equals-ignore-case`, `anything-but` (value, list or
prefix), `numeric` ranges and `exists`, nested to any depth.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

_MISSING = object()
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def any_matches(patterns: Sequence[Mapping[str, Any]], event: Mapping[str, Any]) -> bool:
    """True when there are no filters or at least one matches (filters are OR-ed)."""
    return not patterns or any(matches(p, event) for p in patterns)


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """True when every field of `pattern` matches `event` (fields are AND-ed)."""
    for key, expected in pattern.items():
        actual = event.get(key, _MISSING) if isinstance(event, Mapping) else _MISSING
        if isinstance(expected, Mapping):
            if not matches(expected, actual if isinstance(actual, Mapping) else {}):
                return False
        elif not _field_matches(list(expected), actual):
            return False
    return True


def _field_matches(rules: list[Any], actual: Any) -> bool:
    values = actual if isinstance(actual, list) else [actual]
    for rule in rules:
        if isinstance(rule, Mapping):
            if _operator_matches(rule, actual, values):
                return True
        elif any(value is not _MISSING and value == rule for value in values):
            return True
    return False


def _operator_matches(rule: Mapping[str, Any], actual: Any, values: list[Any]) -> bool:
    (name, arg), *_ = rule.items()
    present = [v for v in values if v is not _MISSING]
    if name == "exists":
        return bool(present) == bool(arg)
    if name == "prefix":
        return any(isinstance(v, str) and v.startswith(str(arg)) for v in present)
    if name == "suffix":
        return any(isinstance(v, str) and v.endswith(str(arg)) for v in present)
    if name == "equals-ignore-case":
        return any(isinstance(v, str) and v.lower() == str(arg).lower() for v in present)
    if name == "anything-but":
        return bool(present) and all(not _excluded(arg, v) for v in present)
    if name == "numeric":
        return any(_numeric(arg, v) for v in present)
    raise ValueError(f"filter operator {name} is not supported locally")


def _excluded(arg: Any, value: Any) -> bool:
    if isinstance(arg, Mapping) and "prefix" in arg:
        return isinstance(value, str) and value.startswith(str(arg["prefix"]))
    if isinstance(arg, list):
        return value in arg
    return bool(value == arg)


def _numeric(arg: list[Any], value: Any) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    pairs = zip(arg[0::2], arg[1::2], strict=True)
    return all(_COMPARE[op](number, float(bound)) for op, bound in pairs)
