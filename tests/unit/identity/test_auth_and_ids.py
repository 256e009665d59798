"""The claim mapping (roles from groups, scopes from admin-only attributes), keyed member ids and
member codes (issue 13 findings 1 and 2): the pure parts."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from omnihub.api.auth import ClaimNames, principal, role_of
from omnihub.errors import Forbidden
from omnihub.identity.ids import MemberCodes, MemberIds

KEY = hashlib.sha256(b"k").digest()


def event(**claims: str) -> dict:
    return {"requestContext": {"authorizer": {"jwt": {"claims": {"sub": "s", **claims}}}}}


@pytest.mark.parametrize(
    ("value", "role"),
    [("[admin]", "admin"), ("agent", "agent"), (["store"], "store"), ("[beta leader]", "leader")],
)
def test_the_role_is_the_one_known_group(value, role):
    assert role_of(value) == role


@pytest.mark.parametrize("value", [None, "", "[]", "[beta]", "[agent admin]", ["quality", "admin"]])
def test_no_known_group_or_several_is_refused(value):
    with pytest.raises(Forbidden):
        role_of(value)


def test_claims_users_can_write_are_never_read_by_default():
    with pytest.raises(Forbidden):
        principal(event(**{"custom:role": "admin", "role": "admin"}))
    leader = principal(event(**{"cognito:groups": "[leader]", "custom:leader_id": "ldr-1"}))
    assert (leader.role, leader.leader_id) == ("leader", "ldr-1")
    with pytest.raises(Forbidden, match="must name its leader_id"):
        principal(event(**{"cognito:groups": "[leader]", "leader_id": "ldr-1"}))


def test_another_oidc_issuer_names_its_claims_in_the_environment():
    names = ClaimNames.from_env(
        {"ROLE_CLAIM": "roles", "LEADER_ID_CLAIM": "lid", "STORE_ID_CLAIM": "sid"}
    )
    store = principal(event(roles="[store]", sid="S-1"), names)
    assert (store.role, store.store_id) == ("store", "S-1")
    assert ClaimNames.from_env({}) == ClaimNames()


def test_member_ids_are_stable_per_cause_and_depend_on_the_key():
    ids = MemberIds(KEY)
    assert ids.new("tmall:e1") == ids.new("tmall:e1") != ids.new("tmall:e2")
    assert ids.new("tmall:e1") != MemberIds(hashlib.sha256(b"other").digest()).new("tmall:e1")
    unkeyed = "mbr_" + hashlib.sha256(b"member|tmall:e1").hexdigest()[:24]
    assert ids.new("tmall:e1") != unkeyed
    with pytest.raises(ValueError, match="32 bytes"):
        MemberIds(b"short")


def test_a_member_code_names_one_member_for_about_two_minutes():
    codes = MemberCodes(KEY)
    now = datetime(2026, 11, 11, 10, 0, 30, tzinfo=UTC)
    shown = codes.issue("mbr_a", now)
    assert len(shown.code) == 12
    assert shown.code.isdigit()
    assert codes.matches("mbr_a", shown.code, now + timedelta(seconds=60))
    assert not codes.matches("mbr_a", shown.code, now + timedelta(seconds=120))
    assert not codes.matches("mbr_b", shown.code, now)
    assert not codes.matches("mbr_a", "１" * 12, now)  # full-width digits are not a code
    assert not codes.matches("mbr_a", shown.code[:-1], now)
