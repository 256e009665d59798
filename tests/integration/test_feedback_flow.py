"""Feedback through the real handlers: webhook -> event log -> bus -> feedback consumer -> the
outbox's domain events, the FeedbackTable and the insights API."""

from __future__ import annotations

import copy
import json
import logging
import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from omnihub.adapters.aws import client
from omnihub.adapters.feedback_store import DynamoFeedbackStore
from omnihub.errors import ConcurrentChange
from omnihub.feedback.classifier import classify
from omnihub.feedback.model import FeedbackRecord, FeedbackWrite, Incoming
from tests.conftest import load_event

RANCID = "花生油有哈喇味，怀疑变质了"
MOULDY = "这批油闻着有股霉味，吃了以后拉肚子"
LEAKING = "油桶漏油了，箱子里全是油"
SMOKE_POINT = "高油酸花生油的烟点是多少？"
DAMP = "包装破了，米也受潮了"


def feedback(event_id: str, text: str, *, phone: str = "13800000001", **data: Any) -> dict:
    event = copy.deepcopy(load_event("channel/feedback-received.json"))
    event["event_id"] = event_id
    event["member"] = {"identities": [{"type": "phone", "value": phone}]}
    event["data"] = {"feedback_id": f"FB-{event_id}", "text": text, "kind": "review", **data}
    return event


def post(stack, event: dict, channel: str = "tmall") -> None:
    status, _, body = stack.post_channel_event(channel, event)
    assert status == 202, body


def settle(stack) -> None:
    report = stack.drain()
    assert report.errors == {}
    assert stack.dlq_messages("FeedbackQueue") == []


def domain_events(stack, kind: str) -> list[dict[str, Any]]:
    """The outbox rows of one type (a test's look at what the forwarder published)."""
    found = []
    for page in (
        stack.client("dynamodb")
        .get_paginator("scan")
        .paginate(TableName=stack.table_name("EventLogTable"))
    ):
        for item in page["Items"]:
            if item["pk"]["S"].startswith("OUT#") and item["detail_type"]["S"] == kind:
                found.append(json.loads(item["detail"]["S"]))
    return sorted(found, key=lambda d: d["occurred_at"])


def feedback_store(stack) -> DynamoFeedbackStore:
    return DynamoFeedbackStore(
        stack.client("dynamodb"),
        stack.table_name("FeedbackTable"),
        stack.table_name("EventLogTable"),
        stack.table_name("MembersTable"),
    )


def member_of(stack, phone: str) -> str:
    status, _, found = stack.http(
        "GET",
        "/v1/members/lookup",
        query={"type": "phone", "value": phone},
        headers=stack.auth("agent"),
    )
    assert status == 200, found
    return str(found["member_id"])


def test_rancid_oil_raises_a_p1_ticket_an_alert_with_the_batch_and_a_second_report_a_hold(stack):
    post(stack, feedback("r1", RANCID, sku="OIL-PN-1L8", batch_no="B20260901", order_id="SO1"))
    settle(stack)
    member = member_of(stack, "13800000001")
    (ticket,) = domain_events(stack, "ticket.requested")
    assert ticket["member_id"] == member
    assert ticket["causing_event_id"] == "tmall:r1"
    assert ticket["data"]["priority"] == "P1"
    assert ticket["data"]["batch_no"] == "B20260901"
    assert ticket["data"]["feedback_id"] == "FB-r1"
    (alert,) = domain_events(stack, "alert.food_safety")
    assert (alert["data"]["batch_no"], alert["data"]["sku"]) == ("B20260901", "OIL-PN-1L8")
    assert "哈喇味" in alert["data"]["evidence"]
    notices = domain_events(stack, "notification.requested")
    (ack,) = [n for n in notices if n["data"]["purpose"] == "ticket_acknowledgement"]
    assert ack["data"]["text"] == "您的反馈已受理，专员将在30分钟内联系您"
    teams = sorted(n["data"]["audience"] for n in notices if n["data"]["purpose"] == "team_alert")
    assert teams == ["pr", "quality", "supply_chain"]  # the P1 ticket told its three teams
    assert domain_events(stack, "batch.hold_requested") == []

    post(stack, feedback("r2", MOULDY, phone="13900000002", sku="OIL-PN-5L", batch_no="B20260901"))
    settle(stack)
    (hold,) = domain_events(stack, "batch.hold_requested")
    assert hold["data"]["batch_no"] == "B20260901"
    assert hold["data"]["reports"] == 2
    assert sorted(hold["data"]["feedback_refs"]) == ["tmall:FB-r1", "tmall:FB-r2"]
    assert len(domain_events(stack, "alert.food_safety")) == 2

    post(stack, feedback("r3", RANCID, phone="13900000003", batch_no="B20260901"))
    settle(stack)
    assert len(domain_events(stack, "batch.hold_requested")) == 1

    status, _, holds = stack.http("GET", "/v1/insights/batch-holds", headers=stack.auth("quality"))
    assert status == 200
    assert [h["batch_no"] for h in holds["items"]] == ["B20260901"]
    assert stack.http("GET", "/v1/insights/batch-holds", headers=stack.auth("agent"))[0] == 403


