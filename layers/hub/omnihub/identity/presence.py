"""Proof that a member is at the counter, for a store's redemption.

A store may spend a member's points only when it presents something that member holds: the
store card (an identity: found by its lookup key, like any lookup) or the member code the
member's app shows (`identity.ids.MemberCodes`). Anything else, including a member or card that
does not exist or was erased, proves nothing: the store gets the same 403 either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from omnihub.errors import Gone, NotFound
from omnihub.identity.admin import current
from omnihub.identity.ids import MemberCodes
from omnihub.identity.model import IdentityKey
from omnihub.identity.ports import MemberStore

PROOF_TYPES = ("store_card", "member_code")
MAX_PROOF_CHARS = 256


def _live(members: MemberStore, member_id: str) -> str | None:
    try:
        return current(members, member_id).member_id
    except (NotFound, Gone):
        return None


def present_member(
    members: MemberStore,
    member_id: str,
    presented: Any,
    *,
    card_ref: Callable[[str], IdentityKey | None],
    codes: Callable[[], MemberCodes],
    now: datetime,
) -> str | None:
    """The live member behind `member_id` if `presented` (`{"type", "value"}`, as it came in the
    body, unvalidated) proves that member is present; None when it proves nothing."""
    if not isinstance(presented, Mapping):
        return None
    kind, value = presented.get("type"), presented.get("value")
    if kind not in PROOF_TYPES or not isinstance(value, str):
        return None
    if not 0 < len(value) <= MAX_PROOF_CHARS:
        return None
    root = _live(members, member_id)
    if root is None:
        return None
    if kind == "member_code":
        signer = codes()
        shown_for = {root, member_id}  # a code shown just before a merge names the absorbed id
        return root if any(signer.matches(m, value, now) for m in shown_for) else None
    ref = card_ref(value)
    if ref is None:
        return None
    owner = members.claims([ref]).get(ref)
    return root if owner is not None and _live(members, owner) == root else None
