"""The identity consumer with the SQS event Lambda sends (events/sqs/bus-event.json)."""

import copy
import json

from tests.conftest import load_event


def sqs_event(*details):
    template = load_event("sqs/bus-event.json")
    record = template["Records"][0]
    records = []
    for n, (detail_type, detail) in enumerate(details):
        body = json.loads(record["body"])
        body.update({"detail-type": detail_type, "detail": detail})
        records.append({**copy.deepcopy(record), "messageId": f"m-{n}", "body": json.dumps(body)})
    return {"Records": records}


def logged_envelope(stack, channel, event):
    """Post through the webhook (which protects the identities) and read what it logged."""
    assert stack.post_channel_event(channel, event)[0] == 202
    item = stack.client("dynamodb").get_item(
        TableName=stack.table_name("EventLogTable"),
        Key={"pk": {"S": f"IN#{channel}#{event['event_id']}"}},
    )["Item"]
    return json.loads(item["detail"]["S"])


def members(stack):
    items = stack.client("dynamodb").scan(TableName=stack.table_name("MembersTable"))["Items"]
    return [i for i in items if i["sk"]["S"] == "MEMBER"]


def test_a_batch_resolves_and_a_replayed_batch_changes_nothing(stack):
    first = load_event("channel/member-identified.json")
    second = {**first, "event_id": "tm-id-0002"}
    second["member"] = {
        "identities": [
            {"type": "wechat_unionid", "value": "u-9"},
            {"type": "phone", "value": "13800000001"},
        ]
    }
    envelopes = [logged_envelope(stack, "tmall", e) for e in (first, second)]
    event = sqs_event(*(("member.identified", e) for e in envelopes))

    assert stack.runtime.invoke("IdentityConsumerFunction", event) == {"batchItemFailures": []}
    (member,) = members(stack)
    assert len(member["identities"]["L"]) == 3
    version = member["version"]["N"]

    assert stack.runtime.invoke("IdentityConsumerFunction", event) == {"batchItemFailures": []}
    (again,) = members(stack)
    assert again["version"]["N"] == version


def test_an_event_type_the_consumer_does_not_own_is_parked_not_retried(stack):
    event = sqs_event(("order.paid", {"channel": "tmall"}))
    assert stack.runtime.invoke("IdentityConsumerFunction", event) == {"batchItemFailures": []}
    (parked,) = stack.dlq_messages("IdentityQueue")
    assert parked["message_attributes"]["error_type"]["StringValue"] == "ValidationError"
