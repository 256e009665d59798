"""Where a member's things belong now, and which identity brought them.

Merges reach each capability late, twice or out of order (A<-B handled after C<-A), so every
capability asks the members table for the live survivor before it writes or moves anything:
`live_root` follows `merged_into` to the end of the chain.

Un-merge splits an identity, and what came through it, back out. Each capability records on
what it keeps (an order, a feedback record, a ticket, a leader binding) the lineage of the
identity that brought it (`Resolution.via`: the identity's type and keyed lookup hash, never a
raw value). Where a thing belongs is then a question the members table answers in any order of
events: the live root of whoever holds that identity now (`rightful_root`), or, for things that
came with no identity, the live root of the member they were recorded on. A merge and an
un-merge are both "move each affected thing to where it belongs", so they commute. Erasure
clears the lineage (a freed identity claimed again later must not pull an erased person's
history to its new holder).
"""

from __future__ import annotations

from omnihub.identity.model import IdentityKey
from omnihub.identity.ports import MemberStore


def live_root(members: MemberStore, member_id: str) -> tuple[str, bool]:
    """The end of a member's merge chain, and whether that member was erased. An id the table
    does not hold is its own root (a capability may see a member before the identity table
    answers for it). Reads are strongly consistent: a capability placing things right after
    a merge or un-merge committed must see it."""
    seen: set[str] = set()
    wanted = member_id
    while wanted not in seen:
        seen.add(wanted)
        found = members.members([wanted], consistent=True).get(wanted)
        if found is None:
            return wanted, False
        if found.merged_into is None:
            return wanted, found.erased_at is not None
        wanted = found.merged_into
    return wanted, False


def lineage(ref: IdentityKey) -> str:
    """The lineage of an identity: `<type>|<lookup key>`."""
    return f"{ref[0]}|{ref[1]}"


def lineage_ref(via: str) -> IdentityKey:
    identity_type, _, key = via.partition("|")
    return identity_type, key


def rightful_root(members: MemberStore, via: str | None, recorded_on: str) -> str:
    """Where a thing recorded on `recorded_on` and brought by `via` belongs now."""
    if via:
        ref = lineage_ref(via)
        holder = members.claims([ref], consistent=True).get(ref)
        if holder is not None:
            return live_root(members, holder)[0]
    return live_root(members, recorded_on)[0]
