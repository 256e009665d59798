"""The webhook contract (docs/events.md) through the handler, on moto from from the template."""

import base64
import copy
import json
import time
from datetime import timedelta

import pytest

from omnihub import wiring
from omnihub.webhook.signature import sign
from tests.conftest import load_event

PATH = "/v1/channels/{}/events"


def body(**overrides):
    event = load_event("channel/member-identified.json")
    event.update(overrides)
    return json.dumps(event, ensure_ascii=False).encode()


def post(stack, raw, channel="tmall", headers=None):
    return stack.http(
        "POST",
        PATH.format(channel),
        body=raw,
        headers=headers if headers is not None else stack.sign_channel_event(channel, raw),
    )


def assert_contract_error(answer, status, code):
    got_status, _, payload = answer
    assert got_status == status, payload
    assert set(payload) == {"error"}
    assert payload["error"]["code"] == code
    assert isinstance(payload["error"]["message"], str)
    assert isinstance(payload["error"]["details"], list)
    return payload["error"]


def test_a_signed_event_is_accepted_once_and_delivered_once(stack):
    raw = body(event_id="evt-1")
    status, _, payload = post(stack, raw)
    assert (status, payload) == (202, {"event_id": "evt-1", "status": "accepted"})
    status, _, payload = post(stack, raw)
    assert (status, payload) == (200, {"event_id": "evt-1", "status": "duplicate"})
    stack.drain()
    assert stack.invocations.get("IdentityConsumerFunction") == 1
    assert stack.invocations.get("OutboxForwarderFunction", 0) >= 1
    log = stack.client("dynamodb").get_item(
        TableName=stack.table_name("EventLogTable"), Key={"pk": {"S": "IN#tmall#evt-1"}}
    )["Item"]
    assert "13800000001" not in json.dumps(log)  # logged protected, not readable


def test_the_same_event_id_with_another_body_is_a_conflict(stack):
    assert post(stack, body(event_id="evt-2"))[0] == 202
    assert_contract_error(post(stack, body(event_id="evt-2", data={"x": 1})), 422, "invalid_input")
    changed = body(event_id="evt-2", occurred_at="2026-11-11T11:00:00+08:00")
    assert_contract_error(post(stack, changed), 409, "conflict")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Omni-Signature": "t=1,v1=00"},
        {"X-Omni-Signature": "v1=abc"},
        {"X-Omni-Signature": sign(b"wrong-secret", b"{}", int(time.time()))},
    ],
)
def test_a_bad_or_missing_signature_is_401(stack, headers):
    assert_contract_error(post(stack, body(), headers=headers), 401, "unauthenticated")


def test_a_timestamp_ten_minutes_old_is_401(stack):
    raw = body()
    stale = stack.sign_channel_event("tmall", raw, t=int(time.time()) - 600)
    error = assert_contract_error(post(stack, raw, headers=stale), 401, "unauthenticated")
    assert "300" in error["message"]


def test_an_unknown_channel_is_404(stack):
    raw = body()
    headers = stack.sign_channel_event("tmall", raw)
    assert_contract_error(post(stack, raw, channel="taobao", headers=headers), 404, "not_found")


def test_a_body_that_is_not_json_is_400(stack):
    assert_contract_error(post(stack, b"{not json"), 400, "malformed_body")


def test_a_body_without_event_id_is_422_naming_the_field(stack):
    event = json.loads(body())
    del event["event_id"]
    error = assert_contract_error(post(stack, json.dumps(event).encode()), 422, "invalid_input")
    assert [d["field"] for d in error["details"]] == ["event_id"]


def test_field_paths_reach_into_the_event_data(stack):
    event = load_event("channel/order-paid.json")
    event["data"]["items"][0]["qty"] = 1.5
    event["data"]["amount_fen"] = "100"
    error = assert_contract_error(post(stack, json.dumps(event).encode()), 422, "invalid_input")
    assert {d["field"] for d in error["details"]} == {"data.items.0.qty", "data.amount_fen"}


def test_a_malformed_phone_is_422_and_nothing_is_written(stack):
    event = json.loads(body(event_id="evt-bad-phone"))
    event["member"]["identities"][0]["value"] = "12345"
    error = assert_contract_error(post(stack, json.dumps(event).encode()), 422, "invalid_input")
    assert error["details"][0]["field"] == "member.identities.0.value"
    stack.drain()
    assert stack.invocations.get("OutboxForwarderFunction", 0) == 0


def test_300_kib_is_413(stack):
    raw = body(event_id="big", data={"padding": "x" * 300 * 1024})
    assert_contract_error(post(stack, raw), 413, "payload_too_large")


