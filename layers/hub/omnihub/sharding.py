"""Stable shards for write-spread partition keys (due indexes): same key, same shard, anywhere."""

from __future__ import annotations

import hashlib

#: Shards of the points due index (omnihub.points.daily), here so that the scheduler that fans
#: out one message per shard does not import the points domain to learn how many there are.
POINTS_DUE_SHARDS = 16


def shard_of(key: str, shards: int) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % shards
