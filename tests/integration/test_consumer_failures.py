"""Partial batches, retries and dead letters: nothing lost, nothing counted twice."""

import json

from botocore.exceptions import ClientError

from devstack.provision import LOCAL_PII_KEY
from omnihub import wiring
from omnihub.identity.vault import PiiVault
from tests.conftest import load_event


def identified(event_id, phone):
    event = load_event("channel/member-identified.json")
    event["event_id"] = event_id
    event["member"] = {"identities": [{"type": "phone", "value": phone}]}
    return event


def test_a_poison_message_is_parked_with_its_reason_and_the_batch_goes_on(stack):
    queue = stack.queue_url("IdentityQueue")
    stack.client("sqs").send_message(QueueUrl=queue, MessageBody="{not an event")
    stack.post_channel_event("tmall", identified("ok-1", "13800000011"))
    stack.drain()
    (parked,) = stack.dlq_messages("IdentityQueue")
    assert parked["body"] == "{not an event"
    attributes = parked["message_attributes"]
    assert attributes["reason"]["StringValue"].startswith("the message is not an EventBridge event")
    assert attributes["error_type"]["StringValue"] == "MalformedBody"
    lookup = stack.http(
        "GET",
        "/v1/members/lookup",
        query={"type": "phone", "value": "13800000011"},
        headers=stack.auth("agent"),
    )
    assert lookup[0] == 200


def test_a_record_that_keeps_failing_is_retried_then_dead_lettered_and_the_rest_processed(
    stack, monkeypatch
):
    real_store = wiring.member_store

    class FlakyForOnePhone:
        """DynamoDB throttles every read that touches one member's phone; others pass."""

        def __init__(self, inner, bad_key):
            self._inner, self._bad_key = inner, bad_key

        def claims(self, refs, **kwargs):
            if any(key == self._bad_key for _, key in refs):
                raise ClientError(
                    {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}},
                    "BatchGetItem",
                )
            return self._inner.claims(refs, **kwargs)

        def __getattr__(self, name):
            return getattr(self._inner, name)

    bad_key = PiiVault.from_b64(LOCAL_PII_KEY).lookup_key("phone", "+8613800000066")
    monkeypatch.setattr(wiring, "member_store", lambda: FlakyForOnePhone(real_store(), bad_key))
    for n, phone in enumerate(["13800000064", "13800000066", "13800000065"]):
        assert stack.post_channel_event("jd", identified(f"batch-{n}", phone))[0] == 202
    stack.drain()

    (dead,) = stack.dlq_messages("IdentityQueue")
    assert dead["body"]["detail"]["event_id"] == "batch-1"
    assert int(dead["attributes"]["ApproximateReceiveCount"]) >= 5  # maxReceiveCount
    monkeypatch.setattr(wiring, "member_store", real_store)
    for phone, status in [("13800000064", 200), ("13800000065", 200), ("13800000066", 404)]:
        answer = stack.http(
            "GET",
            "/v1/members/lookup",
            query={"type": "phone", "value": phone},
            headers=stack.auth("agent"),
        )
        assert answer[0] == status, phone


def test_redriving_the_dead_letter_finishes_the_work_exactly_once(stack, monkeypatch):
    """After the fault is fixed an operator moves the message back; replays change nothing."""
    stack.post_channel_event("jd", identified("redrive-1", "13800000077"))
    stack.drain()
    members = stack.client("dynamodb").scan(TableName=stack.table_name("MembersTable"))["Count"]
    queue = stack.queue_url("IdentityQueue")
    envelope = json.dumps(
        {
            "source": "omnihub.channels",
            "detail-type": "member.identified",
            "detail": json.loads(
                stack.client("dynamodb").get_item(
                    TableName=stack.table_name("EventLogTable"),
                    Key={"pk": {"S": "IN#jd#redrive-1"}},
                )["Item"]["detail"]["S"]
            ),
        }
    )
    for _ in range(3):
        stack.client("sqs").send_message(QueueUrl=queue, MessageBody=envelope)
    stack.drain()
    after = stack.client("dynamodb").scan(TableName=stack.table_name("MembersTable"))["Count"]
    assert after == members
    assert stack.dlq_messages("IdentityQueue") == []