def test_a_leak_is_p2_an_inquiry_is_answered_and_no_log_line_holds_the_words(stack, caplog):
    caplog.set_level(logging.DEBUG)
    words = "我叫王小明，电话13912345678，" + LEAKING
    post(stack, feedback("l1", words, sku="OIL-PN-5L"))
    post(stack, feedback("q1", SMOKE_POINT, phone="13900000002"), channel="miniprogram")
    post(stack, feedback("s1", "希望出个两斤装的小包装大米", phone="13900000003"), channel="app")
    settle(stack)

    (ticket,) = domain_events(stack, "ticket.requested")
    assert (ticket["data"]["priority"], ticket["data"]["feedback_id"]) == ("P2", "FB-l1")
    assert domain_events(stack, "alert.food_safety") == []
    notices = {
        n["data"]["feedback_id"]: n["data"] for n in domain_events(stack, "notification.requested")
    }
    assert notices["FB-l1"]["text"] == "您的反馈已受理，专员将在2小时内联系您"
    answer = notices["FB-q1"]
    assert (answer["purpose"], answer["channel"]) == ("knowledge_answer", "miniprogram")
    assert answer["knowledge_entry"] == "smoke_point.high_oleic_peanut_oil"
    assert "230℃" in answer["text"]
    assert notices["FB-s1"]["purpose"] == "thanks"

    status, _, board = stack.http("GET", "/v1/insights/suggestions", headers=stack.auth("quality"))
    assert status == 200
    assert [(s["feedback_id"], s["text"]) for s in board["items"]] == [
        ("FB-s1", "希望出个两斤装的小包装大米")
    ]

    (recent,) = feedback_store(stack).recent_feedback(member_of(stack, "13800000001"), 10)
    assert (recent["feedback_id"], recent["priority"], recent["intent"]) == (
        "FB-l1",
        "P2",
        "complaint",
    )
    assert "text" not in recent

    # every record of the functions' loggers with its extras (what Powertools writes as JSON);
    # the SDK's own wire logs are not the functions' logs
    logged = "\n".join(
        json.dumps(r.__dict__, default=str, ensure_ascii=False)
        for r in caplog.records
        if not r.name.startswith(("botocore", "boto3", "urllib3", "moto"))
    )
    assert '"priority": "P2"' in logged  # the consumer's records and extras were captured
    for secret in ("王小明", "13912345678", "漏油", SMOKE_POINT):
        assert secret not in logged


def test_three_damp_small_packs_raise_a_cluster_per_topic_that_staff_can_list(stack):
    for n, phone in enumerate(["13800000011", "13800000012", "13800000013"]):
        post(stack, feedback(f"d{n}", DAMP, phone=phone, sku="RICE-MINI-1KG"), channel="jd")
    settle(stack)
    clusters = domain_events(stack, "cluster.detected")
    found = sorted(
        (c["data"]["scope"], c["data"]["key"], c["data"]["topic"], c["data"]["count"])
        for c in clusters
    )
    # a report counts for each of its topics: small packs, and damp
    assert found == [
        ("sku", "RICE-MINI-1KG", "packaging", 3),
        ("sku", "RICE-MINI-1KG", "storage", 3),
    ]
    for cluster in clusters:
        assert sorted(cluster["data"]["feedback_refs"]) == ["jd:FB-d0", "jd:FB-d1", "jd:FB-d2"]

    post(stack, feedback("d3", DAMP, phone="13800000014", sku="RICE-MINI-1KG"), channel="jd")
    settle(stack)
    assert len(domain_events(stack, "cluster.detected")) == 2

    for role in ("quality", "admin", "agent"):
        status, _, listed = stack.http("GET", "/v1/insights/clusters", headers=stack.auth(role))
        assert status == 200, role
        assert sorted((c["key"], c["topic"]) for c in listed["items"]) == [
            ("RICE-MINI-1KG", "packaging"),
            ("RICE-MINI-1KG", "storage"),
        ]
    for role, scope in (("leader", {"leader": "ldr-1"}), ("store", {"store": "s-01"})):
        status, _, body = stack.http(
            "GET", "/v1/insights/clusters", headers=stack.auth(role, **scope)
        )
        assert (status, body["error"]["code"]) == (403, "forbidden")


