"""Separate lookup and sealing keys, a key id on every sealed value, the member in the AAD
(issue 13 finding 11; docs/security.md, "Key hierarchy and rotation")."""

import base64
import hashlib

import pytest
from cryptography.exceptions import InvalidTag

from omnihub.identity.vault import PiiVault, split_master
from tests.fakes.identities import TEST_KEY

LEGACY = PiiVault.from_b64(TEST_KEY)
NEW_KEY = hashlib.sha256(b"k2").digest()


def test_the_split_keys_keep_every_lookup_key_and_legacy_sealed_value():
    lookup, ring = split_master(TEST_KEY, {"k2": NEW_KEY})
    vault = PiiVault.from_parameters(lookup, ring)
    assert vault.lookup_key("phone", "+8613800000001") == LEGACY.lookup_key(
        "phone", "+8613800000001"
    )
    old = LEGACY.seal("+8613800000001", "phone")
    assert old.startswith("v1.")
    assert vault.unseal(old, "phone") == "+8613800000001"
    new = vault.seal("+8613800000001", "phone")
    assert PiiVault.kid_of(new) == "k2" == vault.current_kid
    with pytest.raises(ValueError, match="no sealing key 'k2'"):
        LEGACY.unseal(new, "phone")  # a vault without the new key cannot read it


def test_a_lookup_only_vault_can_neither_seal_nor_unseal():
    lookup, ring = split_master(TEST_KEY)
    lookups = PiiVault.from_parameters(lookup)
    assert lookups.lookup_key("phone", "x") == LEGACY.lookup_key("phone", "x")
    with pytest.raises(PermissionError):
        lookups.seal("x", "phone")
    with pytest.raises(ValueError, match="no sealing key"):
        lookups.unseal(PiiVault.from_parameters(lookup, ring).seal("x", "phone"), "phone")


def test_a_value_sealed_for_a_member_opens_only_for_that_member():
    sealed = LEGACY.seal("王五", "profile.name", member_id="mbr_a")
    assert LEGACY.unseal(sealed, "profile.name", member_id="mbr_a") == "王五"
    for other in ("mbr_b", None):
        with pytest.raises(InvalidTag):
            LEGACY.unseal(sealed, "profile.name", member_id=other)


def test_the_keyed_body_digest_is_not_a_plain_hash():
    body = b'{"member":{"identities":[{"type":"phone","value":"13800000001"}]}}'
    digest = LEGACY.digest("webhook-body", body)
    assert digest != hashlib.sha256(body).hexdigest()
    assert digest == LEGACY.digest("webhook-body", body)
    assert digest != PiiVault(b"another master key of 32 bytes!!").digest("webhook-body", body)


@pytest.mark.parametrize(
    "ring",
    [
        {"current": "k9", "keys": {"k2": NEW_KEY}},
        {"current": "K2", "keys": {"K2": NEW_KEY}},
        {"current": "k2", "keys": {"k2": b"short"}},
    ],
)
def test_a_broken_key_ring_is_refused(ring):
    with pytest.raises(ValueError, match=r"sealing key|short lowercase id"):
        PiiVault(seal_keys=ring["keys"], current=ring["current"])


def test_keys_are_base64_in_ssm():
    lookup, _ = split_master(TEST_KEY)
    assert len(base64.b64decode(lookup)) == 32
