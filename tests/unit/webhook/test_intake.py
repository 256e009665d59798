"""Accepting a channel event: the contract's order of answers, all-or-nothing, PII protected."""

import json
from datetime import UTC, datetime

import pytest

from omnihub.clock import VirtualClock
from omnihub.errors import (
    Conflict,
    InvalidInput,
    MalformedBody,
    NotFound,
    PayloadTooLarge,
    Unauthenticated,
)
from omnihub.webhook.intake import Intake, accept
from omnihub.webhook.signature import sign
from tests.conftest import load_event
from tests.fakes.identities import VAULT

NOW = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
SECRETS = {"tmall": b"s-tmall"}


class FakeLog:
    """The event log's one rule: the first copy of an id wins; a different body is a conflict."""

    def __init__(self):
        self.rows = {}

    def append_inbound(self, envelope, body_sha256):
        key = (envelope.channel, envelope.event_id)
        if key in self.rows:
            return "duplicate" if self.rows[key][1] == body_sha256 else "conflict"
        self.rows[key] = (envelope, body_sha256)
        return "accepted"


@pytest.fixture
def log():
    return FakeLog()


@pytest.fixture
def intake(log):
    clock = VirtualClock(NOW)
    return Intake(
        secret_for=SECRETS.get,
        vault=lambda: VAULT,
        log=log,
        clock=clock,
        wall_clock=clock,
        extra_placeholders=("test-card",),
    )


def raw(name="member-identified", **overrides):
    event = load_event(f"channel/{name}.json")
    event.update(overrides)
    return json.dumps(event, ensure_ascii=False).encode()


def signed(body, secret=b"s-tmall", t=None):
    return sign(secret, body, int(NOW.timestamp()) if t is None else t)


def test_an_accepted_event_is_logged_protected(intake, log):
    body = raw(event_id="e1")
    result = accept(intake, "tmall", signed(body), body)
    assert (result.status, result.event_id, result.type) == ("accepted", "e1", "member.identified")
    envelope, _ = log.rows[("tmall", "e1")]
    assert envelope.occurred_at == datetime(2026, 11, 11, 2, 0, tzinfo=UTC)  # +08:00 -> UTC
    phone = envelope.member.identities[0]
    assert (phone.type, phone.masked) == ("phone", "138****0001")
    assert VAULT.unseal(phone.sealed, "phone") == "+8613800000001"
    assert phone.key == VAULT.lookup_key("phone", "+8613800000001")
    assert envelope.member.profile["name"].masked == "张*"
    assert "13800000001" not in envelope.model_dump_json()
    assert "张三" not in envelope.model_dump_json()


def test_a_repeat_is_a_duplicate_and_a_changed_body_a_conflict(intake):
    body = raw(event_id="e1")
    assert accept(intake, "tmall", signed(body), body).status == "accepted"
    assert accept(intake, "tmall", signed(body), body).status == "duplicate"
    other = raw(event_id="e1", occurred_at="2026-11-12T10:00:00+08:00")
    with pytest.raises(Conflict):
        accept(intake, "tmall", signed(other), other)


def test_checks_run_in_the_contracts_order_and_write_nothing(intake, log):
    huge = b"{" + b" " * (256 * 1024) + b"}"
    cases = [
        ("taobao", signed(raw()), raw(), NotFound),
        ("jd", signed(raw()), raw(), NotFound),  # a channel with no secret configured
        ("tmall", signed(huge), huge, PayloadTooLarge),
        ("tmall", "t=1,v1=00", huge, PayloadTooLarge),  # size is judged before the signature
        ("tmall", signed(raw(), secret=b"wrong"), raw(), Unauthenticated),
        ("tmall", signed(b"{oops"), b"{oops", MalformedBody),
        ("tmall", signed(b"[1]"), b"[1]", MalformedBody),
        ("tmall", signed(b'{"type": "order.paid"}'), b'{"type": "order.paid"}', InvalidInput),
    ]
    for channel, header, body, error in cases:
        with pytest.raises(error):
            accept(intake, channel, header, body)
    assert log.rows == {}


def test_a_malformed_identity_names_its_field_and_writes_nothing(intake, log):
    event = json.loads(raw())
    event["member"]["identities"].append({"type": "wechat_openid", "value": "no-scope"})
    body = json.dumps(event).encode()
    with pytest.raises(InvalidInput) as caught:
        accept(intake, "tmall", signed(body), body)
    assert caught.value.details[0]["field"] == "member.identities.2.value"
    assert log.rows == {}


def test_placeholders_are_kept_flagged_without_a_key(intake, log):
    event = json.loads(raw(event_id="p1"))
    event["member"]["identities"] = [
        {"type": "phone", "value": "13800138000"},
        {"type": "store_card", "value": "TEST-CARD"},
    ]
    body = json.dumps(event).encode()
    accept(intake, "tmall", signed(body), body)
    identities = log.rows[("tmall", "p1")][0].member.identities
    assert [(i.placeholder, i.key, i.sealed) for i in identities] == [(True, None, None)] * 2


def test_field_paths_name_the_data_field_without_the_type_tag(intake):
    event = json.loads(raw("order-paid"))
    event["data"]["items"][1]["paid_fen"] = -1
    event["data"]["items"][1]["line_id"] = event["data"]["items"][0]["line_id"]
    body = json.dumps(event).encode()
    with pytest.raises(InvalidInput) as caught:
        accept(intake, "tmall", signed(body), body)
    assert {d["field"] for d in caught.value.details} == {"data.items.1.paid_fen"}
