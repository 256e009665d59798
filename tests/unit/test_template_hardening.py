"""Template hardening (issue 13, findings 8 and 15, and checkov's personal-data findings).

Throttles, reserved concurrency, keys and IAM boundaries are API Gateway's, Lambda's and IAM's
behaviour: the local stack cannot show them over HTTP, so these tests read template.yaml the way
the local stack does (devstack's loader and resolver, default parameters, the aws-cn partition).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from devstack.sam import read_template
from devstack.template import load_model

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE: dict[str, Any] = read_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
WEBHOOK_PATH = "/v1/channels/{channel}/events"
#: API Gateway's default account-level throttle per region (requests/s); staff need headroom in it.
ACCOUNT_RATE_LIMIT = 10_000

#: Actions SAM's managed policies give every role (basic execution, X-Ray, the SQS and stream
#: pollers) on Resource "*": the boundary must keep them possible, scoped to this stage.
SAM_MANAGED_ACTIONS = (
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)


def _of_type(kind: str) -> dict[str, Any]:
    return {name: r for name, r in RESOURCES.items() if r.get("Type") == kind}


@functools.cache
def _stack(parameters: tuple[tuple[str, str], ...] = ()) -> Any:
    """The template as the local stack created it (values resolved by moto's CloudFormation)."""
    return load_model(ROOT, parameters=dict(parameters))


def _resolve(fragment: Any, parameters: dict[str, str] | None = None) -> Any:
    return _stack(tuple(sorted((parameters or {}).items()))).resolve(fragment)


def _props(logical_id: str, parameters: dict[str, str] | None = None) -> dict[str, Any]:
    resolved = _resolve(RESOURCES[logical_id].get("Properties", {}), parameters)
    assert isinstance(resolved, dict)
    return resolved


def _functions() -> dict[str, Any]:
    return _of_type("AWS::Serverless::Function")


def _webhook() -> tuple[str, dict[str, Any]]:
    for name, fn in _functions().items():
        for event in (fn["Properties"].get("Events") or {}).values():
            if event.get("Type") == "HttpApi" and event["Properties"].get("Path") == WEBHOOK_PATH:
                return name, event
    raise AssertionError("no function serves the webhook route")


def _skips(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return list(((resource.get("Metadata") or {}).get("checkov") or {}).get("skip") or [])


def _skipped(resource: dict[str, Any], check: str) -> bool:
    return any(skip.get("id") == check for skip in _skips(resource))


def _ref_target(value: Any) -> str | None:
    """The logical id a property points at with Ref or GetAtt ...Arn."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".")[0])
    return None


def _customer_key(value: Any) -> bool:
    target = _ref_target(value)
    if target is None or RESOURCES.get(target, {}).get("Type") != "AWS::KMS::Key":
        return False
    return RESOURCES[target]["Properties"].get("EnableKeyRotation") is True


# -- finding 8: the open webhook cannot starve the staff routes ------------------------------------
def test_webhook_route_has_its_own_throttle_apart_from_the_staff_routes() -> None:
    """One stage-wide bucket let a channel flood spend the staff routes' requests."""
    _, event = _webhook()
    own = _resolve(event["Properties"].get("RouteSettings") or {})
    assert {"ThrottlingRateLimit", "ThrottlingBurstLimit"} <= set(own), "webhook shares a bucket"
    api = _ref_target(event["Properties"]["ApiId"])
    assert api is not None
    staff = _props(api).get("DefaultRouteSettings") or {}
    assert {"ThrottlingRateLimit", "ThrottlingBurstLimit"} <= set(staff)
    # the webhook's bucket fits the account's limit, and a staff route's is its own, smaller one
    assert int(own["ThrottlingRateLimit"]) <= ACCOUNT_RATE_LIMIT
    assert int(staff["ThrottlingRateLimit"]) < int(own["ThrottlingRateLimit"])


def test_webhook_reserves_concurrency_unless_the_account_cannot() -> None:
    """Without a cap the webhook could take every concurrent execution the staff API needs."""
    webhook, _ = _webhook()
    assert int(_props(webhook)["ReservedConcurrentExecutions"]) > 0
    small = {"WebhookReservedConcurrency": "0"}
    for name in _functions():
        assert "ReservedConcurrentExecutions" not in _props(name, small), (
            f"{name} still reserves concurrency where the account cannot"
        )


# -- checkov's personal-data findings: keys, retention, async failures ---------------------------
def test_tables_use_the_rotating_customer_managed_key() -> None:
    for name in _of_type("AWS::DynamoDB::Table"):
        sse = RESOURCES[name]["Properties"].get("SSESpecification") or {}
        assert sse.get("SSEType") == "KMS", name
        assert _customer_key(sse.get("KMSMasterKeyId")), name


def test_queues_and_the_alarm_topic_are_encrypted_explicitly() -> None:
    for name, queue in _of_type("AWS::SQS::Queue").items():
        props = queue["Properties"]
        if _skipped(queue, "CKV_AWS_27"):
            assert props.get("SqsManagedSseEnabled") is True, name
        else:
            assert _customer_key(props.get("KmsMasterKeyId")), name
    for name, topic in _of_type("AWS::SNS::Topic").items():
        assert _customer_key(topic["Properties"].get("KmsMasterKeyId")), name


def test_log_groups_expire_and_are_encrypted() -> None:
    for name, group in _of_type("AWS::Logs::LogGroup").items():
        assert group["Properties"].get("RetentionInDays"), name
        assert _customer_key(group["Properties"].get("KmsKeyId")), name


def test_the_logs_key_serves_only_this_stages_log_groups() -> None:
    """CloudWatch Logs may use the key only under the encryption context of our log groups."""
    (logs_key,) = {
        _ref_target(g["Properties"]["KmsKeyId"]) for g in _of_type("AWS::Logs::LogGroup").values()
    }
    assert logs_key is not None
    statements = _resolve(RESOURCES[logs_key]["Properties"]["KeyPolicy"])["Statement"]
    service = [s for s in statements if "Service" in s["Principal"]]
    assert service
    assert all(s["Principal"]["Service"].startswith("logs.") for s in service)
    for statement in service:
        context = statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
        assert context.endswith(":log-group:/omnihub/dev/*")


def test_scheduled_functions_park_failed_asynchronous_runs() -> None:
    """A schedule invokes asynchronously: after Lambda's retries the event must land somewhere."""
    scheduled = [
        name
        for name, fn in _functions().items()
        if any(
            e.get("Type") in ("Schedule", "ScheduleV2")
            for e in (fn["Properties"].get("Events") or {}).values()
        )
    ]
    assert scheduled
    for name in scheduled:
        props = _props(name)
        on_failure = (
            ((props.get("EventInvokeConfig") or {}).get("DestinationConfig") or {}).get("OnFailure")
            or {}
        ).get("Destination")
        assert (props.get("DeadLetterQueue") or {}).get("TargetArn") or on_failure, name


def test_every_function_role_may_use_the_data_key() -> None:
    """Tables and queues under the customer key are unreadable to a role without kms on it."""
    (policy,) = [
        p
        for p in _of_type("AWS::IAM::ManagedPolicy").values()
        if any(
            _customer_key(s.get("Resource")) for s in p["Properties"]["PolicyDocument"]["Statement"]
        )
    ]
    roles = {_ref_target(role) for role in policy["Properties"]["Roles"]}
    assert roles == {f"{name}Role" for name in _functions()}
    actions = set(policy["Properties"]["PolicyDocument"]["Statement"][0]["Action"])
    assert {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"} <= actions


# -- finding 15: SAM's Resource "*" grants are capped by a scoped permissions boundary ------------
def _boundary() -> list[dict[str, Any]]:
    target = _ref_target(TEMPLATE["Globals"]["Function"].get("PermissionsBoundary"))
    assert target is not None, "functions have no permissions boundary"
    document = _resolve(RESOURCES[target]["Properties"]["PolicyDocument"])
    return list(document["Statement"])


def _listed(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _allowed(boundary: list[dict[str, Any]], action: str, resource: str) -> bool:
    return any(
        s["Effect"] == "Allow"
        and any(fnmatchcase(action.lower(), a.lower()) for a in _listed(s["Action"]))
        and any(fnmatchcase(resource, r) for r in _listed(s["Resource"]))
        for s in boundary
    )


def _inline_grants() -> Iterator[tuple[str, str, str]]:
    for name in _functions():
        for policy in _props(name).get("Policies") or []:
            assert isinstance(policy, dict), f"{name}: a policy the boundary test cannot read"
            assert "Statement" in policy, f"{name}: only inline statements are checked: {policy!r}"
            for statement in policy["Statement"]:
                for action in _listed(statement["Action"]):
                    for resource in _listed(statement["Resource"]):
                        yield name, action, resource


def test_boundary_allows_what_each_function_is_granted_and_no_more_than_this_stage() -> None:
    boundary = _boundary()
    for name, action, resource in _inline_grants():
        assert _allowed(boundary, action, resource), f"{name}: boundary blocks {action} {resource}"
    for action in SAM_MANAGED_ACTIONS:
        assert any(
            any(fnmatchcase(action.lower(), a.lower()) for a in _listed(s["Action"]))
            for s in boundary
        ), f"boundary blocks SAM's {action}"
    # only what accepts no resource ARN stays on "*"; every other grant is this stage's
    for statement in boundary:
        if "*" in _listed(statement["Resource"]):
            assert all(
                a.startswith("xray:") or a == "dynamodb:ListStreams"
                for a in _listed(statement["Action"])
            ), statement
        else:
            assert all(
                re.search(r"omnihub[-/]dev\b|:key/\*$", r) for r in _listed(statement["Resource"])
            ), statement
    assert not _allowed(boundary, "logs:CreateLogGroup", "*")
    assert not _allowed(boundary, "dynamodb:PutItem", _arn("dynamodb", "table/other-app"))
    assert not _allowed(boundary, "sqs:SendMessage", _arn("sqs", "omnihub-prod-points"))


def _arn(service: str, resource: str) -> str:
    return f"arn:aws-cn:{service}:cn-north-1:123456789012:{resource}"


# -- checkov: every skip says why ----------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(n for n, r in RESOURCES.items() if _skips(r)))
def test_each_checkov_skip_carries_its_reason(name: str) -> None:
    for skip in _skips(RESOURCES[name]):
        assert re.fullmatch(r"CKV2?_AWS_\d+", str(skip.get("id"))), (name, skip)
        assert len(str(skip.get("comment") or "").strip()) >= 20, (name, skip)
