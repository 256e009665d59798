"""The TransactWriteItems patch keeps moto's semantics and copies items, not tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from devstack import moto_patches


def _table(client: Any, name: str, *, range_key: bool = False) -> None:
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    if range_key:
        attributes.append({"AttributeName": "sk", "AttributeType": "S"})
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
    client.create_table(
        TableName=name,
        AttributeDefinitions=attributes,
        KeySchema=schema,
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def _stream_length(table_name: str) -> int:
    from moto.dynamodb.models import dynamodb_backends

    shard = dynamodb_backends["123456789012"]["cn-north-1"].tables[table_name].stream_shard
    return len(shard.items)


def _scan(client: Any, name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.scan(TableName=name)["Items"]
    return sorted(items, key=lambda i: (i["pk"]["S"], i.get("sk", {}).get("S", "")))


@pytest.fixture(params=["moto", "patched"])
def dynamodb(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The same scenarios must hold with and without the patch."""
    with mock_aws():
        if request.param == "patched":
            with moto_patches.patched() as active:
                assert active
                yield boto3.client("dynamodb", region_name="cn-north-1")
        else:
            yield boto3.client("dynamodb", region_name="cn-north-1")


def test_cancelled_transaction_leaves_no_writes_and_no_stream_records(dynamodb: Any) -> None:
    _table(dynamodb, "t")
    _table(dynamodb, "u", range_key=True)
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "gone"}})
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "c"}, "state": {"S": "locked"}})
    before = {name: _scan(dynamodb, name) for name in ("t", "u")}
    streams = {name: _stream_length(name) for name in ("t", "u")}
    with pytest.raises(ClientError) as raised:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "b"}}}},
                {
                    "Update": {
                        "TableName": "t",
                        "Key": {"pk": {"S": "a"}},
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {"Delete": {"TableName": "t", "Key": {"pk": {"S": "gone"}}}},
                {"Put": {"TableName": "u", "Item": {"pk": {"S": "new"}, "sk": {"S": "1"}}}},
                {
                    "ConditionCheck": {
                        "TableName": "t",
                        "Key": {"pk": {"S": "c"}},
                        "ConditionExpression": "attribute_not_exists(#s)",
                        "ExpressionAttributeNames": {"#s": "state"},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        )
    error = raised.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    reasons = error["CancellationReasons"]
    assert [r["Code"] for r in reasons] == [
        "None",
        "None",
        "None",
        "None",
        "ConditionalCheckFailed",
    ]
    assert reasons[4]["Item"] == {"pk": {"S": "c"}, "state": {"S": "locked"}}
    assert {name: _scan(dynamodb, name) for name in ("t", "u")} == before
    assert {name: _stream_length(name) for name in ("t", "u")} == streams


def test_successful_transaction_writes_everything(dynamodb: Any) -> None:
    _table(dynamodb, "t")
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    streams = _stream_length("t")
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "b"}}}},
            {
                "Update": {
                    "TableName": "t",
                    "Key": {"pk": {"S": "a"}},
                    "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]
    )
    assert [i["pk"]["S"] for i in _scan(dynamodb, "t")] == ["a", "b"]
    assert dynamodb.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"]["n"] == {"N": "2"}
    assert _stream_length("t") == streams + 2


def test_same_item_twice_is_rejected_and_rolled_back(dynamodb: Any) -> None:
    _table(dynamodb, "t")
    with pytest.raises(ClientError) as raised:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "x"}}}},
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "x"}, "v": {"S": "2"}}}},
            ]
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert _scan(dynamodb, "t") == []
    assert _stream_length("t") == 0


def _copies_for_one_transaction(client: Any, table_size: int) -> int:
    name = f"t{table_size}"
    _table(client, name)
    for i in range(table_size):
        client.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}})
    before = moto_patches.COPIED_ITEMS
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": name, "Item": {"pk": {"S": "k0"}, "v": {"S": "x"}}}},
            {"Put": {"TableName": name, "Item": {"pk": {"S": "fresh"}}}},
            {"Delete": {"TableName": name, "Key": {"pk": {"S": "k1"}}}},
        ]
    )
    return moto_patches.COPIED_ITEMS - before


def test_copies_follow_the_touched_items_not_the_table_size() -> None:
    with mock_aws(), moto_patches.patched():
        client = boto3.client("dynamodb", region_name="cn-north-1")
        small = _copies_for_one_transaction(client, 5)
        large = _copies_for_one_transaction(client, 400)
    assert small == large == 2  # k0 and k1 existed; "fresh" had nothing to copy


def test_unsupported_moto_version_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    monkeypatch.setattr(moto_patches.moto, "__version__", "6.0.0")
    assert not moto_patches.apply()
    assert DynamoDBBackend.transact_write_items is original


def test_apply_is_reference_counted() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    assert moto_patches.apply()
    assert moto_patches.apply()
    moto_patches.revert()
    assert DynamoDBBackend.transact_write_items is not original
    moto_patches.revert()
    assert DynamoDBBackend.transact_write_items is original


def test_bus_events_to_sqs_carry_the_account() -> None:
    import json

    with mock_aws(), moto_patches.patched():
        events = boto3.client("events", region_name="cn-north-1")
        sqs = boto3.client("sqs", region_name="cn-north-1")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        shaped = sqs.create_queue(QueueName="shaped")["QueueUrl"]
        shaped_arn = sqs.get_queue_attributes(QueueUrl=shaped, AttributeNames=["QueueArn"])
        transformer = {"InputPathsMap": {"a": "$.detail.a"}, "InputTemplate": '{"value": <a>}'}
        events.put_rule(Name="r", EventPattern=json.dumps({"source": ["s"]}))
        events.put_targets(
            Rule="r",
            Targets=[
                {"Id": "q", "Arn": arn["QueueArn"]},
                {
                    "Id": "shaped",
                    "Arn": shaped_arn["Attributes"]["QueueArn"],
                    "InputTransformer": transformer,
                },
            ],
        )
        for _ in range(2):  # the second event reuses the cached JSONPaths
            events.put_events(Entries=[{"Source": "s", "DetailType": "d", "Detail": '{"a": 1}'}])
        bodies = [
            json.loads(m["Body"])
            for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        ]
        shaped_body = json.loads(sqs.receive_message(QueueUrl=shaped)["Messages"][0]["Body"])
    assert len(bodies) == 2
    for body in bodies:
        assert body["account"] == "123456789012"
        assert body["detail"] == {"a": 1}
        assert (body["version"], body["source"], body["detail-type"]) == ("0", "s", "d")
        assert body["region"] == "cn-north-1"
    assert shaped_body == {"value": 1}