def _feedback_table(stack) -> list[dict[str, Any]]:
    rows = stack.client("dynamodb").scan(TableName=stack.table_name("FeedbackTable"))["Items"]
    return sorted(rows, key=lambda r: (r["pk"]["S"], r["sk"]["S"]))


def test_a_replayed_feedback_changes_nothing_and_publishes_nothing(stack):
    event = feedback("x1", RANCID, sku="OIL-PN-1L8", batch_no="B1")
    post(stack, event)
    settle(stack)
    rows, published = (
        _feedback_table(stack),
        stack.client("dynamodb").scan(TableName=stack.table_name("EventLogTable"))["Count"],
    )

    # the same feedback again under a new event id (a channel that re-sends)
    again = copy.deepcopy(event)
    again["event_id"] = "x1-resent"
    post(stack, again)
    # and the bus event delivered twice (at-least-once)
    inbound = stack.client("dynamodb").get_item(
        TableName=stack.table_name("EventLogTable"), Key={"pk": {"S": "IN#tmall#x1"}}
    )["Item"]
    body = {
        "source": "omnihub.channels",
        "detail-type": "feedback.received",
        "detail": json.loads(inbound["detail"]["S"]),
    }
    stack.client("sqs").send_message(
        QueueUrl=stack.queue_url("FeedbackQueue"), MessageBody=json.dumps(body)
    )
    settle(stack)

    assert _feedback_table(stack) == rows
    after = stack.client("dynamodb").scan(TableName=stack.table_name("EventLogTable"))["Count"]
    assert after == published + 1  # only the re-sent channel event's own IN# row
    assert len(domain_events(stack, "ticket.requested")) == 1


def test_a_feedback_that_breaks_its_contract_is_parked_with_its_reason(stack):
    envelope = {
        "channel": "tmall",
        "event_id": "bad-1",
        "type": "feedback.received",
        "occurred_at": "2026-11-11T10:00:00+08:00",
        "received_at": "2026-11-11T02:00:00Z",
        "data": {"feedback_id": "FB-bad", "kind": "review"},
    }
    body = {"source": "omnihub.channels", "detail-type": "feedback.received", "detail": envelope}
    stack.client("sqs").send_message(
        QueueUrl=stack.queue_url("FeedbackQueue"), MessageBody=json.dumps(body)
    )
    stack.drain()
    (parked,) = stack.dlq_messages("FeedbackQueue")
    assert parked["message_attributes"]["reason"]["StringValue"] == "invalid fields: text"


def test_feedback_follows_a_merge_and_erasure_drops_its_texts(stack):
    post(stack, feedback("m1", LEAKING, phone="13800000021"))
    unionid = {"type": "wechat_unionid", "value": "union-m2"}
    second = feedback("m2", SMOKE_POINT)
    second["member"] = {"identities": [unionid]}
    post(stack, second, channel="miniprogram")
    settle(stack)
    store = feedback_store(stack)
    first_member = member_of(stack, "13800000021")
    assert [f["feedback_id"] for f in store.recent_feedback(first_member, 10)] == ["FB-m1"]

    joined = load_event("channel/member-identified.json")
    joined["event_id"] = "join-1"
    joined["member"] = {"identities": [{"type": "phone", "value": "13800000021"}, unionid]}
    post(stack, joined, channel="miniprogram")
    settle(stack)
    survivor = member_of(stack, "13800000021")
    (merged,) = domain_events(stack, "member.merged")
    absorbed = merged["data"]["absorbed_member_id"]
    assert merged["data"]["survivor_member_id"] == survivor
    assert sorted(f["feedback_id"] for f in store.recent_feedback(survivor, 10)) == [
        "FB-m1",
        "FB-m2",
    ]
    assert store.recent_feedback(absorbed, 10) == []

    status, _, _ = stack.http("DELETE", f"/v1/members/{survivor}", headers=stack.auth("admin"))
    assert status == 200
    settle(stack)
    texts = [row.get("text") for row in _feedback_table(stack) if row["pk"]["S"].startswith("FB#")]
    assert texts == [None, None]
    assert len(store.recent_feedback(survivor, 10)) == 2  # the readings stay


