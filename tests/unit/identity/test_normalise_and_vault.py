"""Identity values normalise to one form per person; placeholders match nobody; data is sealed."""

import pytest
from cryptography.exceptions import InvalidTag

from omnihub.identity.normalise import InvalidIdentity, normalise
from omnihub.identity.vault import PiiVault, mask_identity, mask_profile
from tests.fakes.identities import VAULT


@pytest.mark.parametrize(
    "raw",
    ["13800000001", "+86 138 0000 0001", "0086-13800000001", "8613800000001", "138-0000-0001"],
)
def test_a_mainland_mobile_becomes_plus86_and_11_digits(raw):
    assert normalise("phone", raw) == normalise("phone", "13800000001")
    assert normalise("phone", raw).value == "+8613800000001"


@pytest.mark.parametrize(
    "raw", ["", "null", "undefined", "0", "-1", "13800138000", "11111111111", "+8613800138000"]
)
def test_placeholders_are_recognised_not_rejected(raw):
    assert normalise("phone", raw).placeholder


def test_a_configured_placeholder_matches_nobody():
    assert normalise("store_card", "TEST-CARD", ["test-card"]).placeholder
    assert not normalise("store_card", "C-1001", ["test-card"]).placeholder


@pytest.mark.parametrize("raw", ["12345", "2380000000a", "+0123"])
def test_a_malformed_phone_is_an_error(raw):
    with pytest.raises(InvalidIdentity):
        normalise("phone", raw)


def test_scoped_ids_keep_their_scope_and_need_it():
    assert normalise("wechat_openid", " wxapp1 : o-abc ").value == "wxapp1:o-abc"
    assert normalise("wechat_openid", "wxapp1:null").placeholder
    with pytest.raises(InvalidIdentity):
        normalise("tmall_ouid", "no-scope")


def test_lookup_keys_are_stable_per_value_and_differ_by_type_and_key():
    assert VAULT.lookup_key("phone", "+8613800000001") == VAULT.lookup_key(
        "phone", "+8613800000001"
    )
    assert VAULT.lookup_key("phone", "x") != VAULT.lookup_key("store_card", "x")
    other = PiiVault(b"another master key of 32 bytes!!")
    assert other.lookup_key("phone", "x") != VAULT.lookup_key("phone", "x")


def test_sealed_values_round_trip_and_are_bound_to_their_context():
    sealed = VAULT.seal("+8613800000001", "phone")
    assert "13800000001" not in sealed
    assert sealed != VAULT.seal("+8613800000001", "phone")  # a fresh nonce every time
    assert VAULT.unseal(sealed, "phone") == "+8613800000001"
    with pytest.raises(InvalidTag):
        VAULT.unseal(sealed, "store_card")


def test_masks_show_enough_to_recognise_not_to_copy():
    assert mask_identity("phone", "+8613800138000") == "138****8000"
    assert mask_identity("wechat_openid", "wxapp:o-abcdef") == "wxa****def"
    assert mask_profile("name", "张三丰") == "张**"
    assert mask_profile("birthday", "1990-05-01") == "1990-**-**"
    assert mask_profile("email", "li@example.com") == "l***@example.com"


@pytest.mark.parametrize(
    "raw",
    [
        "+86 11111111111",
        "8611111111111",
        "0086-00000000000",
        "+86 138 0013 8000",
        "０086 13800138000",
        "１１１１１１１１１１１",
        "+1 000 000 0000",
        "(+86) 138.0013.8000",
    ],
)
def test_placeholder_phones_in_any_spelling_are_placeholders_not_errors(raw):
    """Regression: these raised InvalidIdentity, so the webhook refused (and lost) the event."""
    assert normalise("phone", raw).placeholder


@pytest.mark.parametrize(
    ("identity_type", "raw"),
    [
        ("device_id", "00000000-0000-0000-0000-000000000000"),
        ("device_id", "０"),
        ("store_card", "ＮＵＬＬ"),
        ("jd_pin", " --- "),
        ("wechat_openid", "wxapp1:00000000-0000"),
    ],
)
def test_other_placeholders_in_any_spelling_are_placeholders(identity_type, raw):
    """Regression: the all-zero device uuid and full-width spellings matched people."""
    assert normalise(identity_type, raw).placeholder


def test_full_width_digits_are_the_same_phone():
    """Regression: `13８...` was refused; NFKC makes it `138...`."""
    assert normalise("phone", "13８0000000１") == normalise("phone", "13800000001")
    assert normalise("phone", "＋８６ １３８００００００01").value == "+8613800000001"


def test_values_are_nfkc_normalised_before_anything_else():
    assert normalise("jd_pin", "ｊｄ－ｗａｎｇ").value == "jd-wang"
    assert normalise("wechat_openid", "ｗｘａｐｐ１：o-1").value == "wxapp1:o-1"


@pytest.mark.parametrize("raw", ["138०0000001", "+86 138٠0000001", "+86 13800000001 x"])
def test_digits_of_other_scripts_are_a_malformed_phone_not_a_new_person(raw):
    """Only [0-9] are digits: `\\d` let other scripts' digits make a second key for one phone."""
    with pytest.raises(InvalidIdentity):
        normalise("phone", raw)


def test_a_configured_placeholder_phone_matches_in_any_spelling():
    listed = ["+86 139-0000-1234"]
    for raw in ("13900001234", "0086 139 0000 1234", "１３９００００１２３４"):
        assert normalise("phone", raw, listed).placeholder, raw
    assert not normalise("phone", "13900001235", listed).placeholder
