"""The identity capability's domain events as the other capabilities read them.

Every capability that keeps things on a member follows `member.merged`, `member.unmerged` and
`member.erased` on its own queue; one set of models says what those events carry, so a field
named here is read the same way everywhere and a malformed event is poison in every consumer.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from omnihub.errors import InvalidInput

IDENTITY_SOURCE = "omnihub.identity"
MEMBER_EVENTS = ("member.merged", "member.unmerged", "member.erased")


class MemberEvent(BaseModel):
    """The part of a member domain event's detail a capability reads."""

    model_config = ConfigDict(extra="ignore")

    event_id: str = Field(min_length=1)
    type: str
    member_id: str | None = None  # merged: the survivor; un-merged: the root that lost identities
    data: dict[str, Any] = Field(default_factory=dict)

    def member(self) -> str:
        """The member the event is about; un-merge and erasure always name one."""
        if not self.member_id:
            raise InvalidInput(f"{self.type} without a member", details=[{"field": "member_id"}])
        return self.member_id


class Merged(BaseModel):
    """`member.merged` data."""

    model_config = ConfigDict(extra="ignore")

    survivor_member_id: str = Field(min_length=1)
    absorbed_member_id: str = Field(min_length=1)


class Unmerged(BaseModel):
    """`member.unmerged` data: the new member and the lineages (`identity.chain`) that left."""

    model_config = ConfigDict(extra="ignore")

    new_member_id: str = Field(min_length=1)
    lineage: list[str] = Field(default_factory=list)
