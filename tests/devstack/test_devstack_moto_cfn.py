"""Each workaround in devstack.moto_cfn, shown against moto's own behaviour.

The first test of each pair asserts what moto does WITHOUT the workaround: when a moto upgrade
fixes it, that test fails, and the workaround (and the test) can be dropped (docs/decisions.md D81).
"""

from __future__ import annotations

import copy
import io
import json
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devstack import moto_cfn
from devstack.sam import Expanded

REGION = "cn-north-1"


def _create(template: dict[str, Any], *, patched: bool, region: str = REGION) -> Any:
    """Create a stack with moto's CloudFormation, with or without the workarounds in place."""
    from moto.cloudformation.models import cloudformation_backends

    cf = boto3.client("cloudformation", region_name=region)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if patched:
            with moto_cfn._patched():
                stack_id = cf.create_stack(StackName="probe", TemplateBody=json.dumps(template))
        else:
            stack_id = cf.create_stack(StackName="probe", TemplateBody=json.dumps(template))
    return cloudformation_backends["123456789012"][region].stacks[stack_id["StackId"]]


BUS_REF = {
    "Resources": {
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "probe-bus"}},
        "OnBus": {
            "Type": "AWS::Events::Rule",
            "Properties": {"EventBusName": {"Ref": "Bus"}, "EventPattern": {"source": ["probe"]}},
        },
    }
}


@mock_aws
def test_1_moto_refs_an_event_bus_as_an_object() -> None:
    with pytest.raises(AttributeError, match=r"split|physical_resource_id"):
        _create(BUS_REF, patched=False)


@mock_aws
def test_1_patched_an_event_bus_ref_is_its_name() -> None:
    _create(BUS_REF, patched=True)
    rules = boto3.client("events", region_name=REGION).list_rules(EventBusName="probe-bus")
    assert [r["Name"] for r in rules["Rules"]] == ["probe-OnBus"]


def test_2_moto_parses_json_templates_with_the_yaml_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml
    from moto.cloudformation.models import Stack

    calls = []
    real_load = yaml.load
    monkeypatch.setattr(yaml, "load", lambda *a, **k: calls.append(1) or real_load(*a, **k))
    assert Stack.parse_template('{"Resources": {}}') == {"Resources": {}}
    assert calls, "moto reads JSON first now: drop workaround 2"
    calls.clear()
    with moto_cfn._patched():
        assert Stack.parse_template('{"Resources": {}}') == {"Resources": {}}
        assert Stack.parse_template("Resources: {}") == {"Resources": {}}  # YAML still works
    assert len(calls) == 1


def test_3_moto_names_end_in_random_characters() -> None:
    from moto.cloudformation import parsing

    name = parsing.generate_resource_name("AWS::Lambda::Function", "devstack", "ApiFunction")
    assert re.fullmatch(r"devstack-ApiFunction-[0-9A-Z]{12}", name)
    with moto_cfn._patched():
        assert (
            parsing.generate_resource_name("AWS::Lambda::Function", "devstack", "ApiFunction")
            == "devstack-ApiFunction"
        )


FUNCTION = {
    "Resources": {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}},
        },
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Handler": "app.handler",
                "Runtime": "python3.12",
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Code": {"S3Bucket": "devstack-code", "S3Key": "functions/probe"},
            },
        },
    }
}


@mock_aws
def test_4_moto_copies_function_code_from_s3() -> None:
    with pytest.raises(Exception, match=r"(?i)bucket|key|code"):
        _create(FUNCTION, patched=True)


@mock_aws
def test_4_patched_a_stub_per_code_key_is_enough() -> None:
    expanded = Expanded(FUNCTION, {"functions/probe": Path("/nowhere")})
    created = moto_cfn.create_stack(expanded, region=REGION)
    assert created.of_type("AWS::Lambda::Function") == {"Fn": "devstack-Fn"}


@mock_aws
def test_5_moto_delivers_to_mapped_functions_itself() -> None:
    """With an event source mapping, moto tries to run the function (in Docker) on SendMessage:
    the message's receive count is bumped before any poller sees it."""
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="probe", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return None\n")
    lambda_ = boto3.client("lambda", region_name=REGION)
    lambda_.create_function(
        FunctionName="probe",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": code.getvalue()},
    )
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="probe")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    lambda_.create_event_source_mapping(EventSourceArn=arn["QueueArn"], FunctionName="probe")
    sqs.send_message(QueueUrl=url, MessageBody="x")
    (message,) = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert int(message["Attributes"]["ApproximateReceiveCount"]) > 1


