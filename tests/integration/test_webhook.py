"""The webhook contract of SPEC 3.1 through the real handler, on moto built from the template."""

import base64
import copy
import json
import time
from datetime import timedelta

import pytest

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
    for name in (
        "member-identified",
        "member-erasure-requested",
        "order-paid",
        "order-completed",
        "order-refunded",
        "points-activity",
        "feedback-received",
        "leader-registered",
    ):
        raw = json.dumps(load_event(f"channel/{name}.json"), ensure_ascii=False).encode()
        status, _, payload = post(stack, raw)
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
