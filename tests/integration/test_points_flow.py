"""Points through the real handlers: webhooks -> points consumer -> points-daily -> API."""

import json
from datetime import timedelta

import pytest

from tests.conftest import arrive as shared_arrive
from tests.conftest import load_event, member_with

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
            headers=stack.auth("admin"),
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
        headers=stack.auth("admin"),
    )
    assert again[0] == 201
    assert again[2] == answers[0][2]  # the same answer, not a second spend
    other = stack.http(
        "POST",
        f"/v1/members/{earned}/redemptions",
        body={"redemption_id": "rd-0", "points": 50, "reward": "x"},
        headers=stack.auth("admin"),
    )
    assert other[0] == 409


def test_redemption_input_and_roles(stack, earned):
    path = f"/v1/members/{earned}/redemptions"
    bad = stack.http(
        "POST",
        path,
        body={"redemption_id": "r", "points": 1.5, "reward": "x"},
        headers=stack.auth("admin"),
    )
    assert (bad[0], bad[2]["error"]["details"][0]["field"]) == (422, "points")
    assert stack.http("POST", path, body={}, headers=stack.auth("quality"))[0] == 403
    assert stack.http("GET", f"/v1/members/{earned}/points", headers=stack.auth("leader"))[0] == 403


def test_activity_points_are_capped_per_day(stack):
    for n, kind in enumerate(["survey", "survey", "checkin"]):
        event = load_event("channel/points-activity.json")
        event.update(
            event_id=f"act-{n}",
            occurred_at=stack.now().isoformat(),  # within the 31 days the day count keeps
            member={"identities": [PHONE]},
            data={"activity_id": f"a-{n}", "kind": kind},
        )
        post(stack, "miniprogram", event)
    stack.drain()
    assert points(stack, member_id(stack))["available"] == 30


# -- issue 11 --------------------------------------------------------------------------------------
def identified(event_id, *identities):
    event = load_event("channel/member-identified.json")
    event.update(event_id=event_id, member={"identities": [dict(i) for i in identities]})
    return event


def arrive(stack, event, channel="tmall"):
    """One event dated now, handled everywhere (see tests.conftest.arrive)."""
    event["occurred_at"] = stack.now().isoformat()
    shared_arrive(stack, event, channel)


