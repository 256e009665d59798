"""template.yaml to a `StackModel`: translated by SAM's translator, created by moto's
CloudFormation, then read back through the AWS APIs.

Nothing here interprets SAM or intrinsics: names, ARNs and environments are what moto created;
the resources moto only skips are resolved by moto too (devstack.moto_cfn). Triggers are found
by the ARNs they name, so a literal ARN works as well as `!GetAtt`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from devstack.model import (
    Authorizer,
    FunctionSpec,
    HttpApiSpec,
    HttpRoute,
    ParameterSpec,
    Pseudo,
    QueueSpec,
    RuleSpec,
    RuleTarget,
    ScheduleSpec,
    SqsMapping,
    StackModel,
    StreamMapping,
    TableSpec,
)
from devstack.moto_cfn import (
    CreatedStack,
    client_for,
    create_stack,
    partition_pseudo,
)
from devstack.sam import Expanded, expand

DEFAULT_REGION = "cn-north-1"
_FUNCTION_IN_URI = re.compile(r"functions/(arn:[^/]+)/invocations")


def load_model(
    root: Path,
    *,
    template: Path | None = None,
    parameters: Mapping[str, str] | None = None,
    region: str | None = None,
) -> StackModel:
    """The model of `root/template.yaml` (or `template`) for these parameter values and region.

    Inside an active moto mock the stack is created there (the local stack uses it); otherwise
    in a mock of its own that ends on return (tests that only read the model)."""
    from moto import mock_aws
    from moto.core.models import botocore_stubber

    region = region or DEFAULT_REGION
    path = (template or root / "template.yaml").resolve()
    expanded = expand(path, region=region, parameters=parameters)
    if botocore_stubber.enabled:
        return _build(root.resolve(), expanded, region, parameters)
    with mock_aws():
        return _build(root.resolve(), expanded, region, parameters)


def _build(
    root: Path, expanded: Expanded, region: str, parameters: Mapping[str, str] | None
) -> StackModel:
    created = create_stack(expanded, region=region, parameters=parameters)
    partition = partition_pseudo(region)
    pseudo = Pseudo(
        region=region,
        partition=partition["AWS::Partition"],
        account_id=created.account_id,
        url_suffix=partition["AWS::URLSuffix"],
        stack_name=created.name,
    )
    model = StackModel(
        root=root,
        pseudo=pseudo,
        parameters={
            k: v for k, v in created.resource_map.resolved_parameters.items() if "::" not in k
        },
        description=str(expanded.template.get("Description") or "").strip(),
        cloudformation=expanded.template,
        resolve=created.resolve,
        no_local_meaning=created.no_local_meaning,
    )
    _Reader(model, created, expanded).read()
    return model


def _env_value(value: Any) -> str:
    """Lambda keeps environment values as strings; moto keeps the template's types."""
    if isinstance(value, bool):
        return str(value).lower()
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _patterns(filter_criteria: Any) -> list[dict[str, Any]]:
    filters = (filter_criteria or {}).get("Filters") or []
    return [
        json.loads(f["Pattern"]) if isinstance(f["Pattern"], str) else f["Pattern"] for f in filters
    ]


