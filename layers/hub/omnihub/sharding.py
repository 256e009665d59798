"""Stable shards for write-spread partition keys (due indexes): same key, same shard, anywhere."""

from __future__ import annotations

import hashlib


def shard_of(key: str, shards: int) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % shards
