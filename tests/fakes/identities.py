"""Protected identities for tests, made the way the webhook makes them."""

from __future__ import annotations

import base64
import hashlib

from omnihub.events.envelope import ProtectedIdentity
from omnihub.identity.ids import MemberIds
from omnihub.identity.normalise import normalise
from omnihub.identity.vault import PiiVault, mask_identity

TEST_KEY = base64.b64encode(hashlib.sha256(b"omnihub-test-pii-key").digest()).decode()
VAULT = PiiVault.from_b64(TEST_KEY)


def ident(identity_type: str, value: str) -> ProtectedIdentity:
    n = normalise(identity_type, value)
    if n.placeholder:
        return ProtectedIdentity(type=identity_type, masked="(placeholder)", placeholder=True)
    return ProtectedIdentity(
        type=identity_type,
        key=VAULT.lookup_key(identity_type, n.value),
        sealed=VAULT.seal(n.value, identity_type),
        masked=mask_identity(identity_type, n.value),
    )


def phone(number: str) -> ProtectedIdentity:
    return ident("phone", number)


#: Keyed member ids for domain tests (the local stack seeds its own key in SSM).
MEMBER_IDS = MemberIds(hashlib.sha256(b"omnihub-test-member-id-key").digest())
