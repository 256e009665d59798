"""Who may see and work which ticket (SPEC 3.3, 4.4): deny unless a rule allows."""

from __future__ import annotations

from omnihub.api.auth import Principal
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
