"""What `!Ref` and `!GetAtt` return for each resource type, as moto (and AWS) would name it.

The values must be known before anything exists (function environments are resolved from them)
and must equal what moto answers after provisioning, so they follow moto's ARN formats. Types the
local stack does not create still get plausible, stable values so a template that grows never
breaks the loader.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Pseudo:
    """The pseudo parameters of the simulated account (China partition by default)."""

    region: str = "cn-north-1"
    partition: str = "aws-cn"
    account_id: str = "123456789012"
    url_suffix: str = "amazonaws.com.cn"
    stack_name: str = "devstack"

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        """An ARN in this partition; IAM and S3 leave the region (and S3 the account) empty."""
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{self.account_id if account else ''}:{resource}"
        )


@dataclass(frozen=True)
class Physical:
    """A resource's `Ref` value and its `GetAtt` attributes."""

    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


#: A fixed stream label: provisioning stamps it on moto's table so `StreamArn` is known up front.
STREAM_LABEL = "1970-01-01T00:00:00.000"

PropertyGetter = Callable[[str], Any]


def generated_name(pseudo: Pseudo, logical_id: str, limit: int = 80) -> str:
    """CloudFormation-style name for a resource without an explicit one (stable, no random tail)."""
    name = re.sub(r"[^A-Za-z0-9_-]", "-", f"{pseudo.stack_name}-{logical_id}")
    return name[:limit]


def api_id(logical_id: str) -> str:
    """A stable 10-character API id, like API Gateway's."""
    return hashlib.sha256(logical_id.encode()).hexdigest()[:10]


def physical(resource_type: str, logical_id: str, prop: PropertyGetter, pseudo: Pseudo) -> Physical:
    """The `Ref` and attributes of one resource; `prop` resolves one of its properties."""
    builder = _BUILDERS.get(resource_type, _generic)
    return builder(resource_type, logical_id, prop, pseudo)


def _name(prop: PropertyGetter, key: str, pseudo: Pseudo, logical_id: str, limit: int = 80) -> str:
    value = prop(key)
    return str(value) if value else generated_name(pseudo, logical_id, limit)


def _table(_: str, logical_id: str, prop: PropertyGetter, pseudo: Pseudo) -> Physical:
    name = _name(prop, "TableName", pseudo, logical_id, 255)
    arn = pseudo.arn("dynamodb", f"table/{name}")
    return Physical(name, {"Arn": arn, "StreamArn": f"{arn}/stream/{STREAM_LABEL}"})


def _queue(_: str, logical_id: str, prop: PropertyGetter, pseudo: Pseudo) -> Physical:
    name = _name(prop, "QueueName", pseudo, logical_id)
    if str(prop("FifoQueue")).lower() == "true" and not name.endswith(".fifo"):
        name = f"{name[:75]}.fifo"
    url = f"https://sqs.{pseudo.region}.{pseudo.url_suffix}/{pseudo.account_id}/{name}"
    return Physical(url, {"Arn": pseudo.arn("sqs", name), "QueueName": name, "QueueUrl": url})


def _topic(_: str, logical_id: str, prop: PropertyGetter, pseudo: Pseudo) -> Physical:
    name = _name(prop, "TopicName", pseudo, logical_id, 256)
    arn = pseudo.arn("sns", name)
    return Physical(arn, {"TopicName": name, "TopicArn": arn})


def _bus(_: str, logical_id: str, prop: PropertyGetter, pseudo: Pseudo) -> Physical:
    name = _name(prop, "Name", pseudo, logical_id, 256)
    return Physical(name, {"Name": name, "Arn": pseudo.arn("events", f"event-bus/{name}")})


def bus_name(value: Any) -> str:
    """An EventBusName property may hold a name or an ARN; moto and AWS accept both."""
    text = str(value or "default")
    return text.rsplit("event-bus/", 1)[-1] if text.startswith("arn:") else text


def rule_arn(pseudo: Pseudo, bus: str, name: str) -> str:
    """Rule ARNs carry the bus name unless the rule is on the default bus (moto's format)."""
    prefix = "" if bus == "default" else f"{bus}/"
    return pseudo.arn("events", f"rule/{prefix}{name}")


