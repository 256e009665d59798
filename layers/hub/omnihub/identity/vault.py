"""Personal data at rest: keyed-hash lookups, sealed values, masked display.

One master key (an SSM SecureString) derives two keys: one for HMAC lookup keys, so a phone can
be found without being stored readable, and one for AES-GCM sealing, so the value can be
recovered by whoever holds the key. Everything shown to people or logs is the masked form.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os


class PiiVault:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) < 32:
            raise ValueError("the PII master key must be at least 32 bytes")
        self._lookup_key = hmac.new(master_key, b"omnihub/lookup/v1", hashlib.sha256).digest()
        self._seal_key = hmac.new(master_key, b"omnihub/seal/v1", hashlib.sha256).digest()

    @classmethod
    def from_b64(cls, encoded: str) -> PiiVault:
        return cls(base64.b64decode(encoded))

    def lookup_key(self, identity_type: str, value: str) -> str:
        """Stable, unguessable key of a normalised identity: the only form used for matching."""
        message = f"{identity_type}\x1f{value}".encode()
        return hmac.new(self._lookup_key, message, hashlib.sha256).hexdigest()

    def seal(self, value: str, context: str) -> str:
        """Encrypt a value; `context` (the identity type or profile field) is authenticated."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(12)
        sealed = AESGCM(self._seal_key).encrypt(nonce, value.encode(), context.encode())
        return "v1." + base64.urlsafe_b64encode(nonce + sealed).decode()

    def unseal(self, token: str, context: str) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        version, _, payload = token.partition(".")
        if version != "v1":
            raise ValueError("unknown sealing version")
        raw = base64.urlsafe_b64decode(payload)
        return AESGCM(self._seal_key).decrypt(raw[:12], raw[12:], context.encode()).decode()


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
