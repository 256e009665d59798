"""Personal data at rest: keyed-hash lookups, sealed values, masked display.

Two independent keys (docs/security.md, "Key hierarchy"): a lookup key for HMAC lookup keys, so
a phone can be found without being stored readable, and a ring of sealing keys for AES-GCM, so a
value can be recovered by whoever holds them. A function that only looks members up gets a
lookup-only vault and cannot unseal anything. Every sealed value names the key that sealed it
(`<kid>.<nonce+ciphertext>`), so keys rotate without re-encrypting first; the legacy `v1.`
values are the kid `v1`, derived from the old single master key (`from_master`). Everything
shown to people or logs is the masked form.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
from collections.abc import Mapping

LEGACY_KID = "v1"
KID = re.compile(r"^[a-z][a-z0-9]{0,15}$")
MIN_KEY_BYTES = 32


def _derive(master_key: bytes, purpose: bytes) -> bytes:
    return hmac.new(master_key, purpose, hashlib.sha256).digest()


def _aad(context: str, member_id: str | None) -> bytes:
    """What a sealed value is bound to: its type or field, and its member where one is known."""
    return (context if member_id is None else f"{context}\x1fmember:{member_id}").encode()


class PiiVault:
    """`lookup_key` hashes identities; `seal_keys` (kid -> key) seal, `current` names the one new
    values use. Either part may be absent: a lookup-only or seal-only vault refuses the rest."""

    def __init__(
        self,
        master_key: bytes | None = None,
        *,
        lookup_key: bytes | None = None,
        seal_keys: Mapping[str, bytes] | None = None,
        current: str | None = None,
    ) -> None:
        keys = dict(seal_keys or {})
        if master_key is not None:  # the single-key layout before issue 13 (kid v1)
            if len(master_key) < MIN_KEY_BYTES:
                raise ValueError("the PII master key must be at least 32 bytes")
            lookup_key = lookup_key or _derive(master_key, b"omnihub/lookup/v1")
            keys.setdefault(LEGACY_KID, _derive(master_key, b"omnihub/seal/v1"))
            current = current or LEGACY_KID
        for kid, key in [*keys.items(), *([("lookup", lookup_key)] if lookup_key else [])]:
            if not KID.match(kid) or len(key) < MIN_KEY_BYTES:
                raise ValueError(f"PII key '{kid}' needs a short lowercase id and 32+ bytes")
        if keys and current not in keys:
            raise ValueError("the current sealing key must be one of the sealing keys")
        self._lookup_key = lookup_key
        self._seal_keys = keys
        self._current = current

    @classmethod
    def from_b64(cls, encoded: str) -> PiiVault:
        """A vault from the legacy single master key (base64)."""
        return cls(base64.b64decode(encoded))

    @classmethod
    def from_parameters(cls, lookup: str | None, seal: str | None = None) -> PiiVault:
        """From the SSM values: the lookup key (base64) and the sealing ring, JSON
        `{"current": kid, "keys": {kid: base64}}`."""
        ring = json.loads(seal) if seal else {"current": None, "keys": {}}
        return cls(
            lookup_key=base64.b64decode(lookup) if lookup else None,
            seal_keys={kid: base64.b64decode(v) for kid, v in ring["keys"].items()},
            current=ring.get("current"),
        )

    @property
    def current_kid(self) -> str | None:
        return self._current

    def _lookup(self) -> bytes:
        if self._lookup_key is None:
            raise PermissionError("this vault holds no lookup key")
        return self._lookup_key

    def lookup_key(self, identity_type: str, value: str) -> str:
        """Stable, unguessable key of a normalised identity: the only form used for matching."""
        message = f"{identity_type}\x1f{value}".encode()
        return hmac.new(self._lookup(), message, hashlib.sha256).hexdigest()

    def digest(self, purpose: str, data: bytes) -> str:
        """A keyed digest of bytes that may hold personal data (a raw webhook body): equal
        inputs compare equal, but nobody without the key can test guesses against it."""
        message = purpose.encode() + b"\x1f" + data
        return hmac.new(self._lookup(), message, hashlib.sha256).hexdigest()

    def seal(self, value: str, context: str, member_id: str | None = None) -> str:
        """Encrypt a value with the current key; `context` (the identity type or profile field)
        and, where the caller knows it, the member id are authenticated."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if self._current is None:
            raise PermissionError("this vault holds no sealing key")
        nonce = os.urandom(12)
        key = self._seal_keys[self._current]
        sealed = AESGCM(key).encrypt(nonce, value.encode(), _aad(context, member_id))
        return f"{self._current}." + base64.urlsafe_b64encode(nonce + sealed).decode()

    def unseal(self, token: str, context: str, member_id: str | None = None) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        kid, _, payload = token.partition(".")
        key = self._seal_keys.get(kid)
        if key is None:
            raise ValueError(f"no sealing key '{kid}' in this vault")
        raw = base64.urlsafe_b64decode(payload)
        return AESGCM(key).decrypt(raw[:12], raw[12:], _aad(context, member_id)).decode()

    @staticmethod
    def kid_of(token: str) -> str:
        """Which key sealed a value (what a re-sealing run looks for)."""
        return token.partition(".")[0]


def split_master(master_b64: str, extra: Mapping[str, bytes] | None = None) -> tuple[str, str]:
    """The two SSM values (lookup key, sealing ring) equal to what the legacy master key
    derived, so existing lookup keys stay valid and `v1.` values stay readable. `extra` adds
    sealing keys; the last one added becomes current (a rotation's first step)."""
    master = base64.b64decode(master_b64)
    keys = {LEGACY_KID: _derive(master, b"omnihub/seal/v1"), **(extra or {})}
    ring = {
        "current": list(keys)[-1],
        "keys": {kid: base64.b64encode(key).decode() for kid, key in keys.items()},
    }
    lookup = base64.b64encode(_derive(master, b"omnihub/lookup/v1")).decode()
    return lookup, json.dumps(ring, sort_keys=True)


def mask_identity(identity_type: str, value: str) -> str:
    """138****8000 for a mainland phone; a short prefix and suffix for anything else."""
    if identity_type == "phone":
        if value.startswith("+86") and len(value) == 14:
            return f"{value[3:6]}****{value[-4:]}"
        return f"{value[:3]}****{value[-2:]}"
    if len(value) <= 6:
        return "****"
    return f"{value[:3]}****{value[-3:]}"


def mask_profile(field: str, value: str) -> str:
    """Masked profile values: enough for an agent to recognise a customer, not to copy them."""
    if field in ("gender", "province", "city"):
        return value
    if field in ("name", "nickname"):
        return value[:1] + "*" * max(len(value) - 1, 1)
    if field == "birthday":
        return value[:4] + "-**-**"
    if field == "email":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}" if domain else "***"
    if field == "address":
        return value[:6] + "****"
    return "****"