@pytest.mark.parametrize(
    "resource_type",
    [
        "AWS::ApiGatewayV2::Api",
        "AWS::Scheduler::Schedule",
        "AWS::Cognito::UserPool",
        "AWS::CloudFront::Distribution",
    ],
)
def test_6_moto_has_no_model_for(resource_type: str) -> None:
    """When moto gains one, the local stack can let it create the resource instead."""
    from moto.cloudformation.parsing import resource_class_from_type

    with moto_cfn._patched():
        assert resource_class_from_type(resource_type) is None


TABLE = {
    "Resources": {
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": "probe",
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            },
        }
    }
}


@mock_aws
def test_7_moto_ignores_time_to_live() -> None:
    _create(TABLE, patched=True)
    ttl = boto3.client("dynamodb", region_name=REGION).describe_time_to_live(TableName="probe")
    assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"


@mock_aws
def test_7_patched_time_to_live_is_set() -> None:
    moto_cfn.create_stack(Expanded(TABLE, {}), region=REGION)
    ttl = boto3.client("dynamodb", region_name=REGION).describe_time_to_live(TableName="probe")
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"


RULED = {
    "Parameters": {"Stage": {"Type": "String", "Default": "prod"}},
    "Rules": {
        "DevOnly": {
            "Assertions": [
                {
                    "Assert": {"Fn::Equals": [{"Ref": "Stage"}, "dev"]},
                    "AssertDescription": "only dev",
                }
            ]
        }
    },
    "Resources": {
        "Named": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Name": "/probe/x", "Type": "String", "Value": "x"},
        }
    },
}


@mock_aws
def test_8_moto_does_not_evaluate_template_rules() -> None:
    assert _create(RULED, patched=True).status == "CREATE_COMPLETE"


@mock_aws
def test_8_patched_a_failed_rule_fails_the_stack() -> None:
    with pytest.raises(moto_cfn.RuleFailed, match="DevOnly: only dev"):
        moto_cfn.create_stack(Expanded(RULED, {}), region=REGION)
    moto_cfn.create_stack(Expanded(RULED, {}), region="us-east-1", parameters={"Stage": "dev"})


PARTITION = {
    "Resources": {
        "Named": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {
                "Name": "/probe/partition",
                "Type": "String",
                "Value": {"Fn::Sub": "${AWS::Partition} ${AWS::URLSuffix}"},
            },
        }
    }
}


@mock_aws
def test_9_moto_has_one_partition() -> None:
    stack = _create(PARTITION, patched=False)
    assert stack.resource_map["AWS::Partition"] == "aws"


@mock_aws
@pytest.mark.parametrize(
    ("region", "expected"),
    [("cn-north-1", "aws-cn amazonaws.com.cn"), ("us-east-1", "aws amazonaws.com")],
)
def test_9_patched_the_partition_is_the_regions(region: str, expected: str) -> None:
    _create(PARTITION, patched=True, region=region)
    ssm = boto3.client("ssm", region_name=region)
    assert ssm.get_parameter(Name="/probe/partition")["Parameter"]["Value"] == expected


@mock_aws
def test_10_moto_eventbridge_cannot_deliver_to_lambda() -> None:
    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="probe", EventPattern=json.dumps({"source": ["probe"]}))
    target = f"arn:aws-cn:lambda:{REGION}:123456789012:function:probe"
    events.put_targets(Rule="probe", Targets=[{"Id": "fn", "Arn": target}])
    with pytest.raises(Exception, match=r"NotImplemented|Expr not defined"):
        events.put_events(Entries=[{"Source": "probe", "DetailType": "x", "Detail": "{}"}])


def test_create_stack_refuses_to_run_outside_a_mock() -> None:
    with pytest.raises(RuntimeError, match="mock_aws"):
        moto_cfn.create_stack(Expanded(TABLE, {}), region=REGION)


@mock_aws
def test_10_moto_makes_key_material_for_every_key() -> None:
    from moto.kms.models import kms_backends

    kms = boto3.client("kms", region_name=REGION)
    first, second = (kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(2))
    keys = kms_backends["123456789012"][REGION].keys
    assert keys[first].private_key is not keys[second].private_key
    with moto_cfn._patched():
        third, fourth = (kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(2))
    assert keys[third].private_key is keys[fourth].private_key


