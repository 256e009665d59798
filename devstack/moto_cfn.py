"""The local stack is created by moto's CloudFormation; this module holds where moto differs.

`create_stack` takes the translated template (devstack.sam) and makes it in the active mock.
Each workaround below is small, applied only while a stack is created or read, and has a test in
tests/devstack/test_devstack_moto_cfn.py that shows moto's own behaviour: when moto changes, that
test fails and the workaround can go (docs/decisions.md, D81).

1. EventBus Ref: moto's `!Ref` of an AWS::Events::EventBus yields the object, not its name.
2. JSON first: moto parses every TemplateBody with PyYAML's pure-Python loader (~0.8 s here); the
   translated template is JSON, which is YAML too, so it is read with `json` when it parses.
3. Readable names: moto ends generated names with 12 random characters; locally they end at the
   logical id (`devstack-ApiFunction`), stable across runs, tests and logs.
4. Code: moto copies function and layer code from S3; a stub zip is put for each key (the local
   stack runs the handlers from their directories, devstack.sam `Expanded.code`).
5. Event source mappings stay out of the stack: with them moto invokes Lambda in Docker on every
   SendMessage and PutItem. The local pollers (devstack.queues, devstack.streams) play them.
6. Types moto has no model for are skipped with a warning. Those the local stack reads (the HTTP
   API, Scheduler schedules, the mappings of 5) are resolved with moto's own intrinsic resolver
   against the created stack; a `Ref` to any skipped resource means its logical id. Every other
   skipped type is listed in `CreatedStack.no_local_meaning`: one rule, no code per type.
7. TTL: moto ignores TimeToLiveSpecification; it is set with UpdateTimeToLive after creation.
8. Template Rules: moto does not evaluate them; they are checked with moto's condition parser and
   a failed assertion fails the stack with its AssertDescription, as CloudFormation would.
9. Partition: moto's `AWS::Partition` is always `aws` and `AWS::URLSuffix` `amazonaws.com`; they
   are set for the stack's region (`aws-cn`, `amazonaws.com.cn` in China).
10. KMS keys: moto makes RSA key material for every key, symmetric ones too (~0.1 s each); the
   local stack's keys share one per key spec (nothing is encrypted locally).
(11. EventBridge in moto cannot deliver to Lambda: see devstack.provision's relay queues.)
12. Lambda versions: moto publishes an AWS::Lambda::Version, but its `Ref` is the logical id and
   `GetAtt .Version` fails the stack; here they are the version's ARN and number, as in AWS.
13. Lambda aliases: moto has no AWS::Lambda::Alias model (a `Ref` to one leaves the property
   out, and a Permission on it fails); here it is created with moto's CreateAlias and its `Ref`
   is the alias ARN. SAM's `AutoPublishAlias` points every trigger at it (docs/decisions.md D93).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import json
import logging
import re
import threading
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto.core.common_models import CloudFormationModel

from devstack.sam import CODE_BUCKET, Expanded

STACK_NAME = "devstack"
#: Types moto skips whose resolved properties the local stack reads.
READ_NOT_CREATED = ("AWS::ApiGatewayV2::Api", "AWS::Scheduler::Schedule")
LEFT_OUT = ("AWS::Lambda::EventSourceMapping",)
_lock = threading.RLock()


@dataclass
class CreatedStack:
    """What moto made of a template: each resource's type and physical id, and the resolved
    properties of the resources the local stack reads but moto does not create."""

    name: str
    region: str
    account_id: str
    resources: dict[str, tuple[str, str]] = field(default_factory=dict)
    read: dict[str, dict[str, Any]] = field(default_factory=dict)
    no_local_meaning: dict[str, list[str]] = field(default_factory=dict)
    resource_map: Any = None
    skipped: frozenset[str] = frozenset()

    def of_type(self, resource_type: str) -> dict[str, str]:
        """Logical id -> physical id of the created resources of a type."""
        return {k: phys for k, (t, phys) in self.resources.items() if t == resource_type}

    def resolve(self, fragment: Any) -> Any:
        """A template fragment's value as this stack gave it (moto's resolver, workaround 6)."""
        from moto.cloudformation.parsing import clean_json

        with _patched():
            return clean_json(
                _name_skipped(copy.deepcopy(fragment), self.skipped), self.resource_map
            )


def require_mock() -> None:
    """Refuse to run outside moto's mock, so a stray call can never touch a real account."""
    from moto.core.models import botocore_stubber

    if not botocore_stubber.enabled:
        raise RuntimeError("devstack runs only inside moto's mock_aws()")