def test_every_channel_event_type_of_the_contract_is_accepted(stack):
    """Each from a channel that may post it (D71): erasure from the brand's own app, a leader's
    registration from group buying, the rest from a platform."""
    for name, channel in (
        ("member-identified", "tmall"),
        ("member-erasure-requested", "app"),
        ("order-paid", "tmall"),
        ("order-completed", "tmall"),
        ("order-refunded", "tmall"),
        ("points-activity", "tmall"),
        ("feedback-received", "tmall"),
        ("leader-registered", "groupbuy"),
    ):
        raw = json.dumps(load_event(f"channel/{name}.json"), ensure_ascii=False).encode()
        status, _, payload = post(stack, raw, channel=channel)
        assert status == 202, (name, payload)


def test_the_handler_takes_the_event_api_gateway_sends(stack):
    """events/apigw/webhook-post.json is what `sam local generate-event` gives (base64 body)."""
    event = copy.deepcopy(load_event("apigw/webhook-post.json"))
    raw = body(event_id="evt-apigw")
    event["body"] = base64.b64encode(raw).decode()
    event["isBase64Encoded"] = True
    event["headers"]["x-omni-signature"] = stack.sign_channel_event("tmall", raw)[
        "X-Omni-Signature"
    ]
    response = stack.runtime.invoke("WebhookFunction", event)
    assert response["statusCode"] == 202
    assert json.loads(response["body"]) == {"event_id": "evt-apigw", "status": "accepted"}


def test_an_order_whose_amount_is_not_its_lines_sum_is_422_and_nothing_is_written(stack):
    """Regression: `amount_fen` was never checked against the lines' `paid_fen`."""
    event = load_event("channel/order-paid.json")
    event["data"]["amount_fen"] += 100
    error = assert_contract_error(post(stack, json.dumps(event).encode()), 422, "invalid_input")
    assert [d["field"] for d in error["details"]] == ["data.amount_fen"]
    event["data"]["amount_fen"] -= 100
    event["data"]["items"][1]["line_id"] = event["data"]["items"][0]["line_id"]
    error = assert_contract_error(post(stack, json.dumps(event).encode()), 422, "invalid_input")
    assert [d["field"] for d in error["details"]] == ["data.items.1.line_id"]
    stack.drain()
    assert stack.invocations.get("OutboxForwarderFunction", 0) == 0


def test_placeholders_in_other_spellings_are_dropped_and_the_order_kept(stack):
    """Regression: `+86 11111111111` made the webhook answer 422 and the order was lost; the
    all-zero device id made one member of everybody who sent it."""
    orders = []
    for n, phone in enumerate(("+86 11111111111", "8611111111111", "0086-00000000000")):
        event = load_event("channel/order-paid.json")
        event["event_id"] = f"tm-op-ph-{n}"
        event["data"]["order_id"] = f"SO-PH-{n}"
        event["member"]["identities"] = [
            {"type": "phone", "value": phone},
            {"type": "device_id", "value": "00000000-0000-0000-0000-000000000000"},
            {"type": "jd_pin", "value": f"buyer-{n}"},
        ]
        status, _, payload = post(stack, json.dumps(event).encode())
        assert status == 202, payload
        orders.append(event)
    stack.drain()
    assert stack.dlq_messages("IdentityQueue") == []
    owners = set()
    for n in range(3):
        status, _, found = stack.http(
            "GET",
            "/v1/members/lookup",
            query={"type": "jd_pin", "value": f"buyer-{n}"},
            headers=stack.auth("agent"),
        )
        assert status == 200, found
        owners.add(found["member_id"])
    assert len(owners) == 3  # neither the phone nor the device joined them


def test_an_event_from_more_than_ten_minutes_ahead_is_422_naming_occurred_at(stack):
    """D40: refused, not clamped, so the channel learns its clock is wrong."""
    ahead = (stack.now() + timedelta(minutes=11)).isoformat()
    error = assert_contract_error(post(stack, body(occurred_at=ahead)), 422, "invalid_input")
    assert [d["field"] for d in error["details"]] == ["occurred_at"]
    near = (stack.now() + timedelta(minutes=5)).isoformat()
    assert post(stack, body(event_id="evt-near", occurred_at=near))[0] == 202
    error = assert_contract_error(
        post(stack, body(occurred_at="0001-01-01T00:00:00+08:00")), 422, "invalid_input"
    )
    assert [d["field"] for d in error["details"]] == ["occurred_at"]


# -- issue 13: what a channel may post, secrets in rotation, strict signature headers ----------


@pytest.fixture
def fresh_parameters():
    """SSM values are cached per process for five minutes; a test that changes them clears
    the caches (as the TTL would) and leaves them empty, so nothing leaks into the next test."""

    def clear(rules_too: bool = True) -> None:
        if rules_too:
            wiring.forget_cached()
        else:
            wiring.parameters.cache_clear()

    clear()
    yield clear
    clear()


def logged(stack, channel, event_id):
    table = stack.table_name("EventLogTable")
    key = {"pk": {"S": f"IN#{channel}#{event_id}"}}
    return "Item" in stack.client("dynamodb").get_item(TableName=table, Key=key)


def linked_order(event_id):
    event = load_event("channel/order-paid.json")
    event["event_id"] = event_id
    event["data"]["leader_id"] = "ldr-001"
    return json.dumps(event, ensure_ascii=False).encode()


