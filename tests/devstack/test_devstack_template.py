"""template.yaml to the local stack: SAM's translator, moto's CloudFormation, the model read back.

The mini fixture in detail (both partitions), the real template as a whole, and a resource type
the local stack has never seen."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from devstack.provision import LOCAL_PII_KEY, provision
from devstack.sam import read_template
from devstack.template import load_model
from tests.devstack.devstack_support import ACCOUNT, MINI_ROOT, PROJECT_ROOT


def test_short_tags_become_long_form(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "A: !GetAtt Res.Attr\nB: !Sub x-${AWS::Region}\nC: !Ref Thing\n"
        "D: !If [Cond, 1, 2]\nE: !Select [0, !Split [',', 'a,b']]\n"
    )
    data = read_template(path)
    assert data["A"] == {"Fn::GetAtt": ["Res", "Attr"]}
    assert data["B"] == {"Fn::Sub": "x-${AWS::Region}"}
    assert data["C"] == {"Ref": "Thing"}
    assert data["D"] == {"Fn::If": ["Cond", 1, 2]}
    assert data["E"] == {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}


def test_bad_parameters_are_rejected() -> None:
    with pytest.raises(Exception, match="qa"):
        load_model(MINI_ROOT, parameters={"Stage": "qa"})


@pytest.mark.parametrize(
    ("region", "partition", "suffix"),
    [("cn-north-1", "aws-cn", "amazonaws.com.cn"), ("us-east-1", "aws", "amazonaws.com")],
)
def test_mini_template_resolves_everything(region: str, partition: str, suffix: str) -> None:
    with mock_aws():
        model = load_model(MINI_ROOT, region=region)
        dynamodb = boto3.client("dynamodb", region_name=region)
        events = dynamodb.describe_table(TableName="mini-dev-events")["Table"]
        ttl = dynamodb.describe_time_to_live(TableName="mini-dev-events")
    assert events["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"
    assert [i["IndexName"] for i in events["GlobalSecondaryIndexes"]] == ["gsi1"]
    assert (model.pseudo.partition, model.pseudo.url_suffix) == (partition, suffix)
    env = model.functions["ApiFunction"].environment
    assert env["EVENTS_TABLE"] == "mini-dev-events"
    assert env["LOG_TABLE"] == "devstack-LogTable"  # a readable, stable generated name
    assert env["BUS_NAME"] == "mini-dev"
    assert env["CONSUMER_QUEUE_URL"] == model.queues["ConsumerQueue"].url
    assert env["CONSUMER_QUEUE_URL"].endswith(f"/{ACCOUNT}/mini-dev-consumer")
    assert env["CONSUMER_QUEUE_ARN"] == f"arn:{partition}:sqs:{region}:{ACCOUNT}:mini-dev-consumer"
    assert env["EVENTS_STREAM_ARN"] == model.tables["EventsTable"].stream_arn
    assert env["PARAMETER_PATH"] == "/mini/dev"
    assert env["LOG_LEVEL"] == "DEBUG"
    assert env["REGION_AND_PARTITION"] == f"{region}/{partition}"
    assert env["FIRST_AZ"]  # moto answers GetAZs from us-east-1 in every region; nothing uses it
    assert env["POWERTOOLS_SERVICE_NAME"] == "api"  # function variables merge over Globals
    assert model.functions["ApiFunction"].arn.startswith(f"arn:{partition}:lambda:{region}:")
    assert model.functions["ApiFunction"].memory_mb == 128
    assert model.functions["StreamFunction"].memory_mb == 256  # Fn::FindInMap from Globals
    assert "ProdOnlyQueue" not in model.queues  # Condition: IsProd is false in dev

    consumer = model.queues["ConsumerQueue"]
    assert json.loads(consumer.attributes["RedrivePolicy"])["maxReceiveCount"] == 2
    assert consumer.dead_letter_arn == model.queues["ConsumerDLQ"].arn
    assert consumer.attributes["VisibilityTimeout"] == "60"
    assert sorted(model.dead_letter_queues()) == ["ConsumerDLQ", "StreamDLQ"]
    assert model.ssm_parameters["Setting"].name == "/mini/dev/setting"


def test_mini_template_triggers() -> None:
    model = load_model(MINI_ROOT)
    routes = {r.route_key: r for r in model.routes}
    assert set(routes) == {
        "GET /items/{id}",
        "GET /items/special",
        "POST /hooks/{name}",
        "POST /v1/channels/{channel}/events",
        "ANY /files/{proxy+}",
    }
    staff = routes["GET /items/{id}"].authorizer
    assert staff is not None
    assert (staff.kind, staff.audience, staff.issuer) == (
        "JWT",
        ("mini-staff",),
        "https://issuer.example.com/mini",
    )
    assert routes["POST /hooks/{name}"].authorizer is None
    (stream,) = model.stream_mappings
    assert (stream.table, stream.batch_size, stream.maximum_retry_attempts) == (
        "EventsTable",
        10,
        2,
    )
    assert stream.filters == [{"eventName": ["INSERT"]}]
    assert stream.bisect_on_error
    assert stream.report_failures
    assert stream.on_failure_arn == model.queues["StreamDLQ"].arn
    (sqs,) = model.sqs_mappings
    assert (sqs.queue, sqs.batch_size, sqs.report_failures) == ("ConsumerQueue", 5, True)
    sweep, nightly, monthly = (
        model.schedules[n] for n in ("mini-sweep", "mini-nightly", "mini-monthly")
    )
    assert (sweep.expression, sweep.timezone, sweep.source) == (
        "rate(5 minutes)",
        "UTC",
        "AWS::Events::Rule",
    )
    assert sweep.arn == f"arn:aws-cn:events:cn-north-1:{ACCOUNT}:rule/mini-sweep"
    assert (nightly.timezone, nightly.source) == ("Asia/Shanghai", "AWS::Scheduler::Schedule")
    assert nightly.arn == f"arn:aws-cn:scheduler:cn-north-1:{ACCOUNT}:schedule/default/mini-nightly"
    assert not monthly.enabled
    rule = model.rules["RuleFunctionFlagged"]
    assert rule.bus_name == "mini-dev"
    assert rule.targets[0].function == "RuleFunction"
    assert rule.targets[0].extra == {"InputPath": "$.detail"}
    assert model.unsupported == []


def test_parameters_and_conditions_change_the_model() -> None:
    model = load_model(MINI_ROOT, parameters={"Stage": "prod", "Retries": "4"})
    assert "ProdOnlyQueue" in model.queues
    assert model.tables["EventsTable"].name == "mini-prod-events"
    assert model.functions["ApiFunction"].environment["LOG_LEVEL"] == "INFO"
    assert model.functions["StreamFunction"].memory_mb == 1024
    assert model.stream_mappings[0].maximum_retry_attempts == 4


def _raw_events(root: Path) -> list[tuple[str, str, dict[str, Any]]]:
    raw = read_template(root / "template.yaml")
    found = []
    for logical_id, resource in raw["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            for name, event in (resource["Properties"].get("Events") or {}).items():
                found.append((logical_id, name, event))
    return found


def test_real_template_every_function_and_trigger_is_modelled() -> None:
    raw = read_template(PROJECT_ROOT / "template.yaml")
    model = load_model(PROJECT_ROOT)
    functions = [k for k, v in raw["Resources"].items() if v["Type"] == "AWS::Serverless::Function"]
    assert sorted(model.functions) == sorted(functions)
    assert model.unsupported == []
    kinds: dict[str, int] = {}
    for _, _, event in _raw_events(PROJECT_ROOT):
        kinds[event["Type"]] = kinds.get(event["Type"], 0) + 1
    assert len(model.routes) == kinds.get("HttpApi", 0)
    assert len(model.sqs_mappings) == kinds.get("SQS", 0)
    assert len(model.stream_mappings) == kinds.get("DynamoDB", 0)
    assert len(model.schedules) == kinds.get("Schedule", 0) + kinds.get("ScheduleV2", 0)
    for spec in model.functions.values():
        assert Path(spec.code_uri).is_dir()
        assert "." in spec.handler
        assert spec.environment["PARAMETER_PATH"] == "/omnihub/dev"
        for value in spec.environment.values():
            assert isinstance(value, str)
            assert "Fn::" not in value
            assert "${" not in value
            if value.startswith("arn:"):
                assert value.startswith("arn:aws-cn:")
    for route in model.routes:
        if route.authorizer is not None:
            assert route.authorizer.kind == "JWT"
            # JwtAudience empty: the stack's own user pool clients; moto cannot create Cognito,
            # so a Ref to them is their logical id (devstack.moto_cfn, workaround 6)
            assert route.authorizer.audience == ("StaffAppClient", "StaffWebClient")
    for mapping in model.sqs_mappings:
        assert mapping.queue in model.queues
    for rule in model.rules.values():
        for target in rule.targets:
            assert target.function or model.queue_by_arn(target.arn), target
    # what neither moto nor the local stack gives a meaning to is listed, by type
    assert {"AWS::CloudWatch::Alarm", "AWS::Cognito::UserPool"} <= set(model.no_local_meaning)


def test_real_template_triggers_invoke_the_live_alias_and_are_read_as_its_function() -> None:
    """SAM's AutoPublishAlias points every trigger at `<Function>Aliaslive`; moto creates the
    alias (devstack.moto_cfn, 13) and the model maps each trigger back to its function."""
    with mock_aws():
        model = load_model(PROJECT_ROOT, region="us-east-1")
        lambda_ = boto3.client("lambda", region_name="us-east-1")
        for spec in model.functions.values():
            aliases = lambda_.list_aliases(FunctionName=spec.name)["Aliases"]
            assert [a["Name"] for a in aliases] == ["live"], spec.logical_id
    resources = model.cloudformation["Resources"]
    mappings = {(m.function, m.event_name) for m in [*model.sqs_mappings, *model.stream_mappings]}
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::Lambda::EventSourceMapping":
            target = resource["Properties"]["FunctionName"]["Ref"]
            function = target.removesuffix("Aliaslive")
            assert target != function
            assert (function, logical_id.removeprefix(function)) in mappings
    body = json.dumps(resources["HttpApi"]["Properties"]["Body"])
    assert "Aliaslive}/invocations" in body
    assert ":function:" not in body
    assert {r.function for r in model.routes} == {
        f for f in model.functions if "${" + f + "Aliaslive}" in body
    }
    rules = [r for r in resources.values() if r["Type"] == "AWS::Events::Rule"]
    scheduled = [r for r in rules if "ScheduleExpression" in r["Properties"]]
    assert scheduled
    assert all(
        t["Arn"]["Ref"].endswith("Aliaslive") for r in scheduled for t in r["Properties"]["Targets"]
    )
    assert len(model.schedules) >= len(scheduled)


def test_real_template_stack_in_moto() -> None:
    with mock_aws():
        model = load_model(PROJECT_ROOT)
        relays = provision(model)
        dynamodb = boto3.client("dynamodb", region_name="cn-north-1")
        assert sorted(dynamodb.list_tables()["TableNames"]) == sorted(
            t.name for t in model.tables.values()
        )
        for table in model.tables.values():
            described = dynamodb.describe_table(TableName=table.name)["Table"]
            assert described.get("LatestStreamArn") == table.stream_arn
        ssm = boto3.client("ssm", region_name="cn-north-1")
        secret = ssm.get_parameter(Name="/omnihub/dev/channels/tmall/secret", WithDecryption=True)
        assert secret["Parameter"]["Value"] == "local-tmall-secret"
        assert secret["Parameter"]["Type"] == "SecureString"
        key = ssm.get_parameter(Name="/omnihub/dev/pii-key", WithDecryption=True)
        assert key["Parameter"]["Value"] == LOCAL_PII_KEY
        events = boto3.client("events", region_name="cn-north-1")
        relayed = {(r.rule, r.target_id): r.arn for r in relays}
        for rule in model.rules.values():
            listed = events.list_targets_by_rule(Rule=rule.name, EventBusName=rule.bus_name)
            for target in listed["Targets"]:
                assert target["Arn"].startswith("arn:aws-cn:sqs:"), target  # none left on Lambda
                if (rule.logical_id, target["Id"]) in relayed:
                    assert target["Arn"] == relayed[(rule.logical_id, target["Id"])]


def test_provision_refuses_to_run_outside_a_mock() -> None:
    model = load_model(MINI_ROOT)
    with pytest.raises(RuntimeError, match="mock_aws"):
        provision(model)


def test_a_new_resource_type_needs_no_local_stack_code(tmp_path: Path) -> None:
    """The pages' bucket and CDN, added to a copy of the template: moto creates what it can, the
    rest is listed as having no local meaning, and the stack still starts."""
    text = (PROJECT_ROOT / "template.yaml").read_text(encoding="utf-8")
    added = {
        "PagesBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "omnihub-pages"}},
        "PagesCdn": {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {
                "DistributionConfig": {
                    "Enabled": True,
                    "Origins": [
                        {
                            "Id": "pages",
                            "DomainName": {"Fn::GetAtt": ["PagesBucket", "RegionalDomainName"]},
                            "S3OriginConfig": {},
                        }
                    ],
                    "DefaultCacheBehavior": {
                        "TargetOriginId": "pages",
                        "ViewerProtocolPolicy": "redirect-to-https",
                    },
                }
            },
        },
    }
    block = yaml.safe_dump({"Resources": added}, sort_keys=False).split("\n", 1)[1]
    copy = text.replace("\nResources:\n", "\nResources:\n" + block, 1)
    assert copy != text
    (tmp_path / "template.yaml").write_text(copy, encoding="utf-8")
    with mock_aws():
        model = load_model(PROJECT_ROOT, template=tmp_path / "template.yaml")
        buckets = boto3.client("s3", region_name="cn-north-1").list_buckets()["Buckets"]
        assert "omnihub-pages" in {b["Name"] for b in buckets}
    assert model.no_local_meaning["AWS::CloudFront::Distribution"] == ["PagesCdn"]
    assert "AWS::S3::Bucket" not in model.no_local_meaning
    assert sorted(model.functions) == sorted(load_model(PROJECT_ROOT).functions)