class _Reader:
    """Reads the created resources by type, then the triggers that point at them."""

    def __init__(self, model: StackModel, created: CreatedStack, expanded: Expanded) -> None:
        self.model, self.created, self.expanded = model, created, expanded
        self.raw: dict[str, Any] = expanded.template.get("Resources") or {}
        self.function_by_arn: dict[str, str] = {}

    def client(self, service: str) -> Any:
        return client_for(self.model.pseudo.region, service)

    def read(self) -> None:
        self._tables()
        self._queues()
        self._parameters()
        self._functions()
        self._rules()
        for logical_id, resource in self.created.read.items():
            kind, props = resource["Type"], resource.get("Properties") or {}
            if kind == "AWS::Lambda::EventSourceMapping":
                self._mapping(logical_id, props)
            elif kind == "AWS::ApiGatewayV2::Api":
                self._http_api(logical_id, props.get("Body") or {})
            elif kind == "AWS::Scheduler::Schedule":
                self._scheduler_schedule(logical_id, props)

    def _tables(self) -> None:
        dynamodb = self.client("dynamodb")
        for logical_id, name in self.created.of_type("AWS::DynamoDB::Table").items():
            t = dynamodb.describe_table(TableName=name)["Table"]
            self.model.tables[logical_id] = TableSpec(
                logical_id, name, t["TableArn"], t.get("LatestStreamArn")
            )

    def _queues(self) -> None:
        sqs = self.client("sqs")
        for logical_id, url in self.created.of_type("AWS::SQS::Queue").items():
            got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            redrive = json.loads(got.get("RedrivePolicy") or "{}")
            self.model.queues[logical_id] = QueueSpec(
                logical_id, url.rsplit("/", 1)[-1], url, got["QueueArn"], got,
                redrive.get("deadLetterTargetArn"),
            )  # fmt: skip

    def _parameters(self) -> None:
        ssm = self.client("ssm")
        for logical_id, name in self.created.of_type("AWS::SSM::Parameter").items():
            p = ssm.get_parameter(Name=name)["Parameter"]
            self.model.ssm_parameters[logical_id] = ParameterSpec(
                logical_id, name, p["Type"], p["Value"]
            )

    def _code_dir(self, code: Mapping[str, Any]) -> Path | None:
        return self.expanded.code.get(str(code.get("S3Key"))) if code.get("S3Bucket") else None

    def _functions(self) -> None:
        lambda_ = self.client("lambda")
        for logical_id in self.created.of_type("AWS::Lambda::LayerVersion"):
            content = self._code_dir(self.raw[logical_id]["Properties"].get("Content") or {})
            if content is not None:
                self.model.layer_dirs.append(content)
        for logical_id, name in self.created.of_type("AWS::Lambda::Function").items():
            config = lambda_.get_function_configuration(FunctionName=name)
            code_dir = self._code_dir(self.raw[logical_id]["Properties"].get("Code") or {})
            runtime = str(config.get("Runtime") or "")
            if code_dir is None or not runtime.startswith("python"):
                self.model.unsupported.append(f"{logical_id}: {runtime or 'no runtime'} not run")
                continue
            self.function_by_arn[config["FunctionArn"]] = logical_id
            variables = (config.get("Environment") or {}).get("Variables") or {}
            self.model.functions[logical_id] = FunctionSpec(
                logical_id=logical_id,
                name=name,
                arn=config["FunctionArn"],
                code_uri=str(code_dir),
                handler=config["Handler"],
                runtime=runtime,
                memory_mb=int(config["MemorySize"]),
                timeout_s=int(config["Timeout"]),
                environment={str(k): _env_value(v) for k, v in variables.items()},
            )

    def _function_of(self, name_or_arn: str) -> str | None:
        """The function a trigger names: by name or ARN, qualified by a version or alias
        (`:live`, `:$LATEST`) or not; SAM's AutoPublishAlias points triggers at the alias."""
        if name_or_arn.startswith("arn:"):
            return self.function_by_arn.get(":".join(name_or_arn.split(":")[:7]))
        name = name_or_arn.split(":")[0]
        return next((f.logical_id for f in self.model.functions.values() if f.name == name), None)

    def _rules(self) -> None:
        events = self.client("events")
        buses = ["default", *self.created.of_type("AWS::Events::EventBus").values()]
        listed = {
            r["Name"]: (r, bus)
            for bus in buses
            for r in events.list_rules(EventBusName=bus)["Rules"]
        }
        for logical_id, name in self.created.of_type("AWS::Events::Rule").items():
            rule, bus = listed[name.split("|")[-1]]
            targets = [
                RuleTarget(
                    t["Id"],
                    t["Arn"],
                    {k: v for k, v in t.items() if k not in ("Id", "Arn")},
                    self._function_of(t["Arn"]),
                )
                for t in events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)["Targets"]
            ]
            enabled = rule.get("State", "ENABLED") == "ENABLED"
            if "ScheduleExpression" in rule:
                for target in targets:
                    self._schedule_target(logical_id, rule, target, len(targets), enabled)
                continue
            self.model.rules[logical_id] = RuleSpec(
                logical_id=logical_id,
                name=rule["Name"],
                arn=rule["Arn"],
                bus_name=bus,
                pattern=json.loads(rule.get("EventPattern") or "{}"),
                targets=targets,
                enabled=enabled,
                description=rule.get("Description", ""),
            )

    def _schedule_target(
        self, logical_id: str, rule: dict[str, Any], target: RuleTarget, count: int, enabled: bool
    ) -> None:
        if target.function is None:
            self.model.unsupported.append(f"{logical_id}: schedule target {target.arn}")
            return
        name = rule["Name"] if count == 1 else f"{rule['Name']}/{target.target_id}"
        self._add_schedule(
            ScheduleSpec(
                name=name,
                function=target.function,
                expression=rule["ScheduleExpression"],
                timezone="UTC",  # EventBridge rules evaluate cron in UTC
                arn=rule["Arn"],
                source="AWS::Events::Rule",
                input=target.extra.get("Input"),
                enabled=enabled,
            )
        )

    def _scheduler_schedule(self, logical_id: str, props: Mapping[str, Any]) -> None:
        target = props.get("Target") or {}
        function = self._function_of(str(target.get("Arn")))
        if function is None:
            self.model.unsupported.append(f"{logical_id}: scheduler target is not a function")
            return
        name = str(props.get("Name") or f"{self.model.pseudo.stack_name}-{logical_id}")
        group = str(props.get("GroupName") or "default")
        self._add_schedule(
            ScheduleSpec(
                name=name,
                function=function,
                expression=str(props["ScheduleExpression"]),
                timezone=str(props.get("ScheduleExpressionTimezone") or "UTC"),
                arn=self.model.pseudo.arn("scheduler", f"schedule/{group}/{name}"),
                source="AWS::Scheduler::Schedule",
                input=target.get("Input"),
                enabled=props.get("State", "ENABLED") == "ENABLED",
            )
        )

    def _add_schedule(self, spec: ScheduleSpec) -> None:
        if spec.name in self.model.schedules:
            raise ValueError(f"two schedules are named {spec.name}")
        self.model.schedules[spec.name] = spec

    def _mapping(self, logical_id: str, p: Mapping[str, Any]) -> None:
        function_name = str(p["FunctionName"])
        function = self._function_of(function_name)
        source = str(p["EventSourceArn"])
        queue = self.model.queue_by_arn(source)
        table = next((t for t in self.model.tables.values() if t.stream_arn == source), None)
        if function is None or (queue is None and table is None):
            self.model.unsupported.append(f"{logical_id}: mapping of {source} to {function_name}")
            return
        event_name = logical_id.removeprefix(function)
        report = "ReportBatchItemFailures" in (p.get("FunctionResponseTypes") or [])
        enabled = str(p.get("Enabled", True)).lower() == "true"
        if queue is not None:
            self.model.sqs_mappings.append(
                SqsMapping(
                    function=function,
                    event_name=event_name,
                    queue=queue.logical_id,
                    queue_arn=queue.arn,
                    batch_size=int(p.get("BatchSize") or 10),
                    report_failures=report,
                    filters=_patterns(p.get("FilterCriteria")),
                    enabled=enabled,
                )
            )
            return
        assert table is not None
        on_failure = ((p.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        self.model.stream_mappings.append(
            StreamMapping(
                function=function,
                event_name=event_name,
                table=table.logical_id,
                stream_arn=source,
                starting_position=str(p.get("StartingPosition") or "TRIM_HORIZON"),
                batch_size=int(p.get("BatchSize") or 100),
                report_failures=report,
                filters=_patterns(p.get("FilterCriteria")),
                maximum_retry_attempts=int(p.get("MaximumRetryAttempts", -1)),
                bisect_on_error=str(p.get("BisectBatchOnFunctionError")).lower() == "true",
                on_failure_arn=str(on_failure) if on_failure else None,
                enabled=enabled,
            )
        )

    def _http_api(self, logical_id: str, body: Mapping[str, Any]) -> None:
        """The HTTP API from the OpenAPI body SAM wrote for it (routes, integrations, JWT)."""
        authorizers = {}
        for name, scheme in ((body.get("components") or {}).get("securitySchemes") or {}).items():
            config = scheme.get("x-amazon-apigateway-authorizer") or {}
            jwt = config.get("jwtConfiguration")
            authorizers[name] = (
                Authorizer(
                    name=name,
                    kind="JWT",
                    issuer=str(jwt.get("issuer") or ""),
                    audience=tuple(str(a) for a in jwt.get("audience") or ()),
                    identity_source=str(config.get("identitySource") or "")
                    or "$request.header.Authorization",
                )
                if jwt
                else Authorizer(name=name, kind=str(config.get("type") or "REQUEST").upper())
            )
        ident = hashlib.sha256(logical_id.encode()).hexdigest()[:10]
        self.model.apis[logical_id] = HttpApiSpec(
            logical_id=logical_id,
            api_id=ident,
            domain_name=f"{ident}.execute-api.{self.model.pseudo.region}.{self.model.pseudo.url_suffix}",
            authorizers=authorizers,
        )
        for path, operations in (body.get("paths") or {}).items():
            for method, operation in operations.items():
                integration = operation.get("x-amazon-apigateway-integration") or {}
                found = _FUNCTION_IN_URI.search(str(integration.get("uri") or ""))
                function = self._function_of(found.group(1)) if found else None
                if function is None:
                    self.model.unsupported.append(f"{logical_id}: {method} {path} integration")
                    continue
                security = operation.get("security", body.get("security")) or []
                name, scopes = next(iter(security[0].items())) if security else ("NONE", [])
                self.model.routes.append(
                    HttpRoute(
                        function=function,
                        event_name=f"{method.upper()} {path}",
                        api=logical_id,
                        method="ANY"
                        if method == "x-amazon-apigateway-any-method"
                        else method.upper(),
                        path=path.lstrip("/") if path == "/$default" else path,
                        authorizer=None
                        if name == "NONE"
                        else authorizers.get(name, Authorizer(name, name)),
                        scopes=tuple(scopes),
                        payload_version=str(integration.get("payloadFormatVersion") or "2.0"),
                    )
                )