def _name_skipped(node: Any, skipped: frozenset[str]) -> Any:
    """`Ref`/`GetAtt`/`${…}` of a resource moto did not create: its logical id (workaround 6)."""
    if isinstance(node, list):
        return [_name_skipped(v, skipped) for v in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"} and node["Ref"] in skipped:
        return node["Ref"]
    att = node.get("Fn::GetAtt") if len(node) == 1 else None
    if isinstance(att, list) and att and att[0] in skipped:
        return ".".join(att)
    sub = node.get("Fn::Sub") if len(node) == 1 else None
    if isinstance(sub, str | list):
        text = sub if isinstance(sub, str) else sub[0]

        def named(match: re.Match[str]) -> str:
            return match.group(1) if match.group(1).split(".")[0] in skipped else match.group(0)

        text = re.sub(r"\$\{([^}!]+)\}", named, text)
        rest = [_name_skipped(v, skipped) for v in sub[1:]] if isinstance(sub, list) else []
        return {"Fn::Sub": [text, *rest] if rest else text}
    return {k: _name_skipped(v, skipped) for k, v in node.items()}


@functools.cache
def session_for(region: str) -> boto3.Session:
    """One session per region for the process: a new one reloads every service model (~40 ms a
    client). moto intercepts clients of any session while a mock is active."""
    return boto3.Session(region_name=region)


@functools.cache
def client_for(region: str, service: str) -> Any:
    """One client per region and service for the process (~15-40 ms to make one)."""
    return session_for(region).client(service)


@functools.cache
def partition_pseudo(region: str) -> dict[str, str]:
    """`AWS::Partition` and `AWS::URLSuffix` of a region (workaround 9)."""
    partition = session_for(region).get_partition_for_region(region)
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return {"AWS::Partition": partition, "AWS::URLSuffix": suffix}


@functools.cache
def _shared_key_material(key_spec: str) -> Any:
    """Workaround 10."""
    from moto.kms.utils import generate_private_key

    return generate_private_key(key_spec)


class _LambdaVersion(CloudFormationModel):
    """Workaround 12: a published version as CloudFormation gives it. Its own type name keeps
    it out of moto's model map; `_patched` maps AWS::Lambda::Version to it while it runs."""

    def __init__(self, arn: str, version: str) -> None:
        self.physical_resource_id, self.version = arn, version

    @staticmethod
    def cloudformation_type() -> str:
        return "Devstack::Lambda::Version"

    @classmethod
    def create_from_cloudformation_json(
        cls, name: str, json_: dict[str, Any], account_id: str, region: str, **_: Any
    ) -> _LambdaVersion:
        from moto.awslambda.models import lambda_backends

        properties = json_["Properties"]
        backend = lambda_backends[account_id][region]
        published = backend.publish_version(
            properties["FunctionName"], properties.get("Description", "")
        )
        return cls(published.function_arn, str(published.version))

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Version"

    def get_cfn_attribute(self, attr: str) -> str:
        if attr != "Version":
            raise NotImplementedError(attr)
        return self.version


class _LambdaAlias(CloudFormationModel):
    """Workaround 13: an alias made with moto's CreateAlias; its `Ref` is the alias ARN."""

    def __init__(self, arn: str) -> None:
        self.physical_resource_id = arn

    @staticmethod
    def cloudformation_type() -> str:
        return "Devstack::Lambda::Alias"

    @classmethod
    def create_from_cloudformation_json(
        cls, name: str, json_: dict[str, Any], account_id: str, region: str, **_: Any
    ) -> _LambdaAlias:
        from moto.awslambda.models import lambda_backends

        p = json_["Properties"]
        alias = lambda_backends[account_id][region].create_alias(
            p["Name"],
            p["FunctionName"],
            str(p["FunctionVersion"]),
            p.get("Description", ""),
            p.get("RoutingConfig"),
        )
        return cls(alias.arn)

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "AliasArn"

    def get_cfn_attribute(self, attr: str) -> str:
        if attr != "AliasArn":
            raise NotImplementedError(attr)
        return self.physical_resource_id


_LAMBDA_MODELS: dict[str, Any] = {
    "AWS::Lambda::Version": _LambdaVersion,
    "AWS::Lambda::Alias": _LambdaAlias,
}


@contextmanager
def _patched() -> Iterator[None]:
    """Workarounds 1-3, 9, 10, 12 and 13, in place only while a stack is created or read."""
    from moto.cloudformation import models, parsing
    from moto.events.models import EventBus
    from moto.kms import models as kms

    original_parse = models.Stack.parse_template
    original_name = parsing.generate_resource_name
    original_init = parsing.ResourceMap.__init__
    original_key = kms.generate_private_key
    original_models = parsing.get_model_map

    def model_map() -> dict[str, Any]:
        return {**original_models(), **_LAMBDA_MODELS}

    def init(resource_map: Any, *args: Any, **kwargs: Any) -> None:
        original_init(resource_map, *args, **kwargs)
        resource_map._parsed_resources.update(partition_pseudo(resource_map._region_name))

    def parse_template(template: str) -> dict[str, Any]:
        try:
            parsed: dict[str, Any] = json.loads(template)
            return parsed
        except ValueError:
            return original_parse(template)

    def readable_name(resource_type: str, stack_name: str, logical_id: str) -> str:
        name = original_name(resource_type, stack_name, logical_id)
        plain = f"{stack_name}-{logical_id}"
        return plain if name.startswith(plain + "-") and len(plain) <= 64 else name

    with _lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        moto_log = logging.getLogger("moto")  # "No Moto CloudFormation support for ..." (6)
        level = moto_log.level
        moto_log.setLevel(logging.ERROR)
        had_id = "physical_resource_id" in EventBus.__dict__
        if not had_id:
            EventBus.physical_resource_id = property(lambda bus: bus.name)  # type: ignore[attr-defined]
        models.Stack.parse_template = staticmethod(parse_template)  # type: ignore[method-assign]
        parsing.generate_resource_name = readable_name
        parsing.ResourceMap.__init__ = init  # type: ignore[method-assign]
        kms.generate_private_key = _shared_key_material
        parsing.get_model_map = model_map  # type: ignore[assignment]
        try:
            yield
        finally:
            parsing.get_model_map = original_models
            models.Stack.parse_template = staticmethod(original_parse)  # type: ignore[method-assign]
            parsing.generate_resource_name = original_name
            parsing.ResourceMap.__init__ = original_init  # type: ignore[method-assign]
            kms.generate_private_key = original_key
            moto_log.setLevel(level)
            if not had_id:
                del EventBus.physical_resource_id  # type: ignore[attr-defined]


def _put_stub_code(region: str, keys: set[str]) -> None:
    """Workaround 4."""
    s3 = client_for(region, "s3")
    where = {} if region == "us-east-1" else {"LocationConstraint": region}
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):  # 2nd region, same mock
        s3.create_bucket(
            Bucket=CODE_BUCKET, **({"CreateBucketConfiguration": where} if where else {})
        )
    stub = io.BytesIO()
    with zipfile.ZipFile(stub, "w") as archive:
        archive.writestr("README", "devstack runs this function from its directory")
    for key in keys:
        s3.put_object(Bucket=CODE_BUCKET, Key=key, Body=stub.getvalue())


