"""Who may see and work which ticket: deny unless a rule allows."""

from __future__ import annotations

from collections.abc import Mapping

from omnihub.api.auth import Principal
from omnihub.errors import Forbidden
from omnihub.tickets.model import Ticket

WORKERS = frozenset({"agent", "quality", "admin"})


def opener_of(principal: Principal) -> str | None:
    """The first responder a store or leader becomes when they open a ticket (首问负责)."""
    if principal.role == "store" and principal.store_id:
        return f"store:{principal.store_id}"
    if principal.role == "leader" and principal.leader_id:
        return f"leader:{principal.leader_id}"
    return None


def can_see(principal: Principal, ticket: Ticket) -> bool:
    if principal.role in ("quality", "admin"):
        return True
    if principal.role == "agent":
        return ticket.priority != "P1"  # food safety is the quality team's
    opener = opener_of(principal)
    return opener is not None and ticket.first_responder == opener


def can_do(principal: Principal, ticket: Ticket, action: str) -> bool:
    if not can_see(principal, ticket):
        return False
    if action == "acknowledge":
        return principal.role in ("quality", "admin")
    if principal.role in WORKERS:
        return True
    return action == "respond"  # a first responder answers; the brand queue owns the rest


#: What the brand's triage decides on a ticket, never the first responder who opens it.
BRAND_TRIAGE = ("priority", "risk")


def check_opening(
    principal: Principal, fields: Mapping[str, object], bound_leader: str | None
) -> None:
    """Stores and leaders open tickets as first responders: they may not set what
    the brand's triage sets (403 naming the field: the request is refused, not silently
    changed), and a leader opens only for a member bound to them (an unknown member gets the
    same 403, so a leader cannot probe member ids)."""
    if principal.role not in ("store", "leader"):
        return
    for name in BRAND_TRIAGE:
        if fields.get(name) is not None:
            raise Forbidden(
                f"a {principal.role} may not set '{name}': the brand's triage does",
                details=[{"field": name, "message": "set by the brand's triage"}],
            )
    if principal.role == "leader" and (bound_leader is None or bound_leader != principal.leader_id):
        raise Forbidden(
            "a leader opens tickets only for members bound to them",
            details=[{"field": "member_id"}],
        )
