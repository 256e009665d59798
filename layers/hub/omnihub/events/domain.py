"""Domain events: what the hub tells the bus, with the member and the causing event.

Ids are derived from what caused the event, so the same cause always yields the same id and a
consumer can drop a repeat without a lookup table.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from omnihub.clock import iso

#: The bus `source` of each family of domain events, by the type's first word.
SOURCES = {
    "member": "omnihub.identity",
    "points": "omnihub.points",
    "tier": "omnihub.points",
    "feedback": "omnihub.feedback",
    "alert": "omnihub.feedback",
    "batch": "omnihub.feedback",
    "cluster": "omnihub.feedback",
    "ticket": "omnihub.tickets",
    "commission": "omnihub.leaders",
    "leader": "omnihub.leaders",
    "notification": "omnihub.notifications",
}


@dataclass(frozen=True)
class DomainEvent:
    type: str
    member_id: str | None
    causing_event_id: str
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    subject: str = ""

    @property
    def event_id(self) -> str:
        """Deterministic: type, cause and subject (what it is about) identify the event."""
        basis = f"{self.type}|{self.causing_event_id}|{self.member_id}|{self.subject}"
        return "evt_" + hashlib.sha256(basis.encode()).hexdigest()[:32]

    @property
    def source(self) -> str:
        return SOURCES.get(self.type.split(".", 1)[0], "omnihub")

    def detail(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.type,
            "member_id": self.member_id,
            "causing_event_id": self.causing_event_id,
            "occurred_at": iso(self.occurred_at),
            "data": self.data,
        }