def create_stack(
    expanded: Expanded,
    *,
    region: str,
    parameters: Mapping[str, str] | None = None,
) -> CreatedStack:
    """Create the translated template in the active mock; raise with moto's reason if it fails."""
    from moto.cloudformation.models import cloudformation_backends

    require_mock()
    resources: dict[str, Any] = dict(expanded.template.get("Resources") or {})
    template = {**expanded.template, "Resources": resources}
    left_out = {k: resources.pop(k) for k, r in list(resources.items()) if r["Type"] in LEFT_OUT}
    _put_stub_code(region, set(expanded.code))
    cloudformation = client_for(region, "cloudformation")
    with _patched():
        stack_id = cloudformation.create_stack(
            StackName=STACK_NAME,
            TemplateBody=json.dumps(template),
            Parameters=[
                {"ParameterKey": k, "ParameterValue": str(v)} for k, v in (parameters or {}).items()
            ],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )["StackId"]
    account = stack_id.split(":")[4]
    fake = cloudformation_backends[account][region].stacks[stack_id]
    if fake.status != "CREATE_COMPLETE":
        raise RuntimeError(f"moto could not create the stack: {fake.status} {fake.status_reason}")
    _check_rules(template.get("Rules") or {}, fake.resource_map)
    created = CreatedStack(STACK_NAME, region, account, resource_map=fake.resource_map)
    conditions = fake.resource_map.lazy_condition_map
    with _patched():
        _sort(created, fake.resource_map, {**resources, **left_out}, set(left_out), conditions)
    created.skipped = frozenset(created.read) | {
        i for ids in created.no_local_meaning.values() for i in ids
    }
    created.read = {k: created.resolve(r) for k, r in created.read.items()}
    _set_ttl(created, resources)
    return created


