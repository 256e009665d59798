"""Member ids nobody can guess, and the member code that proves a member is at the counter.

A member id is derived from the event that created the member, so a replay creates the same
member, but under a key (HMAC-SHA256): knowing a channel's event id no longer tells anyone the
member id to put in a URL. The key is an SSM SecureString only the resolving functions read
(`/omnihub/<stage>/member-id-key`).

A member code is what the member's app shows at a store (like a payment code): 12 digits, an
HMAC of the member id and a 60-second window under another key (`/omnihub/<stage>/
member-code-key`, read by the member API only). A code is accepted in its window and the one
after, so a code read at the end of its minute still works; it names one member, so a store
cannot spend anyone else's points with it (docs/decisions.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

CODE_WINDOW_S = 60
CODE_DIGITS = 12
MIN_KEY_BYTES = 32


def member_id_key_name(parameter_path: str) -> str:
    return f"{parameter_path}/member-id-key"


def member_code_key_name(parameter_path: str) -> str:
    return f"{parameter_path}/member-code-key"


def _key(encoded: str, what: str) -> bytes:
    key = base64.b64decode(encoded)
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the {what} must be at least {MIN_KEY_BYTES} bytes")
    return key


class MemberIds:
    """`new(cause)`: the id of the member an event creates; the same cause, the same id."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the member id key must be at least {MIN_KEY_BYTES} bytes")
        self._key = key

    @classmethod
    def from_b64(cls, encoded: str) -> MemberIds:
        return cls(_key(encoded, "member id key"))

    def new(self, cause: str) -> str:
        digest = hmac.new(self._key, f"member|{cause}".encode(), hashlib.sha256).hexdigest()
        return "mbr_" + digest[:24]


@dataclass(frozen=True)
class MemberCode:
    member_id: str
    code: str
    expires_at: datetime


class MemberCodes:
    """Short-lived codes bound to one member id (see the module's docstring)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the member code key must be at least {MIN_KEY_BYTES} bytes")
        self._key = key

    @classmethod
    def from_b64(cls, encoded: str) -> MemberCodes:
        return cls(_key(encoded, "member code key"))

    def _code(self, member_id: str, window: int) -> str:
        digest = hmac.new(self._key, f"{member_id}|{window}".encode(), hashlib.sha256).digest()
        return str(int.from_bytes(digest[:8], "big") % 10**CODE_DIGITS).zfill(CODE_DIGITS)

    def issue(self, member_id: str, now: datetime) -> MemberCode:
        window = int(now.timestamp()) // CODE_WINDOW_S
        expires = datetime.fromtimestamp((window + 2) * CODE_WINDOW_S, UTC)
        return MemberCode(member_id, self._code(member_id, window), expires)

    def matches(self, member_id: str, value: str, now: datetime) -> bool:
        """The code is this member's, shown in this window or the one before (constant time)."""
        if not (value.isascii() and value.isdigit() and len(value) == CODE_DIGITS):
            return False
        window = int(now.timestamp()) // CODE_WINDOW_S
        found = False
        for w in (window, window - 1):
            found |= hmac.compare_digest(self._code(member_id, w), value)
        return found
