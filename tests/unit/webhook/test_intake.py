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
    other = raw(event_id="e1", occurred_at="2026-11-10T10:00:00+08:00")
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


def with_data(name, change):
    event = json.loads(raw(name))
    change(event["data"])
    return json.dumps(event).encode()


def fields_refused(intake, body):
    with pytest.raises(InvalidInput) as caught:
        accept(intake, "tmall", signed(body), body)
    return {d["field"] for d in caught.value.details}


@pytest.mark.parametrize(
    ("identity_type", "value"),
    [
        ("phone", "+86 11111111111"),
        ("phone", "8611111111111"),
        ("phone", "0086-00000000000"),
        ("phone", "１３８００１３８０００"),
        ("device_id", "00000000-0000-0000-0000-000000000000"),
    ],
)
def test_placeholders_in_other_spellings_are_dropped_and_the_event_accepted(
    intake, log, identity_type, value
):
    """Regression: the phones were refused with 422 (the order was lost) and the all-zero
    device id was taken for a person."""
    event = json.loads(raw("order-paid", event_id="ph-1"))
    event["member"]["identities"].append({"type": identity_type, "value": value})
    body = json.dumps(event, ensure_ascii=False).encode()
    assert accept(intake, "tmall", signed(body), body).status == "accepted"
    identities = log.rows[("tmall", "ph-1")][0].member.identities
    assert [(i.placeholder, i.key) for i in identities[2:]] == [(True, None)]
    assert not any(i.placeholder for i in identities[:2])


def test_a_full_width_phone_is_the_same_phone(intake, log):
    event = json.loads(raw(event_id="fw-1"))
    event["member"]["identities"] = [{"type": "phone", "value": "13８0000000１"}]
    body = json.dumps(event, ensure_ascii=False).encode()
    accept(intake, "tmall", signed(body), body)
    (phone,) = log.rows[("tmall", "fw-1")][0].member.identities
    assert phone.key == VAULT.lookup_key("phone", "+8613800000001")


def test_an_amount_that_is_not_the_sum_of_the_lines_is_422_naming_amount_fen(intake, log):
    """Regression: `amount_fen` was never compared with the lines' `paid_fen`."""
    body = with_data("order-paid", lambda d: d.update(amount_fen=d["amount_fen"] + 1))
    assert fields_refused(intake, body) == {"data.amount_fen"}
    assert log.rows == {}


def test_a_line_id_twice_in_an_order_is_422_naming_the_line(intake):
    def twice(data):
        data["items"][1]["line_id"] = data["items"][0]["line_id"]

    assert fields_refused(intake, with_data("order-paid", twice)) == {"data.items.1.line_id"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["lines"][0].update(amount_fen=0), "data.lines.0.amount_fen"),
        (lambda d: d["lines"][0].update(amount_fen=-5), "data.lines.0.amount_fen"),
        (lambda d: d["lines"][0].update(amount_fen=1.5), "data.lines.0.amount_fen"),
        (lambda d: d["lines"][0].update(line_id=""), "data.lines.0.line_id"),
        (lambda d: d["lines"][0].update(line_id="L 1"), "data.lines.0.line_id"),
        (lambda d: d["lines"].append(dict(d["lines"][0])), "data.lines.1.line_id"),
        (lambda d: d.update(lines=[]), "data.lines"),
    ],
)
def test_refund_lines_are_validated_like_order_lines(intake, change, field):
    """A line refunded twice in one refund would be counted twice (or once) by the consumers."""
    assert fields_refused(intake, with_data("order-refunded", change)) == {field}


def test_occurred_at_more_than_ten_minutes_ahead_is_422(intake, log):
    """D40: a channel clock far ahead would win every 'newest' comparison forever."""
    ahead = raw(event_id="f1", occurred_at="2026-11-11T02:10:01+00:00")
    assert fields_refused(intake, ahead) == {"occurred_at"}
    assert log.rows == {}
    near = raw(event_id="f2", occurred_at="2026-11-11T10:10:00+08:00")
    assert accept(intake, "tmall", signed(near), near).status == "accepted"


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00"])
def test_an_occurred_at_outside_the_calendar_in_utc_is_422_not_a_crash(intake, when):
    """Regression: converting these to UTC raised OverflowError (a 500)."""
    assert fields_refused(intake, raw(occurred_at=when)) == {"occurred_at"}


@pytest.mark.parametrize("birthday", ["1990-13-01", "1990-02-30", "١٩٩٠-٠٥-٠١"])
def test_a_birthday_that_is_no_date_is_422(intake, birthday):
    event = json.loads(raw())
    event["member"]["profile"]["birthday"] = birthday
    assert fields_refused(intake, json.dumps(event).encode()) == {"member.profile.birthday"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"event_id": ' + b"1" * 5000 + b"}",  # int() refuses more than 4300 digits
        b"[" * 50_000 + b"]" * 50_000,  # nesting deeper than the decoder's recursion limit
        b'{"event_id": "e1", "amount_fen": NaN}',  # not JSON (RFC 8259), though Python reads it
    ],
)
def test_a_body_the_json_decoder_chokes_on_is_400_not_a_crash(intake, log, body):
    """Regression: these raised ValueError / RecursionError out of the handler (a 500)."""
    with pytest.raises(MalformedBody):
        accept(intake, "tmall", signed(body), body)
    assert log.rows == {}


def test_a_type_or_leader_link_the_channel_may_not_post_is_403_before_validation(intake, log):
    """Issue 13 finding 6 (D71): checked after the signature, before the body's contract, so
    a channel that may not post a type learns nothing about its schema; nothing is logged."""
    from omnihub.errors import EventNotAllowed

    paid = raw("order-paid", event_id="tm-ldr")
    linked = json.loads(paid)
    linked["data"]["leader_id"] = "ldr-001"
    linked = json.dumps(linked).encode()
    erasure = raw("member-erasure-requested")
    cases = [
        (linked, "data.leader_id"),
        (erasure, "type"),
        (b'{"type": "leader.registered", "data": 1}', "type"),  # invalid too: 403 first
    ]
    for body, field in cases:
        with pytest.raises(EventNotAllowed) as caught:
            accept(intake, "tmall", signed(body), body)
        assert caught.value.code == "event_not_allowed"
        assert caught.value.details == [{"field": field}]
    with pytest.raises(Unauthenticated):
        accept(intake, "tmall", signed(erasure, secret=b"wrong"), erasure)  # 401 comes first
    assert log.rows == {}
    assert accept(intake, "tmall", signed(paid), paid).status == "accepted"


def test_the_previous_secret_verifies_while_it_is_configured(intake, log):
    from dataclasses import replace

    body = raw(event_id="rot-1")
    rotating = replace(intake, previous_secret_for={"tmall": b"s-old"}.get)
    assert accept(rotating, "tmall", signed(body, secret=b"s-old"), body).status == "accepted"
    with pytest.raises(Unauthenticated):
        accept(intake, "tmall", signed(body, secret=b"s-old"), body)