def _sort(
    created: CreatedStack,
    resource_map: Any,
    resources: dict[str, Any],
    left_out: set[str],
    conditions: Any,
) -> None:
    """Created (with physical id), read but not created, or of no local meaning (workaround 6)."""
    from moto.cloudformation.parsing import resource_class_from_type

    for logical_id, resource in resources.items():
        if resource.get("Condition") and not conditions[resource["Condition"]]:
            continue
        kind = resource["Type"]
        instance = resource_map._parsed_resources.get(logical_id)
        if logical_id in left_out or kind in READ_NOT_CREATED:
            created.read[logical_id] = resource
        elif resource_class_from_type(kind) is None or instance is None:
            created.no_local_meaning.setdefault(kind, []).append(logical_id)
        else:
            physical = getattr(instance, "physical_resource_id", logical_id)
            created.resources[logical_id] = (kind, str(physical))


class RuleFailed(ValueError):
    """A template rule's assertion does not hold for these parameter values."""


def _check_rules(rules: dict[str, Any], resource_map: Any) -> None:
    """Workaround 8."""
    from moto.cloudformation.parsing import parse_condition

    with _patched():
        conditions = resource_map.lazy_condition_map
        for name, rule in rules.items():
            when = rule.get("RuleCondition", True)
            if not parse_condition(copy.deepcopy(when), resource_map, conditions):
                continue
            for assertion in rule.get("Assertions") or []:
                if not parse_condition(
                    copy.deepcopy(assertion["Assert"]), resource_map, conditions
                ):
                    raise RuleFailed(f"{name}: {assertion.get('AssertDescription', 'fails')}")


def _set_ttl(created: CreatedStack, resources: dict[str, Any]) -> None:
    """Workaround 7."""
    dynamodb = client_for(created.region, "dynamodb")
    for logical_id, name in created.of_type("AWS::DynamoDB::Table").items():
        spec = (resources[logical_id].get("Properties") or {}).get("TimeToLiveSpecification")
        resolved = created.resolve(spec) if spec else None
        if resolved and str(resolved.get("Enabled")).lower() == "true":
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={
                    "Enabled": True,
                    "AttributeName": resolved["AttributeName"],
                },
            )