WATCHED = ("WebhookFunction", "FeedbackConsumerFunction")


@pytest.fixture
def meter(stack):
    """DynamoDB requests of the webhook and the feedback consumer (other consumers subscribed
    to the same events count their own)."""
    calls: Counter[str] = Counter()

    def count(event_name, **_):
        function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "?").removeprefix("devstack-")
        if function in WATCHED:
            calls[event_name.split(".")[-1]] += 1

    ddb = client("dynamodb")
    ddb.meta.events.register("before-call.dynamodb.*", count)
    yield calls
    ddb.meta.events.unregister("before-call.dynamodb.*", count)


def consume(stack, meter, event, channel="tmall") -> dict[str, int]:
    post(stack, event, channel)
    settle(stack)
    counts = dict(meter)
    meter.clear()
    return counts


def test_requests_per_feedback_event(stack, meter):
    # a praise from a new member: webhook 1 PutItem; resolve 1 BatchGetItem + 1 transaction;
    # the feedback's own transaction. Nothing is counted: praise is no report of a problem.
    # The first event an instance handles also loads the knowledge base: one Query, then cached
    # for five minutes (D84), so no later event below pays it.
    praise = consume(stack, meter, feedback("c1", "米很香，孩子爱吃，下次还买", sku="RICE-5KG"))
    assert praise == {"PutItem": 1, "BatchGetItem": 1, "TransactWriteItems": 2, "Query": 1}
    # a complaint with a SKU and a batch from a known member (resolving it: 2 BatchGetItem):
    # + 1 BatchGetItem for its reporter's marks and the open markers, and after the commit 1
    # strongly consistent BatchGetItem of the window's day counts of the SKU and the batch (all
    # of a report's topics at once): 4 reads, no Query (issue 17: at most 4)
    complaint = consume(stack, meter, feedback("c2", LEAKING, sku="OIL-PN-5L", batch_no="B9"))
    assert complaint == {"PutItem": 1, "BatchGetItem": 4, "TransactWriteItems": 1}
    # a food-safety report adds the batch's food-safety months to those same two reads
    rancid = consume(stack, meter, feedback("c3", RANCID, sku="OIL-PN-5L", batch_no="B9"))
    assert rancid == {"PutItem": 1, "BatchGetItem": 4, "TransactWriteItems": 1}
    # the report of a third reporter completes four clusters (leakage and packaging, on its
    # SKU and on its batch): a detection adds one Query per raised key (its marks, for the
    # references), and the four episodes open in one transaction
    for n, phone in enumerate(("13800000002", "13800000003")):
        consume(stack, meter, identified(f"known-{n}", ("phone", phone)))
    consume(
        stack, meter, feedback("c4", LEAKING, phone="13800000002", sku="OIL-PN-5L", batch_no="B9")
    )
    completing = consume(
        stack, meter, feedback("c5", LEAKING, phone="13800000003", sku="OIL-PN-5L", batch_no="B9")
    )
    assert completing == {"PutItem": 1, "BatchGetItem": 4, "TransactWriteItems": 2, "Query": 4}
    assert len(domain_events(stack, "cluster.detected")) == 4
    # while its episodes are open a report moves its marks but is not counted: no count read
    open_ = consume(stack, meter, feedback("c6", LEAKING, sku="OIL-PN-5L", batch_no="B9"))
    assert open_ == {"PutItem": 1, "BatchGetItem": 3, "TransactWriteItems": 1}
    # a duplicate webhook delivery stops at the webhook
    again = feedback("c3", RANCID, sku="OIL-PN-5L", batch_no="B9")
    assert consume_duplicate(stack, meter, again) == {"PutItem": 1}


