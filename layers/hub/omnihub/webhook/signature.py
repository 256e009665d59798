"""X-Omni-Signature: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.

Several v1 values may be sent while a channel rotates its secret; any one matching is enough.
The hub holds a current and, while it rotates a secret, a previous one: either verifies (D72), so
a channel switches when it likes and never has to double-sign. Parsing is strict: `t` is 1-12
ASCII digits, `v1` exactly 64 hex digits; anything else is a 401, never a crash. Comparison is
constant-time; the timestamp must be within 300 s of real time either way.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from omnihub.errors import Unauthenticated

TOLERANCE_SECONDS = 300
_SECONDS = re.compile(r"[0-9]{1,12}")  # ASCII digits only: str.isdigit() also takes '²', '١'
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def sign(secret: bytes, raw_body: bytes, timestamp: int) -> str:
    """The header value a channel sends (used by the local stack, tests and the README)."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(
    header: str | None, raw_body: bytes, secret: bytes, now: float, previous: bytes | None = None
) -> None:
    """Raise Unauthenticated unless the header signs this body within the time window, with
    `secret` or (during a rotation) `previous`."""
    if not header:
        raise Unauthenticated("missing X-Omni-Signature header")
    timestamps: list[int] = []
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and _SECONDS.fullmatch(value):
            timestamps.append(int(value))
        elif name == "v1" and _HEX_SHA256.fullmatch(value):
            candidates.append(value.lower())
    if len(timestamps) != 1 or not candidates:
        raise Unauthenticated("X-Omni-Signature must carry one t=<seconds> and v1=<64 hex>")
    timestamp = timestamps[0]
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise Unauthenticated("signature timestamp is more than 300 s from now")
    secrets = [secret] if previous is None else [secret, previous]
    matched = False
    for key in secrets:
        expected = sign(key, raw_body, timestamp).rpartition("v1=")[2]
        for candidate in candidates:  # no early exit: every pair is compared
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise Unauthenticated("signature does not match")
