"""The envelope of a channel event as it is logged and published: personal data already protected.

The webhook normalises every identity, drops nothing silently (placeholders are kept, flagged),
and replaces each value by its lookup key, its sealed form and its masked form. From here on no
queue, table or log holds a readable phone number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class ProtectedIdentity(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: str
    masked: str
    key: str | None = None
    sealed: str | None = None
    placeholder: bool = False


class ProtectedField(BaseModel):
    model_config = ConfigDict(frozen=True)

    masked: str
    sealed: str


class ProtectedMember(BaseModel):
    model_config = ConfigDict(frozen=True)

    identities: list[ProtectedIdentity] = []
    profile: dict[str, ProtectedField] = {}


class Envelope(BaseModel):
    """One accepted channel event; `causing_event_id` names it in every domain event it causes."""

    model_config = ConfigDict(frozen=True)

    channel: str
    event_id: str
    type: str
    occurred_at: datetime
    received_at: datetime
    member: ProtectedMember = ProtectedMember()
    data: dict[str, Any] = {}

    @property
    def causing_event_id(self) -> str:
        return causing_event_id(self.channel, self.event_id)


def causing_event_id(channel: str, event_id: str) -> str:
    """Channel event ids are unique per channel only; this is unique across the hub."""
    return f"{channel}:{event_id}"
