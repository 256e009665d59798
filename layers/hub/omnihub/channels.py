"""The channels that may post events (SPEC 3.1) and the event types they may post (3.1.1)."""

from __future__ import annotations

CHANNELS: tuple[str, ...] = (
    "miniprogram",
    "app",
    "pos",
    "tmall",
    "jd",
    "pdd",
    "douyin",
    "wecom",
    "groupbuy",
    "hotline",
    "social",
)

#: `source` of channel events on the bus; domain events use `omnihub.<context>`.
CHANNEL_EVENT_SOURCE = "omnihub.channels"


def channel_secret_name(parameter_path: str, channel: str) -> str:
    """SSM name of a channel's webhook secret (a SecureString created out of band)."""
    return f"{parameter_path}/channels/{channel}/secret"


def pii_key_name(parameter_path: str) -> str:
    """SSM name of the key that hashes identity lookups and seals personal data."""
    return f"{parameter_path}/pii-key"
