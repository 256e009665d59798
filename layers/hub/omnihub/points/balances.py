"""Balance arithmetic, pure: credits pay debt first, debits spend the oldest buckets first and
leave debt when the balance is short (refunds only: a redemption that is short is refused)."""

from __future__ import annotations

from collections.abc import Mapping


def credit(
    buckets: Mapping[str, int], debt: int, points: int, bucket: str
) -> tuple[dict[str, int], int, int]:
    """Add points to `bucket`, paying debt first; returns (buckets, debt, credited)."""
    paid = min(debt, points)
    out = dict(buckets)
    rest = points - paid
    if rest:
        out[bucket] = out.get(bucket, 0) + rest
    return out, debt - paid, rest


def debit(
    buckets: Mapping[str, int], points: int, first: str | None = None
) -> tuple[dict[str, int], int]:
    """Take points from `first`, then from the oldest buckets; returns (buckets, shortfall)."""
    out = {m: p for m, p in buckets.items() if p > 0}
    order = ([first] if first in out else []) + sorted(m for m in out if m != first)
    left = points
    for month in order:
        if left == 0:
            break
        take = min(out[month], left)
        out[month] -= take
        left -= take
        if out[month] == 0:
            del out[month]
    return out, left


def spend_down(spend: Mapping[str, int], month: str, fen: int) -> dict[str, int]:
    """Refunded spend leaves the month it was counted in (never below zero)."""
    out = dict(spend)
    if month in out:
        out[month] = max(0, out[month] - fen)
        if out[month] == 0:
            del out[month]
    return out


def merge_counts(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    out = dict(a)
    for key, value in b.items():
        out[key] = out.get(key, 0) + value
    return out