def test_a_leaked_social_secret_cannot_post_an_order_or_an_erasure(stack):
    """Regression (issue 13 finding 6): any channel could post any type; a social secret
    posted order.paid with a leader_id (commission) and member.erasure_requested: 202."""
    erasure = load_event("channel/member-erasure-requested.json")
    erasure["event_id"] = "so-er-leak"
    cases = {
        "so-op-leak": linked_order("so-op-leak"),
        "so-er-leak": json.dumps(erasure).encode(),
    }
    for event_id, raw in cases.items():
        error = assert_contract_error(post(stack, raw, channel="social"), 403, "event_not_allowed")
        assert error["details"] == [{"field": "type"}]
        assert not logged(stack, "social", event_id)
    stack.drain()
    assert stack.invocations.get("OutboxForwarderFunction", 0) == 0  # nothing enqueued


def test_a_leader_id_from_a_channel_without_leader_links_is_403(stack):
    """Regression (issue 13 finding 6): tmall could attribute an order to any leader."""
    error = assert_contract_error(post(stack, linked_order("tm-op-ldr")), 403, "event_not_allowed")
    assert error["details"] == [{"field": "data.leader_id"}]
    assert not logged(stack, "tmall", "tm-op-ldr")
    assert post(stack, linked_order("gb-op-ldr"), channel="groupbuy")[0] == 202


def test_allowed_events_are_data_and_a_broken_value_keeps_the_last_good(
    stack, fresh_parameters, capsys, caplog
):
    """Operations: an operator narrows a channel in SSM; a broken value is logged (fields only),
    counted, and never applied."""
    ssm, name = stack.client("ssm"), "/omnihub/dev/channels/allowed-events"
    feedback = load_event("channel/feedback-received.json")
    narrowed = '{"channels": {"wecom": {"events": ["member.identified"]}}}'
    ssm.put_parameter(Name=name, Value=narrowed, Type="String", Overwrite=True)
    fresh_parameters()
    raw = json.dumps({**feedback, "event_id": "wc-fb-1"}, ensure_ascii=False).encode()
    assert_contract_error(post(stack, raw, channel="wecom"), 403, "event_not_allowed")

    broken = '{"channels": {"wecom": {"events": ["feedback.received", "order.shipped"]}}}'
    ssm.put_parameter(Name=name, Value=broken, Type="String", Overwrite=True)
    fresh_parameters(rules_too=False)  # the cache expires; the last good value is held
    capsys.readouterr()
    assert_contract_error(post(stack, raw, channel="wecom"), 403, "event_not_allowed")
    assert "rule set is invalid" in caplog.text
    assert '"RuleSetInvalid"' in capsys.readouterr().out
    assert post(stack, body(event_id="wc-id-1"), channel="wecom")[0] == 202


def test_either_the_current_or_the_previous_secret_verifies_during_a_rotation(
    stack, fresh_parameters
):
    """Regression (issue 13 finding 12): one secret per channel; rotating it broke the channel
    unless it double-signed. Now `secret-previous` verifies too while it exists."""
    ssm, path = stack.client("ssm"), "/omnihub/dev/channels/tmall"
    old = stack.channel_secret("tmall").encode()
    ssm.put_parameter(Name=f"{path}/secret-previous", Value=old.decode(), Type="SecureString")
    ssm.put_parameter(
        Name=f"{path}/secret", Value="new-tmall-secret", Type="SecureString", Overwrite=True
    )
    fresh_parameters()
    now = int(time.time())
    for n, secret in enumerate((old, b"new-tmall-secret")):
        raw = body(event_id=f"rot-{n}")
        headers = {"X-Omni-Signature": sign(secret, raw, now)}
        assert post(stack, raw, headers=headers)[0] == 202
    ssm.delete_parameter(Name=f"{path}/secret-previous")
    fresh_parameters()
    raw = body(event_id="rot-late")
    headers = {"X-Omni-Signature": sign(old, raw, now)}
    assert_contract_error(post(stack, raw, headers=headers), 401, "unauthenticated")


def test_signature_fields_outside_their_grammar_are_401(stack):
    """Issue 13 findings 10/13: `t` is 1-12 ASCII digits, `v1` exactly 64 hex digits."""
    raw = body(event_id="strict")
    good = stack.sign_channel_event("tmall", raw)["X-Omni-Signature"]
    t, v1 = good.split(",")
    for header in (
        f"t=1{t[2:]},{v1}",  # 13 digits
        f"t=²,{v1}",
        f"{t},{v1[:-1]}",  # 63 hex
        f"{t},{v1}ab",  # 66 hex
        f"{t},v1={'é' * 64}",
        f"t={'1' * 5000},{v1}",
    ):
        error = assert_contract_error(
            post(stack, raw, headers={"X-Omni-Signature": header}), 401, "unauthenticated"
        )
        assert error["details"] == []
    assert post(stack, raw, headers={"X-Omni-Signature": good})[0] == 202