def identified(event_id: str, *identities: tuple[str, str]) -> dict:
    event = copy.deepcopy(load_event("channel/member-identified.json"))
    event["event_id"] = event_id
    event["member"] = {"identities": [{"type": t, "value": v} for t, v in identities]}
    return event


def test_requests_per_merge_seen_by_the_feedback_consumer(stack, meter):
    consume(stack, meter, feedback("k1", LEAKING))  # member A: phone ...001, one feedback
    consume(stack, meter, identified("k2", ("wechat_unionid", "u-1")))  # member B: none
    # one Query finds nothing to move (the webhook's PutItem is the only other request)
    nothing = consume(
        stack, meter, identified("k3", ("phone", "13800000001"), ("wechat_unionid", "u-1"))
    )
    assert nothing == {"PutItem": 1, "Query": 1}
    # member C arrives with a feedback, then merges into A: find it (one page), find where
    # its lineage belongs now (the claim, its holder's chain, whether that member was erased),
    # move it in one transaction conditioned on that member still being live
    second = feedback("k4", SMOKE_POINT)
    second["member"] = {"identities": [{"type": "alipay_user_id", "value": "ali-2"}]}
    consume(stack, meter, second)
    moved = consume(
        stack, meter, identified("k5", ("phone", "13800000001"), ("alipay_user_id", "ali-2"))
    )
    assert moved == {"PutItem": 1, "Query": 1, "BatchGetItem": 3, "TransactWriteItems": 1}


def consume_duplicate(stack, meter, event) -> dict[str, int]:
    status, _, _ = stack.post_channel_event("tmall", event)
    assert status == 200
    settle(stack)
    counts = dict(meter)
    meter.clear()
    return counts


def _redeliver(stack, queue: str, detail: dict[str, Any]) -> None:
    """A domain event delivered again, late (at-least-once, out of order)."""
    body = {"source": "omnihub.identity", "detail-type": detail["type"], "detail": detail}
    stack.client("sqs").send_message(QueueUrl=stack.queue_url(queue), MessageBody=json.dumps(body))
    settle(stack)


def _kept(stack) -> dict[str, dict[str, Any]]:
    """The feedback items (FB#) and the members' file rows (MFB#) by feedback id."""
    from omnihub.adapters.dynamo import from_attributes

    rows: dict[str, dict[str, Any]] = {}
    for item in _feedback_table(stack):
        row = from_attributes(item)
        if row["pk"].startswith(("FB#", "MFB#")):
            rows[f"{row['pk'].split('#', 1)[0]}:{row['feedback_id']}"] = row
    return rows


def test_an_unmerge_takes_the_feedback_of_the_split_identity_along_and_keeps_it(stack):
    unionid = {"type": "wechat_unionid", "value": "union-u1"}
    post(stack, feedback("u1", LEAKING, phone="13800000041"))
    settle(stack)
    stack.runtime.clock.set(stack.now() + timedelta(minutes=1))
    second = feedback("u2", SMOKE_POINT)
    second["member"] = {"identities": [unionid]}
    post(stack, second, channel="miniprogram")
    settle(stack)
    joined = load_event("channel/member-identified.json")
    joined["event_id"] = "join-u"
    joined["member"] = {"identities": [{"type": "phone", "value": "13800000041"}, unionid]}
    post(stack, joined, channel="miniprogram")
    settle(stack)
    root = member_of(stack, "13800000041")
    store = feedback_store(stack)
    assert sorted(f["feedback_id"] for f in store.recent_feedback(root, 10)) == ["FB-u1", "FB-u2"]
    assert _kept(stack)["FB:FB-u2"]["via"].startswith("wechat_unionid|")

    status, _, split = stack.http(
        "POST",
        f"/v1/members/{root}/unmerge",
        body={"identity": unionid},
        headers=stack.auth("admin"),
    )
    assert status == 200, split
    settle(stack)
    new_member = split["new_member_id"]
    assert [f["feedback_id"] for f in store.recent_feedback(new_member, 10)] == ["FB-u2"]
    assert [f["feedback_id"] for f in store.recent_feedback(root, 10)] == ["FB-u1"]
    assert _kept(stack)["FB:FB-u2"]["member_id"] == new_member

    (merged,) = domain_events(stack, "member.merged")
    _redeliver(stack, "FeedbackQueue", merged)  # late: it does not drag the feedback back
    assert [f["feedback_id"] for f in store.recent_feedback(new_member, 10)] == ["FB-u2"]
    assert [f["feedback_id"] for f in store.recent_feedback(root, 10)] == ["FB-u1"]


