"""Points through the real handlers: webhooks -> points consumer -> points-daily -> API."""

from datetime import timedelta

import pytest

from tests.conftest import load_event

PHONE = {"type": "phone", "value": "13800000001"}


def order_paid(event_id, order_id, fen, phone=PHONE, extra_identity=None):
    event = load_event("channel/order-paid.json")
    event["event_id"] = event_id
    event["member"] = {"identities": [phone] + ([extra_identity] if extra_identity else [])}
    event["data"] = {
        "order_id": order_id,
        "amount_fen": fen,
        "items": [
            {"line_id": "L1", "sku": "RICE-5KG", "category": "rice", "qty": 1, "paid_fen": fen}
        ],
    }
    return event


def completed(event_id, order_id):
    event = load_event("channel/order-completed.json")
    event.update(event_id=event_id, member={"identities": [PHONE]}, data={"order_id": order_id})
    return event


def refunded(event_id, order_id, refund_id, fen):
    event = load_event("channel/order-refunded.json")
    event.update(
        event_id=event_id,
        member={"identities": [PHONE]},
        data={
            "order_id": order_id,
            "refund_id": refund_id,
            "lines": [{"line_id": "L1", "amount_fen": fen}],
        },
    )
    return event


def post(stack, channel, event):
    status, _, payload = stack.post_channel_event(channel, event)
    assert status == 202, payload


def member_id(stack):
    return stack.http(
        "GET",
        "/v1/members/lookup",
        query={"type": "phone", "value": "13800000001"},
        headers=stack.auth("agent"),
    )[2]["member_id"]


def points(stack, member):
    status, _, body = stack.http("GET", f"/v1/members/{member}/points", headers=stack.auth("agent"))
    assert status == 200, body
    return body


@pytest.fixture
def earned(stack):
    """500 yuan paid on Tmall, reported again by JD, completed, and seven days gone by."""
    post(stack, "tmall", order_paid("tm-1", "SO-1", 50_000))
    post(stack, "jd", order_paid("jd-1", "SO-1", 50_000))
    post(stack, "tmall", completed("tm-2", "SO-1"))
    stack.drain()
    member = member_id(stack)
    assert points(stack, member)["pending"] == 500
    stack.runtime.clock.set(stack.now() + timedelta(days=8))  # jump: no catch-up runs
    run = stack.fire_schedule("points-daily")
    assert run["error"] is None, run
    return member


def test_the_same_order_from_two_channels_earns_once_and_matures(stack, earned):
    body = points(stack, earned)
    assert (body["available"], body["pending"], body["debt"]) == (500, 0, 0)
    assert [line["kind"] for line in body["ledger"]] == ["mature", "earn"]
    _, _, file = stack.http("GET", f"/v1/members/{earned}", headers=stack.auth("agent"))
    assert file["points"] == {"available": 500, "pending": 0, "debt": 0}
    assert file["tier"] == "silver"


def test_a_refund_takes_the_points_back(stack, earned):
    post(stack, "tmall", refunded("tm-3", "SO-1", "RF-1", 20_000))
    post(stack, "tmall", refunded("tm-3b", "SO-1", "RF-1", 20_000))  # the same refund, again
    stack.drain()
    body = points(stack, earned)
    assert (body["available"], body["pending"], body["debt"]) == (300, 0, 0)


def test_ten_redemptions_of_100_against_500_give_exactly_five_201s(stack, earned):
    answers = [
        stack.http(
            "POST",
            f"/v1/members/{earned}/redemptions",
            body={"redemption_id": f"rd-{n}", "points": 100, "reward": "花生油1L"},
            headers=stack.auth("agent"),
        )
        for n in range(10)
    ]
    assert sorted(status for status, _, _ in answers) == [201] * 5 + [409] * 5
    assert points(stack, earned)["available"] == 0
    short = next(body for status, _, body in answers if status == 409)
    assert short["error"]["code"] == "conflict"
    again = stack.http(
        "POST",
        f"/v1/members/{earned}/redemptions",
        body={"redemption_id": "rd-0", "points": 100, "reward": "花生油1L"},
        headers=stack.auth("agent"),
    )
    assert again[0] == 201
    assert again[2] == answers[0][2]  # the same answer, not a second spend
    other = stack.http(
        "POST",
        f"/v1/members/{earned}/redemptions",
        body={"redemption_id": "rd-0", "points": 50, "reward": "x"},
        headers=stack.auth("agent"),
    )
    assert other[0] == 409


def test_redemption_input_and_roles(stack, earned):
    path = f"/v1/members/{earned}/redemptions"
    bad = stack.http(
        "POST",
        path,
        body={"redemption_id": "r", "points": 1.5, "reward": "x"},
        headers=stack.auth("agent"),
    )
    assert (bad[0], bad[2]["error"]["details"][0]["field"]) == (422, "points")
    assert stack.http("POST", path, body={}, headers=stack.auth("quality"))[0] == 403
    assert stack.http("GET", f"/v1/members/{earned}/points", headers=stack.auth("leader"))[0] == 403


def test_activity_points_are_capped_per_day(stack):
    for n, kind in enumerate(["survey", "survey", "checkin"]):
        event = load_event("channel/points-activity.json")
        event.update(
            event_id=f"act-{n}",
            member={"identities": [PHONE]},
            data={"activity_id": f"a-{n}", "kind": kind},
        )
        post(stack, "miniprogram", event)
    stack.drain()
    assert points(stack, member_id(stack))["available"] == 30
