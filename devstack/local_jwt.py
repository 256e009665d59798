"""Tokens for the local API: HS256, signed and verified here, standing in for the JWT authorizer.

In AWS the HTTP API's JWT authorizer verifies tokens from the template's issuer; locally there is
no issuer, so the stack signs its own with a fixed local secret and verifies them the way the
authorizer would (signature, issuer, audience, expiry). Expiry is checked against REAL time:
moving the virtual business clock must never revive or kill a token.

The role and the scopes go where the template's claim mapping says (parameters `RoleClaim`,
`LeaderIdClaim`, `StoreIdClaim`; by default Cognito's `cognito:groups` and the admin-only
`custom:leader_id` / `custom:store_id` attributes), so a local token looks like a deployed one.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import jwt

LOCAL_ISSUER = "https://auth.omnihub.local"
#: Dev-only signing key (never deployed): 32+ bytes so HS256 has a full-strength key.
LOCAL_SIGNING_KEY = "omnihub-local-jwt-signing-key-do-not-deploy"
TOKEN_TTL_S = 3600
#: The template's default claim mapping (what `omnihub.api.auth.ClaimNames` reads by default).
DEFAULT_CLAIMS: Mapping[str, str] = {
    "role": "cognito:groups",
    "leader_id": "custom:leader_id",
    "store_id": "custom:store_id",
}


class InvalidToken(Exception):
    """Missing, malformed, badly signed, expired, or for another issuer or audience."""


def issue(
    role: str | Sequence[str],
    audience: str,
    *,
    leader: str | None = None,
    store: str | None = None,
    subject: str | None = None,
    ttl_s: int = TOKEN_TTL_S,
    now: float | None = None,
    claim_names: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """A signed token with the role (a group list, as Cognito puts it) and the scopes where the
    claim mapping says; `extra` adds claims as they are (e.g. a forged `custom:role`)."""
    names = {**DEFAULT_CLAIMS, **(claim_names or {})}
    roles = [role] if isinstance(role, str) else list(role)
    issued = int(time.time() if now is None else now)
    label = "-".join(roles) or "none"
    claims: dict[str, Any] = {
        "iss": LOCAL_ISSUER,
        "aud": audience,
        "sub": subject or f"local-{label}" + (f"-{leader or store}" if leader or store else ""),
        "iat": issued,
        "exp": issued + ttl_s,
    }
    if roles:
        claims[names["role"]] = roles
    if leader:
        claims[names["leader_id"]] = leader
    if store:
        claims[names["store_id"]] = store
    claims.update(extra or {})
    return jwt.encode(claims, LOCAL_SIGNING_KEY, algorithm="HS256")


def verify(token: str, audiences: Sequence[str]) -> dict[str, Any]:
    """The verified claims of `token`, or InvalidToken (what the authorizer turns into 401)."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            LOCAL_SIGNING_KEY,
            algorithms=["HS256"],
            audience=list(audiences),
            issuer=LOCAL_ISSUER,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from error
    return claims


def bearer(header_value: str | None) -> str | None:
    """The token in an Authorization header (API Gateway accepts it with or without `Bearer`)."""
    if not header_value:
        return None
    value = header_value.strip()
    if value.lower().startswith("bearer "):
        value = value[7:].strip()
    return value or None


def gateway_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway hands them to the function: every value a string."""
    return {key: _claim_text(value) for key, value in claims.items()}


def _claim_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return "[" + " ".join(_claim_text(item) for item in value) + "]"
    return str(value)