def test_erasure_clears_the_lineage_of_the_members_feedback(stack):
    post(stack, feedback("e1", LEAKING, phone="13800000042"))
    settle(stack)
    member = member_of(stack, "13800000042")
    kept = _kept(stack)
    assert kept["FB:FB-e1"]["via"] == kept["MFB:FB-e1"]["via"]
    assert kept["FB:FB-e1"]["via"].startswith("phone|")
    status, _, _ = stack.http("DELETE", f"/v1/members/{member}", headers=stack.auth("admin"))
    assert status == 200
    settle(stack)
    kept = _kept(stack)
    assert "via" not in kept["FB:FB-e1"]
    assert "via" not in kept["MFB:FB-e1"]
    assert kept["MFB:FB-e1"]["member_id"] == member


def test_a_feedback_move_onto_a_member_merged_meanwhile_asks_again(stack):
    """The race rule for moves: each is conditioned on its target still being live."""
    alipay = {"type": "alipay_user_id", "value": "ali-m3"}
    unionid = {"type": "wechat_unionid", "value": "union-m3"}
    for n, identities in enumerate(([alipay], [unionid], [alipay, unionid])):
        event = load_event("channel/member-identified.json")
        event["event_id"] = f"m3-{n}"
        event["member"] = {"identities": identities}
        post(stack, event)
        settle(stack)
        stack.runtime.clock.set(stack.now() + timedelta(minutes=1))
    (merged,) = domain_events(stack, "member.merged")
    survivor, absorbed = (
        merged["data"]["survivor_member_id"],
        merged["data"]["absorbed_member_id"],
    )
    post(stack, identified("m3-3", ("phone", "13800000043")))
    settle(stack)
    mover = member_of(stack, "13800000043")
    store = feedback_store(stack)
    assert store.record(FeedbackWrite(_record("FB-m3", mover)))  # came with no identity
    asked: list[str | None] = []

    def where(via: str | None) -> tuple[str, bool]:
        asked.append(via)  # first answer: a member that merged on before the move commits
        return (absorbed if len(asked) == 1 else survivor), False

    assert store.move_feedback(mover, where) == 1
    assert len(asked) == 2
    assert [f["feedback_id"] for f in store.recent_feedback(survivor, 10)] == ["FB-m3"]
    assert store.recent_feedback(absorbed, 10) == []


def test_a_feedback_is_written_only_while_its_identity_still_leads_to_its_member(stack):
    """An un-merge moving the identity between resolving and writing fails the write."""
    post(stack, feedback("w1", LEAKING, phone="13800000044"))
    post(stack, feedback("w2", LEAKING, phone="13800000045"))
    settle(stack)
    elsewhere = _kept(stack)["FB:FB-w2"]["via"]  # held by the second member
    record = _record("FB-w3", member_of(stack, "13800000044"), via=elsewhere)
    with pytest.raises(ConcurrentChange):
        feedback_store(stack).record(FeedbackWrite(record))
    assert "FB:FB-w3" not in _kept(stack)


def _record(feedback_id: str, member_id: str, via: str | None = None) -> FeedbackRecord:
    at = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
    return FeedbackRecord(
        incoming=Incoming("tmall", feedback_id, LEAKING, "review", f"tmall:{feedback_id}", at, at),
        member_id=member_id,
        classification=classify(LEAKING),
        outcome="complaint",
        priority="P2",
        knowledge_entry=None,
        on_board=False,
        via=via,
    )


SMOKING_OIL = "这油炒菜一直冒烟，呛得不行"


