"""Template loading and intrinsics: the mini fixture in detail, the real template as a whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devstack.cfn_yaml import load_yaml
from devstack.intrinsics import Resolver, TemplateError
from devstack.physical import generated_name
from devstack.provision import LOCAL_PII_KEY, provision
from devstack.template import load_model
from tests.devstack.devstack_support import ACCOUNT, MINI_ROOT, PROJECT_ROOT


def test_short_tags_become_long_form(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "A: !GetAtt Res.Attr.Sub\nB: !Sub x-${AWS::Region}\nC: !Ref Thing\n"
        "D: !If [Cond, 1, 2]\nE: !Select [0, !Split [',', 'a,b']]\nF: !Condition Cond\n"
    )
    data = load_yaml(path)
    assert data["A"] == {"Fn::GetAtt": ["Res", "Attr.Sub"]}
    assert data["B"] == {"Fn::Sub": "x-${AWS::Region}"}
    assert data["C"] == {"Ref": "Thing"}
    assert data["D"] == {"Fn::If": ["Cond", 1, 2]}
    assert data["E"] == {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}
    assert data["F"] == {"Condition": "Cond"}


def test_resolver_pseudo_parameters_sub_and_no_value() -> None:
    template: dict[str, Any] = {
        "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
        "Conditions": {"Never": {"Fn::Equals": ["a", "b"]}},
        "Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "q"}}},
    }
    r = Resolver(template)
    assert r.resolve({"Fn::Sub": "${AWS::Partition}:${AWS::Region}:${AWS::AccountId}"}) == (
        f"aws-cn:cn-north-1:{ACCOUNT}"
    )
    assert r.resolve({"Fn::Sub": "${!Literal}-${Q.QueueName}-${Stage}"}) == "${Literal}-q-dev"
    assert r.resolve({"Fn::Sub": ["${X}.${AWS::URLSuffix}", {"X": "api"}]}) == (
        "api.amazonaws.com.cn"
    )
    assert r.resolve(
        {"a": {"Fn::If": ["Never", 1, {"Ref": "AWS::NoValue"}]}, "b": [1, {"Ref": "AWS::NoValue"}]}
    ) == {"b": [1]}


@pytest.mark.parametrize(
    ("parameters", "message"),
    [({"Nope": "x"}, "unknown parameters"), ({"Stage": "qa"}, "not in")],
)
def test_bad_parameters_are_rejected(parameters: dict[str, str], message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        load_model(MINI_ROOT, parameters=parameters)


def test_unknown_reference_is_an_error() -> None:
    with pytest.raises(TemplateError, match="unknown resource"):
        Resolver({"Resources": {}}).resolve({"Ref": "Missing"})


def test_mini_template_resolves_everything() -> None:
    model = load_model(MINI_ROOT)
    env = model.functions["ApiFunction"].environment
    assert env["EVENTS_TABLE"] == "mini-dev-events"
    assert env["LOG_TABLE"] == "devstack-LogTable"
    assert env["BUS_NAME"] == "mini-dev"
    assert env["CONSUMER_QUEUE_URL"] == (
        f"https://sqs.cn-north-1.amazonaws.com.cn/{ACCOUNT}/mini-dev-consumer"
    )
    assert env["CONSUMER_QUEUE_ARN"] == f"arn:aws-cn:sqs:cn-north-1:{ACCOUNT}:mini-dev-consumer"
    assert env["EVENTS_STREAM_ARN"] == model.tables["EventsTable"].stream_arn
    assert env["PARAMETER_PATH"] == "/mini/dev"
    assert env["LOG_LEVEL"] == "DEBUG"
    assert env["REGION_AND_PARTITION"] == "cn-north-1/aws-cn"
    assert env["FIRST_AZ"] == "cn-north-1a"
    assert env["POWERTOOLS_SERVICE_NAME"] == "api"  # function variables merge over Globals
    assert model.functions["ApiFunction"].memory_mb == 128
    assert model.functions["StreamFunction"].memory_mb == 256  # Fn::FindInMap from Globals
    assert "ProdOnlyQueue" not in model.queues  # Condition: IsProd is false in dev

    events = model.tables["EventsTable"]
    assert events.stream_view_type == "NEW_AND_OLD_IMAGES"
    assert events.ttl_attribute == "expires_at"
    assert [i["IndexName"] for i in events.global_indexes] == ["gsi1"]
    consumer = model.queues["ConsumerQueue"]
    assert consumer.redrive is not None
    assert consumer.redrive.max_receive_count == 2
    assert consumer.redrive.dead_letter_arn == model.queues["ConsumerDLQ"].arn
    assert consumer.attributes == {"VisibilityTimeout": "60"}
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
        "Schedule",
    )
    assert sweep.arn == f"arn:aws-cn:events:cn-north-1:{ACCOUNT}:rule/mini-sweep"
    assert (nightly.timezone, nightly.source) == ("Asia/Shanghai", "ScheduleV2")
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
    raw = load_yaml(root / "template.yaml")
    found = []
    for logical_id, resource in raw["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            for name, event in (resource["Properties"].get("Events") or {}).items():
                found.append((logical_id, name, event))
    return found


def test_real_template_every_function_and_trigger_is_modelled() -> None:
    raw = load_yaml(PROJECT_ROOT / "template.yaml")
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
    assert len(model.schedules) == kinds.get("Schedule", 0) + kinds.get("ScheduleV2", 0) + sum(
        1 for r in raw["Resources"].values() if r["Type"] == "AWS::Scheduler::Schedule"
    )
    for spec in model.functions.values():
        assert (PROJECT_ROOT / spec.code_uri).as_posix()
        assert spec.handler.endswith(".lambda_handler") or "." in spec.handler
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
            # JwtAudience empty: the stack's own user pool clients (staff app, hosted sign-in)
            assert route.authorizer.audience == (
                generated_name(model.pseudo, "StaffAppClient"),
                generated_name(model.pseudo, "StaffWebClient"),
            )
    for mapping in model.sqs_mappings:
        assert mapping.queue in model.queues
    for rule in model.rules.values():
        for target in rule.targets:
            assert target.function or model.queue_by_arn(target.arn), target


def test_real_template_provisions_in_moto() -> None:
    model = load_model(PROJECT_ROOT)
    with mock_aws():
        resources = provision(model)
        dynamodb = boto3.client("dynamodb", region_name="cn-north-1")
        assert sorted(dynamodb.list_tables()["TableNames"]) == sorted(
            t.name for t in model.tables.values()
        )
        for logical_id, table in model.tables.items():
            described = dynamodb.describe_table(TableName=table.name)["Table"]
            assert described["KeySchema"] == table.key_schema
            assert described.get("LatestStreamArn") == resources.tables[logical_id].stream_arn
        sqs = boto3.client("sqs", region_name="cn-north-1")
        assert sorted(sqs.list_queues()["QueueUrls"]) == sorted(
            q.url for q in model.queues.values()
        )
        ssm = boto3.client("ssm", region_name="cn-north-1")
        secret = ssm.get_parameter(Name="/omnihub/dev/channels/tmall/secret", WithDecryption=True)
        assert secret["Parameter"]["Value"] == "local-tmall-secret"
        assert secret["Parameter"]["Type"] == "SecureString"
        key = ssm.get_parameter(Name="/omnihub/dev/pii-key", WithDecryption=True)
        assert key["Parameter"]["Value"] == LOCAL_PII_KEY
        events = boto3.client("events", region_name="cn-north-1")
        for rule in model.rules.values():
            listed = events.list_targets_by_rule(Rule=rule.name, EventBusName=rule.bus_name)
            assert len(listed["Targets"]) == len(rule.targets)


def test_provision_refuses_to_run_outside_a_mock() -> None:
    with pytest.raises(RuntimeError, match="mock_aws"):
        provision(load_model(MINI_ROOT))
