"""The channels that may post events and the event types they may post (3.1.1)."""

from __future__ import annotations

from typing import Literal, get_args

ChannelName = Literal[
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
]
CHANNELS: tuple[str, ...] = get_args(ChannelName)

#: `source` of channel events on the bus; domain events use `omnihub.<context>`.
CHANNEL_EVENT_SOURCE = "omnihub.channels"


def channel_secret_name(parameter_path: str, channel: str) -> str:
    """SSM name of a channel's webhook secret (a SecureString created out of band)."""
    return f"{parameter_path}/channels/{channel}/secret"


def channel_previous_secret_name(parameter_path: str, channel: str) -> str:
    """SSM name of the secret being rotated out: it verifies too while it exists (D72)."""
    return f"{parameter_path}/channels/{channel}/secret-previous"


def channel_rules_name(parameter_path: str) -> str:
    """SSM name of the channels' allowed event types (omnihub.channel_rules)."""
    return f"{parameter_path}/channels/allowed-events"


def pii_key_name(parameter_path: str) -> str:
    """SSM name of the legacy single master key (before issue 13: it derived both keys below;
    `scripts/pii_keys.py split` turns it into them without re-keying anything)."""
    return f"{parameter_path}/pii-key"


def pii_lookup_key_name(parameter_path: str) -> str:
    """SSM name of the key that hashes identity lookups (base64): the member API's only key."""
    return f"{parameter_path}/pii/lookup-key"


def pii_seal_keys_name(parameter_path: str) -> str:
    """SSM name of the sealing key ring, `{"current": kid, "keys": {kid: base64}}`."""
    return f"{parameter_path}/pii/seal-keys"