def _rule(_: str, logical_id: str, prop: PropertyGetter, pseudo: Pseudo) -> Physical:
    name = _name(prop, "Name", pseudo, logical_id, 64)
    bus = bus_name(prop("EventBusName"))
    ref = name if bus == "default" else f"{bus}|{name}"
    return Physical(ref, {"Arn": rule_arn(pseudo, bus, name)})


def _ssm_parameter(_: str, logical_id: str, prop: PropertyGetter, pseudo: Pseudo) -> Physical:
    name = _name(prop, "Name", pseudo, logical_id, 2048)
    return Physical(name, {"Type": str(prop("Type") or "String"), "Value": str(prop("Value"))})


def _function(_: str, logical_id: str, prop: PropertyGetter, pseudo: Pseudo) -> Physical:
    name = _name(prop, "FunctionName", pseudo, logical_id, 64)
    return Physical(name, {"Arn": pseudo.arn("lambda", f"function:{name}")})


def _http_api(_: str, logical_id: str, prop: PropertyGetter, pseudo: Pseudo) -> Physical:
    ident = api_id(logical_id)
    endpoint = f"https://{ident}.execute-api.{pseudo.region}.{pseudo.url_suffix}"
    return Physical(ident, {"ApiId": ident, "ApiEndpoint": endpoint})


def _log_group(_: str, logical_id: str, prop: PropertyGetter, pseudo: Pseudo) -> Physical:
    name = _name(prop, "LogGroupName", pseudo, logical_id, 512)
    return Physical(name, {"Arn": pseudo.arn("logs", f"log-group:{name}:*")})


def _layer(_: str, logical_id: str, prop: PropertyGetter, pseudo: Pseudo) -> Physical:
    name = _name(prop, "LayerName", pseudo, logical_id, 140)
    arn = pseudo.arn("lambda", f"layer:{name}:1")
    return Physical(arn, {"Arn": arn})


def _alarm(_: str, logical_id: str, prop: PropertyGetter, pseudo: Pseudo) -> Physical:
    name = _name(prop, "AlarmName", pseudo, logical_id, 255)
    return Physical(name, {"Arn": pseudo.arn("cloudwatch", f"alarm:{name}")})


def _role(_: str, logical_id: str, prop: PropertyGetter, pseudo: Pseudo) -> Physical:
    name = _name(prop, "RoleName", pseudo, logical_id, 64)
    arn = pseudo.arn("iam", f"role/{name}", region=False)
    return Physical(name, {"Arn": arn, "RoleId": api_id(name).upper()})


def _schedule(_: str, logical_id: str, prop: PropertyGetter, pseudo: Pseudo) -> Physical:
    name = _name(prop, "Name", pseudo, logical_id, 64)
    group = str(prop("GroupName") or "default")
    return Physical(name, {"Arn": pseudo.arn("scheduler", f"schedule/{group}/{name}")})


def _generic(resource_type: str, logical_id: str, _: PropertyGetter, pseudo: Pseudo) -> Physical:
    service = resource_type.split("::")[1].lower() if "::" in resource_type else "unknown"
    name = generated_name(pseudo, logical_id)
    return Physical(name, {"Arn": pseudo.arn(service, name)})


_BUILDERS: dict[str, Callable[[str, str, PropertyGetter, Pseudo], Physical]] = {
    "AWS::DynamoDB::Table": _table,
    "AWS::SQS::Queue": _queue,
    "AWS::SNS::Topic": _topic,
    "AWS::Events::EventBus": _bus,
    "AWS::Events::Rule": _rule,
    "AWS::SSM::Parameter": _ssm_parameter,
    "AWS::Serverless::Function": _function,
    "AWS::Lambda::Function": _function,
    "AWS::Serverless::HttpApi": _http_api,
    "AWS::ApiGatewayV2::Api": _http_api,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::Serverless::LayerVersion": _layer,
    "AWS::Lambda::LayerVersion": _layer,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::IAM::Role": _role,
    "AWS::Scheduler::Schedule": _schedule,
}