def _versioned(extra: dict[str, Any]) -> dict[str, Any]:
    """FUNCTION with a published version (as SAM's AutoPublishAlias writes it) and `extra`."""
    resources = {
        **FUNCTION["Resources"],
        "FnVersion": {
            "Type": "AWS::Lambda::Version",
            "Properties": {"FunctionName": {"Ref": "Fn"}},
        },
        **extra,
    }
    return {"Resources": resources}


def _value(name: str, value: Any) -> dict[str, Any]:
    return {
        name: {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Name": f"/probe/{name}", "Type": "String", "Value": value},
        }
    }


@mock_aws
def test_12_moto_refs_a_version_by_its_logical_id() -> None:
    moto_cfn._put_stub_code(REGION, {"functions/probe"})
    _create(_versioned(_value("Ref", {"Ref": "FnVersion"})), patched=False)
    ssm = boto3.client("ssm", region_name=REGION)
    assert ssm.get_parameter(Name="/probe/Ref")["Parameter"]["Value"] == "FnVersion"


@mock_aws
def test_12_moto_has_no_version_attribute() -> None:
    moto_cfn._put_stub_code(REGION, {"functions/probe"})
    with pytest.raises(AttributeError, match="get_cfn_attribute"):
        _create(_versioned(_value("Att", {"Fn::GetAtt": ["FnVersion", "Version"]})), patched=False)


@mock_aws
def test_12_patched_a_version_is_its_arn_and_number() -> None:
    template = _versioned(
        {
            **_value("Ref", {"Ref": "FnVersion"}),
            **_value("Att", {"Fn::GetAtt": ["FnVersion", "Version"]}),
        }
    )
    moto_cfn.create_stack(Expanded(template, {"functions/probe": Path("/nowhere")}), region=REGION)
    ssm = boto3.client("ssm", region_name=REGION)
    arn = f"arn:aws-cn:lambda:{REGION}:123456789012:function:devstack-Fn:1"
    assert ssm.get_parameter(Name="/probe/Ref")["Parameter"]["Value"] == arn
    assert ssm.get_parameter(Name="/probe/Att")["Parameter"]["Value"] == "1"


ALIAS = {
    "FnAliaslive": {
        "Type": "AWS::Lambda::Alias",
        "Properties": {
            "Name": "live",
            "FunctionName": {"Ref": "Fn"},
            "FunctionVersion": {"Fn::GetAtt": ["FnVersion", "Version"]},
        },
    },
    "FnPermission": {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": "FnAliaslive"},
            "Principal": "apigateway.amazonaws.com",
        },
    },
}


@mock_aws
def test_13_moto_has_no_alias_model_so_a_permission_on_an_alias_fails() -> None:
    from moto.cloudformation.parsing import resource_class_from_type

    assert resource_class_from_type("AWS::Lambda::Alias") is None
    moto_cfn._put_stub_code(REGION, {"functions/probe"})
    template = _versioned(copy.deepcopy(ALIAS))
    del template["Resources"]["FnAliaslive"]["Properties"]["FunctionVersion"]  # see 12
    with pytest.raises(KeyError, match="FunctionName"):
        _create(template, patched=False)


@mock_aws
@pytest.mark.parametrize("region", ["cn-north-1", "us-east-1"])
def test_13_patched_an_alias_is_created_and_is_its_arn(region: str) -> None:
    template = _versioned({**ALIAS, **_value("Ref", {"Ref": "FnAliaslive"})})
    expanded = Expanded(template, {"functions/probe": Path("/nowhere")})
    created = moto_cfn.create_stack(expanded, region=region)
    partition = "aws-cn" if region.startswith("cn-") else "aws"
    arn = f"arn:{partition}:lambda:{region}:123456789012:function:devstack-Fn:live"
    assert created.of_type("AWS::Lambda::Alias") == {"FnAliaslive": arn}
    ssm = boto3.client("ssm", region_name=region)
    assert ssm.get_parameter(Name="/probe/Ref")["Parameter"]["Value"] == arn
    lambda_ = boto3.client("lambda", region_name=region)
    (alias,) = lambda_.list_aliases(FunctionName="devstack-Fn")["Aliases"]
    assert (alias["Name"], alias["FunctionVersion"]) == ("live", "1")
    policy = json.loads(lambda_.get_policy(FunctionName="devstack-Fn", Qualifier="live")["Policy"])
    assert policy["Statement"][0]["Principal"] == {"Service": "apigateway.amazonaws.com"}
