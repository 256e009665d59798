"""X-Omni-Signature: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (SPEC 3.1).

Several v1 values may be sent while a channel rotates its secret; any one matching is enough.
Comparison is constant-time; the timestamp must be within 300 s of real time either way.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from omnihub.errors import Unauthenticated

TOLERANCE_SECONDS = 300
_SECONDS = re.compile(r"[0-9]{1,12}")  # ASCII digits only: str.isdigit() also takes '²', '١'


def sign(secret: bytes, raw_body: bytes, timestamp: int) -> str:
    """The header value a channel sends (used by the local stack, tests and the README)."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(header: str | None, raw_body: bytes, secret: bytes, now: float) -> None:
    """Raise Unauthenticated unless the header signs this body within the time window."""
    if not header:
        raise Unauthenticated("missing X-Omni-Signature header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and _SECONDS.fullmatch(value):
            timestamp = int(value)
        elif name == "v1" and value and value.isascii():  # compare_digest raises on non-ASCII
            candidates.append(value)
    if timestamp is None or not candidates:
        raise Unauthenticated("X-Omni-Signature must carry t=<seconds> and v1=<hex>")
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise Unauthenticated("signature timestamp is more than 300 s from now")
    expected = sign(secret, raw_body, timestamp).rpartition("v1=")[2]
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise Unauthenticated("signature does not match")