class HeldPoints:
    """The points consumer is down: its messages wait until the test hands them back in the
    order it chooses."""

    def __init__(self, stack):
        self.stack = stack
        runtime = stack.runtime
        self.consumer = next(q for q in runtime.queues if q.function == "PointsConsumerFunction")
        runtime.queues.remove(self.consumer)
        runtime.consumer_queue_urls.remove(self.consumer.url)

    def take(self):
        sqs, url = self.stack.client("sqs"), self.consumer.url
        bodies = []
        while got := sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["SentTimestamp"]
        ).get("Messages", []):
            for m in got:
                bodies.append((int(m["Attributes"]["SentTimestamp"]), m["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return [b for _, b in sorted(bodies, key=lambda x: x[0])]

    def release(self, *bodies):
        runtime = self.stack.runtime
        runtime.queues.append(self.consumer)
        runtime.consumer_queue_urls.append(self.consumer.url)
        for body in bodies:
            self.stack.client("sqs").send_message(QueueUrl=self.consumer.url, MessageBody=body)
            report = self.stack.drain()
            assert report.errors == {}, report


def member_file(stack, member):
    status, _, body = stack.http("GET", f"/v1/members/{member}", headers=stack.auth("agent"))
    assert status == 200, body
    return body


def refund_cases(stack):
    status, _, body = stack.http("GET", "/v1/review-cases", headers=stack.auth("admin"))
    assert status == 200, body
    return [c for c in body["items"] if c["reason"] == "refund_exceeds_line"]


def refund_of(event_id, order_id, refund_id, lines, identity=PHONE):
    event = refunded(event_id, order_id, refund_id, 0)
    event["member"] = {"identities": [identity]}
    event["data"]["lines"] = [{"line_id": lid, "amount_fen": fen} for lid, fen in lines]
    return event


def test_points_follow_the_live_survivor_when_merges_arrive_out_of_order(stack):
    c = {"type": "alipay_user_id", "value": "ali-c"}
    a = {"type": "phone", "value": "13800000041"}
    b = {"type": "wechat_unionid", "value": "union-b"}
    arrive(stack, order_paid("c-1", "SO-C", 15_000, phone=c))
    arrive(stack, identified("a", a))
    arrive(stack, order_paid("b-1", "SO-B", 30_000, phone=b))
    member_c = member_with(stack, c)

    held = HeldPoints(stack)
    arrive(stack, identified("a-b", a, b))  # A absorbs B
    arrive(stack, identified("c-a", c, a))  # C absorbs A
    merges = held.take()
    assert [json.loads(m)["detail-type"] for m in merges] == ["member.merged"] * 2
    held.release(*reversed(merges))  # C<-A handled first, then A<-B

    assert points(stack, member_c)["pending"] == 450
    assert [o["order_id"] for o in member_file(stack, member_c)["orders"]] == ["SO-B", "SO-C"]


def test_a_refund_before_its_payment_naming_a_missing_or_exceeded_line_never_blocks_it(stack):
    post(stack, "tmall", refund_of("rf-1", "SO-9", "RF-missing", [("L9", 100)]))
    post(stack, "tmall", refund_of("rf-2", "SO-9", "RF-over", [("L1", 90_000)]))
    stack.drain()
    post(stack, "tmall", order_paid("p-9", "SO-9", 30_000))
    stack.drain()
    assert points(stack, member_id(stack))["pending"] == 300
    assert stack.dlq_messages("PointsQueue") == []
    assert len(refund_cases(stack)) == 2


def test_a_refund_above_what_is_left_of_a_line_applies_nothing_and_opens_a_case(stack, earned):
    post(stack, "tmall", refunded("tm-3", "SO-1", "RF-1", 50_000))  # all of the line
    post(stack, "jd", refunded("jd-3", "SO-1", "JD-RF-9", 50_000))  # the same refund, by JD
    post(stack, "tmall", refunded("tm-4", "SO-1", "RF-2", 90_000))  # more than was paid
    stack.drain()
    body = points(stack, earned)
    assert (body["available"], body["pending"], body["debt"]) == (0, 0, 0)
    assert [line["kind"] for line in body["ledger"]].count("refund") == 1
    cases = refund_cases(stack)
    assert [c["member_ids"] for c in cases] == [[earned], [earned]]
    assert stack.dlq_messages("PointsQueue") == []


def test_an_unmerge_moves_the_orders_that_came_through_the_identity(stack):
    phone = {"type": "phone", "value": "13800000051"}
    union = {"type": "wechat_unionid", "value": "union-51"}
    arrive(stack, order_paid("r-1", "SO-R", 10_000, phone=phone))
    arrive(stack, order_paid("b-1", "SO-B1", 20_000, phone=union))
    arrive(stack, identified("join", phone, union))  # B merges into R
    arrive(stack, order_paid("b-2", "SO-B2", 5_000, phone=union))  # through U, after the merge
    survivor = member_with(stack, phone)
    assert points(stack, survivor)["pending"] == 350

    status, _, split = stack.http(
        "POST",
        f"/v1/members/{survivor}/unmerge",
        body={"identity": union},
        headers=stack.auth("admin"),
    )
    assert status == 200, split
    stack.drain()
    new = split["new_member_id"]
    assert points(stack, new)["pending"] == 250
    assert points(stack, survivor)["pending"] == 100
    assert [o["order_id"] for o in member_file(stack, new)["orders"]] == ["SO-B2", "SO-B1"]
    assert [o["order_id"] for o in member_file(stack, survivor)["orders"]] == ["SO-R"]
    arrive(stack, order_paid("b-3", "SO-B3", 1_000, phone=union))  # U's orders go to N now
    assert points(stack, new)["pending"] == 260


def test_the_file_lists_recent_orders_newest_first_across_merged_members(stack):
    union = {"type": "wechat_unionid", "value": "union-61"}
    arrive(stack, order_paid("f-2", "SO-F2", 12_345))
    arrive(stack, order_paid("f-1", "SO-F1", 5_000, phone=union))  # paid later: listed first
    absorbed = member_with(stack, union)
    arrive(stack, identified("join", PHONE, union))
    post(stack, "tmall", refunded("f-3", "SO-F2", "RF-1", 2_345))
    post(stack, "tmall", completed("f-4", "SO-F2"))
    stack.drain()
    survivor = member_id(stack)
    orders = member_file(stack, survivor)["orders"]
    assert [o["order_id"] for o in orders] == ["SO-F1", "SO-F2"]
    assert {k: orders[1][k] for k in ("channel", "amount_fen", "points", "status")} == {
        "channel": "tmall",
        "amount_fen": 12_345,
        "points": 100,
        "status": "partially_refunded",
    }
    assert (orders[0]["points_status"], orders[0]["paid_at"][:4]) == (
        "pending",
        str(stack.now().year),
    )
    assert member_file(stack, absorbed)["orders"] == orders  # an absorbed id answers the same


def test_erasure_makes_the_members_orders_forget_their_lineage(stack):
    arrive(stack, order_paid("e-1", "SO-E1", 10_000))
    member = member_id(stack)
    table, ddb = stack.table_name("PointsTable"), stack.client("dynamodb")

    def order_row():
        key = {"pk": {"S": "ORDER#SO-E1"}, "sk": {"S": "ORDER"}}
        return ddb.get_item(TableName=table, Key=key)["Item"]

    assert "via" in order_row()
    assert stack.http("DELETE", f"/v1/members/{member}", headers=stack.auth("admin"))[0] == 200
    stack.drain()
    assert "via" not in order_row()


def test_activity_back_dated_past_the_window_awards_nothing_and_is_not_parked(stack):
    event = load_event("channel/points-activity.json")
    event.update(
        event_id="act-old",
        occurred_at=(stack.now() - timedelta(days=40)).isoformat(),
        member={"identities": [PHONE]},
        data={"activity_id": "a-old", "kind": "survey"},
    )
    post(stack, "miniprogram", event)
    stack.drain()
    body = points(stack, member_id(stack))
    assert body["available"] == 0
    assert [line["kind"] for line in body["ledger"]] == ["activity:survey"]
    assert stack.dlq_messages("PointsQueue") == []
