"""Tokens for the local API: HS256, signed and verified here, standing in for the JWT authorizer.

In AWS the HTTP API's JWT authorizer verifies tokens from the template's issuer; locally there is
no issuer, so the stack signs its own with a fixed local secret and verifies them the way the
authorizer would (signature, issuer, audience, expiry). Expiry is checked against REAL time:
moving the virtual business clock must never revive or kill a token.
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


class InvalidToken(Exception):
    """Missing, malformed, badly signed, expired, or for another issuer or audience."""


def issue(
    role: str,
    audience: str,
    *,
    leader: str | None = None,
    store: str | None = None,
    subject: str | None = None,
    ttl_s: int = TOKEN_TTL_S,
    now: float | None = None,
) -> str:
    """A signed token with the claims the staff API reads (`role`, `leader_id`, `store_id`)."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "iss": LOCAL_ISSUER,
        "aud": audience,
        "sub": subject or f"local-{role}" + (f"-{leader or store}" if leader or store else ""),
        "role": role,
        "iat": issued,
        "exp": issued + ttl_s,
    }
    if leader:
        claims["leader_id"] = leader
    if store:
        claims["store_id"] = store
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