def test_packaging_complaints_also_about_leaks_raise_a_packaging_cluster(stack):
    """Regression (issue 12, item 11): each report counted under one topic only."""
    texts = ("包装破了", "漏油了", "油桶漏油了，箱子里全是油")
    for n, text in enumerate(texts):
        post(stack, feedback(f"p{n}", text, phone=f"1380000005{n}", sku="OIL-PN-5L"))
        stack.runtime.clock.set(stack.now() + timedelta(hours=1))
    settle(stack)
    (cluster,) = domain_events(stack, "cluster.detected")
    assert (cluster["data"]["topic"], cluster["data"]["count"]) == ("packaging", 3)
    assert sorted(cluster["data"]["feedback_refs"]) == ["tmall:FB-p0", "tmall:FB-p1", "tmall:FB-p2"]


def test_one_customer_reporting_through_two_channels_requests_no_hold(stack):
    """Decision: a batch hold (and a cluster) counts reporters, not reports."""
    post(stack, feedback("h1", RANCID, phone="13800000061", batch_no="B77"))
    post(stack, feedback("h2", RANCID, phone="13800000061", batch_no="B77"), channel="miniprogram")
    settle(stack)
    assert len(domain_events(stack, "alert.food_safety")) == 2  # both reach a person
    assert domain_events(stack, "batch.hold_requested") == []
    post(stack, feedback("h3", MOULDY, phone="13800000062", batch_no="B77"))
    settle(stack)
    (hold,) = domain_events(stack, "batch.hold_requested")
    assert hold["data"]["reports"] == 2
    # one reference per reporter: its latest report
    first, second = sorted(hold["data"]["feedback_refs"])
    assert first in ("miniprogram:FB-h2", "tmall:FB-h1")
    assert second == "tmall:FB-h3"


def test_smoking_oil_and_questions_reach_a_person_or_their_own_answer(stack):
    """Regressions (issue 12, items 12 and 13) through the handler."""
    post(stack, feedback("o1", SMOKING_OIL, phone="13800000071"))
    post(stack, feedback("o2", "电饭煲煮饭冒烟了怎么回事？", phone="13800000072"))
    post(stack, feedback("o3", "我的积分能换什么东西", phone="13800000073"))
    settle(stack)
    tickets = {
        t["data"]["feedback_id"]: t["data"] for t in domain_events(stack, "ticket.requested")
    }
    assert (tickets["FB-o1"]["priority"], tickets["FB-o1"]["reason"]) == ("P2", "complaint")
    assert (tickets["FB-o2"]["priority"], tickets["FB-o2"]["reason"]) == (
        "P3",
        "unanswered_inquiry",
    )
    assert "FB-o3" not in tickets
    notices = {
        n["data"]["feedback_id"]: n["data"] for n in domain_events(stack, "notification.requested")
    }
    assert notices["FB-o2"]["purpose"] == "ticket_acknowledgement"
    assert (notices["FB-o3"]["purpose"], notices["FB-o3"]["knowledge_entry"]) == (
        "knowledge_answer",
        "points.redeem",
    )


def test_episodes_another_writer_opened_first_are_left_out_of_the_one_write(stack):
    """All of a report's new episodes open in one transaction; a marker taken meanwhile
    cancels it, and the rest are written again without it (D49)."""
    from omnihub.events.domain import DomainEvent
    from omnihub.feedback.clusters import WINDOW
    from omnihub.feedback.model import ClusterKey, Episode

    store = feedback_store(stack)
    now = stack.now()

    def found(topic: str) -> tuple[Episode, DomainEvent]:
        episode = Episode(
            cluster_id=f"cl_{topic}",
            key=ClusterKey("sku", "S", topic),
            count=3,
            window_start=now - WINDOW,
            detected_at=now,
            until=now + WINDOW,
            feedback_refs=("tmall:FB-1",),
            sku="S",
        )
        event = DomainEvent(
            type="cluster.detected",
            member_id=None,
            causing_event_id="tmall:x",
            occurred_at=now,
            data=episode.view(),
            subject=episode.cluster_id,
        )
        return episode, event

    leak, pack = found("leakage"), found("packaging")
    assert store.open_episodes([leak]) == (leak[0],)
    assert store.open_episodes([leak, pack]) == (pack[0],)
    assert store.open_episodes([leak, pack]) == ()
    assert sorted(c["topic"] for c in store.clusters(10)) == ["leakage", "packaging"]
    assert len(domain_events(stack, "cluster.detected")) == 2
