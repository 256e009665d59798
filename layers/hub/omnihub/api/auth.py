"""Who is calling, from the claims API Gateway's JWT authorizer verified.

Handlers never verify tokens and never read claims from anywhere else than the authorizer's
place in the event. Each function declares which roles may call each of its routes; a route
without a declaration is denied, and the check runs before the body is validated, so a caller
who may not learns nothing about what a valid body looks like.

The role and the scope come from claims only an administrator can set: by default Cognito's
`cognito:groups` (users cannot add themselves to a group) and the `custom:leader_id` /
`custom:store_id` attributes the template's app clients may not write. Any other OIDC issuer
works by naming its claims in the environment (`ROLE_CLAIM`, `LEADER_ID_CLAIM`, `STORE_ID_CLAIM`,
template parameters `RoleClaim`, `LeaderIdClaim`, `StoreIdClaim`). Claims a user can write
(`custom:role`, a bare `role`) are never read unless an operator names them on purpose.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from omnihub.errors import Forbidden, Unauthenticated

ROLES = frozenset({"agent", "quality", "admin", "leader", "store"})
#: The roles whose every request is about their own scope: a token without it may do nothing.
SCOPED = {"leader": "leader_id", "store": "store_id"}


@dataclass(frozen=True)
class ClaimNames:
    """Where the role and the scopes are in a verified token (the claim mapping, README)."""

    role: str = "cognito:groups"
    leader_id: str = "custom:leader_id"
    store_id: str = "custom:store_id"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ClaimNames:
        source = os.environ if env is None else env
        default = cls()
        return cls(
            role=source.get("ROLE_CLAIM") or default.role,
            leader_id=source.get("LEADER_ID_CLAIM") or default.leader_id,
            store_id=source.get("STORE_ID_CLAIM") or default.store_id,
        )


@dataclass(frozen=True)
class Principal:
    role: str
    subject: str
    leader_id: str | None = None
    store_id: str | None = None

    @property
    def sees_personal_data_unmasked(self) -> bool:
        """Nobody does through the API: even admins get masked identities."""
        return False


def claim_values(value: Any) -> list[str]:
    """The values of a claim as API Gateway hands it over: `[a b]` for an array, else text."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [part for part in re.split(r"[\s,]+", text) if part]


def role_of(value: Any) -> str:
    """The one role this API knows among the claim's values (groups it does not know are
    ignored). None is 403; several are 403 too: an ambiguous token is refused rather than
    given its most privileged role (docs/decisions.md)."""
    known = sorted(set(claim_values(value)) & ROLES)
    if not known:
        raise Forbidden("the token carries no role this API knows")
    if len(known) > 1:
        raise Forbidden("the token carries several roles; one account holds one role")
    return known[0]


def _scope(claims: Mapping[str, Any], name: str) -> str | None:
    values = claim_values(claims.get(name))
    return values[0] if len(values) == 1 else None


def principal(event: Mapping[str, Any], names: ClaimNames | None = None) -> Principal:
    claims = event.get("requestContext", {}).get("authorizer", {}).get("jwt", {}).get("claims")
    if not claims:
        raise Unauthenticated("no verified token")
    names = names or ClaimNames.from_env()
    caller = Principal(
        role=role_of(claims.get(names.role)),
        subject=str(claims.get("sub", "")),
        leader_id=_scope(claims, names.leader_id),
        store_id=_scope(claims, names.store_id),
    )
    scope = SCOPED.get(caller.role)
    if scope and not getattr(caller, scope):
        raise Forbidden(f"a {caller.role} token must name its {scope}")
    return caller


def authorize(event: Mapping[str, Any], policies: Mapping[str, frozenset[str]]) -> Principal:
    """The caller, if their role may call the route API Gateway matched; deny by default."""
    caller = principal(event)
    allowed = policies.get(str(event.get("routeKey", "")), frozenset())
    if caller.role not in allowed:
        raise Forbidden(f"role '{caller.role}' may not call this route")
    return caller
