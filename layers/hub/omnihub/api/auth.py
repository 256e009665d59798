"""Who is calling, from the claims API Gateway's JWT authorizer verified (SPEC 3.3).

Handlers never verify tokens and never read claims from anywhere else than the authorizer's
place in the event. Each function declares which roles may call each of its routes; a route
without a declaration is denied, and the check runs before the body is validated, so a caller
who may not learns nothing about what a valid body looks like.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from omnihub.errors import Forbidden, Unauthenticated

ROLES = frozenset({"agent", "quality", "admin", "leader", "store"})


@dataclass(frozen=True)
class Principal:
    role: str
    subject: str
    leader_id: str | None = None
    store_id: str | None = None

    @property
    def sees_personal_data_unmasked(self) -> bool:
        """Nobody does through the API: even admins get masked identities (SPEC 4.1)."""
        return False


def principal(event: Mapping[str, Any]) -> Principal:
    claims = event.get("requestContext", {}).get("authorizer", {}).get("jwt", {}).get("claims")
    if not claims:
        raise Unauthenticated("no verified token")
    role = claims.get("role") or claims.get("custom:role")
    if role not in ROLES:
        raise Forbidden("the token carries no role this API knows")
    return Principal(
        role=role,
        subject=str(claims.get("sub", "")),
        leader_id=claims.get("leader_id") or claims.get("custom:leader_id"),
        store_id=claims.get("store_id") or claims.get("custom:store_id"),
    )


def authorize(event: Mapping[str, Any], policies: Mapping[str, frozenset[str]]) -> Principal:
    """The caller, if their role may call the route API Gateway matched; deny by default."""
    caller = principal(event)
    allowed = policies.get(str(event.get("routeKey", "")), frozenset())
    if caller.role not in allowed:
        raise Forbidden(f"role '{caller.role}' may not call this route")
    return caller
