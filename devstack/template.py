"""Read template.yaml into a `StackModel`: SAM's Globals merged, intrinsics resolved.

Nothing about particular resources is known here: every table, queue, rule, parameter, function
and trigger comes from the template, so it can grow without touching the local stack. Event
sources are matched to resources by their resolved ARNs (a literal ARN works as well as !GetAtt).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from devstack.cfn_yaml import load_yaml
from devstack.intrinsics import Resolver, TemplateError
from devstack.model import (
    Authorizer,
    BusSpec,
    FunctionSpec,
    HttpApiSpec,
    HttpRoute,
    ParameterSpec,
    QueueSpec,
    RedrivePolicy,
    RuleSpec,
    RuleTarget,
    ScheduleSpec,
    SqsMapping,
    StackModel,
    StreamMapping,
    TableSpec,
)
from devstack.physical import Pseudo, api_id, bus_name, generated_name, rule_arn

IMPLICIT_HTTP_API = "ServerlessHttpApi"
_FUNCTION_TYPES = ("AWS::Serverless::Function",)
_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
)


def load_model(
    root: Path,
    *,
    template: Path | None = None,
    parameters: Mapping[str, str] | None = None,
    pseudo: Pseudo | None = None,
) -> StackModel:
    """Load `root/template.yaml` (or `template`) for the given parameter values."""
    path = (template or root / "template.yaml").resolve()
    raw = load_yaml(path)
    resolver = Resolver(raw, parameters, pseudo)
    return _Builder(root.resolve(), path, raw, resolver).build()


def _as_bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    return str(value).lower() == "true"


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """SAM Globals semantics: maps merge (function wins), lists concatenate, scalars override."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(out[key], value)
        elif isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = [*out[key], *value]
        else:
            out[key] = value
    return out


def _patterns(filter_criteria: Any) -> list[dict[str, Any]]:
    filters = (filter_criteria or {}).get("Filters") or []
    return [
        json.loads(f["Pattern"]) if isinstance(f["Pattern"], str) else f["Pattern"] for f in filters
    ]


class _Builder:
    """One pass over the resources, then one over the functions' events (they need the rest)."""

    def __init__(self, root: Path, path: Path, raw: dict[str, Any], resolver: Resolver) -> None:
        self.raw = raw
        self.r = resolver
        self.model = StackModel(
            root=root,
            template_path=path,
            pseudo=resolver.pseudo,
            parameters=dict(resolver.parameters),
            description=str(raw.get("Description") or "").strip(),
        )
        self.globals: Mapping[str, Any] = raw.get("Globals") or {}
        self.function_arns: dict[str, str] = {}

    @property
    def resources(self) -> dict[str, Any]:
        return {
            logical_id: resource
            for logical_id, resource in (self.raw.get("Resources") or {}).items()
            if self.r.resource_enabled(logical_id)
        }

    def props(self, logical_id: str) -> dict[str, Any]:
        resolved = self.r.resolve(self.resources[logical_id].get("Properties") or {})
        return resolved if isinstance(resolved, dict) else {}

    def build(self) -> StackModel:
        resources = self.resources
        for logical_id, resource in resources.items():
            if resource.get("Type") in _FUNCTION_TYPES:
                self.function_arns[self.r.get_att(logical_id, "Arn")] = logical_id
        handlers = {
            "AWS::DynamoDB::Table": self._table,
            "AWS::SQS::Queue": self._queue,
            "AWS::Events::EventBus": self._bus,
            "AWS::Events::Rule": self._rule,
            "AWS::SSM::Parameter": self._ssm_parameter,
            "AWS::Serverless::HttpApi": self._http_api,
            "AWS::Serverless::LayerVersion": self._layer,
            "AWS::Lambda::LayerVersion": self._layer,
            "AWS::Scheduler::Schedule": self._scheduler_schedule,
            "AWS::Lambda::Function": self._unsupported_function,
        }
        for logical_id, resource in resources.items():
            handler = handlers.get(str(resource.get("Type")))
            if handler:
                handler(logical_id)
        for logical_id, resource in resources.items():
            if resource.get("Type") in _FUNCTION_TYPES:
                self._function(logical_id, resource)
        return self.model

    # -- storage and messaging -------------------------------------------------------------------
    def _table(self, logical_id: str) -> None:
        p = self.props(logical_id)
        stream = p.get("StreamSpecification") or {}
        ttl = p.get("TimeToLiveSpecification") or {}
        billing = str(p.get("BillingMode") or "PROVISIONED")
        throughput = p.get("ProvisionedThroughput")
        physical = self.r.physical(logical_id)
        self.model.tables[logical_id] = TableSpec(
            logical_id=logical_id,
            name=physical.ref,
            arn=physical.attributes["Arn"],
            stream_arn=physical.attributes["StreamArn"] if stream else None,
            attribute_definitions=list(p.get("AttributeDefinitions") or []),
            key_schema=list(p.get("KeySchema") or []),
            global_indexes=list(p.get("GlobalSecondaryIndexes") or []),
            local_indexes=list(p.get("LocalSecondaryIndexes") or []),
            billing_mode=billing,
            provisioned_throughput=(
                {k: int(v) for k, v in throughput.items()} if throughput else None
            ),
            stream_view_type=str(stream["StreamViewType"]) if stream else None,
            ttl_attribute=(
                str(ttl["AttributeName"]) if _as_bool(ttl.get("Enabled"), False) else None
            ),
        )

    def _queue(self, logical_id: str) -> None:
        p = self.props(logical_id)
        physical = self.r.physical(logical_id)
        attributes = {
            key: (str(p[key]).lower() if isinstance(p[key], bool) else str(p[key]))
            for key in _QUEUE_ATTRIBUTES
            if key in p
        }
        redrive_raw = p.get("RedrivePolicy")
        if isinstance(redrive_raw, str):
            redrive_raw = json.loads(redrive_raw)
        redrive = (
            RedrivePolicy(
                dead_letter_arn=str(redrive_raw["deadLetterTargetArn"]),
                max_receive_count=int(redrive_raw["maxReceiveCount"]),
            )
            if redrive_raw
            else None
        )
        self.model.queues[logical_id] = QueueSpec(
            logical_id=logical_id,
            name=physical.attributes["QueueName"],
            url=physical.attributes["QueueUrl"],
            arn=physical.attributes["Arn"],
            attributes=attributes,
            redrive=redrive,
        )

    def _bus(self, logical_id: str) -> None:
        physical = self.r.physical(logical_id)
        self.model.buses[logical_id] = BusSpec(
            logical_id, physical.attributes["Name"], physical.attributes["Arn"]
        )

    def _targets(self, raw_targets: list[dict[str, Any]]) -> list[RuleTarget]:
        targets = []
        for target in raw_targets:
            extra = {k: v for k, v in target.items() if k not in ("Id", "Arn")}
            arn = str(target["Arn"])
            targets.append(RuleTarget(str(target["Id"]), arn, extra, self.function_arns.get(arn)))
        return targets

    def _rule(self, logical_id: str) -> None:
        p = self.props(logical_id)
        physical = self.r.physical(logical_id)
        name = physical.ref.split("|")[-1]
        enabled = str(p.get("State") or "ENABLED") == "ENABLED"
        targets = self._targets(list(p.get("Targets") or []))
        if "ScheduleExpression" in p:
            for target in targets:
                if target.function is None:
                    self.model.unsupported.append(
                        f"{logical_id}: schedule target {target.arn} (only functions fire)"
                    )
                    continue
                self._add_schedule(
                    ScheduleSpec(
                        name=name if len(targets) == 1 else f"{name}/{target.target_id}",
                        function=target.function,
                        expression=str(p["ScheduleExpression"]),
                        timezone="UTC",
                        arn=physical.attributes["Arn"],
                        source="AWS::Events::Rule",
                        input=target.extra.get("Input"),
                        enabled=enabled,
                    )
                )
            return
        self.model.rules[logical_id] = RuleSpec(
            logical_id=logical_id,
            name=name,
            arn=physical.attributes["Arn"],
            bus_name=bus_name(p.get("EventBusName")),
            pattern=dict(p.get("EventPattern") or {}),
            targets=targets,
            enabled=enabled,
            description=str(p.get("Description") or ""),
        )

    def _scheduler_schedule(self, logical_id: str) -> None:
        p = self.props(logical_id)
        target = p.get("Target") or {}
        function = self.function_arns.get(str(target.get("Arn")))
        if function is None:
            self.model.unsupported.append(f"{logical_id}: scheduler target is not a function")
            return
        physical = self.r.physical(logical_id)
        self._add_schedule(
            ScheduleSpec(
                name=physical.ref,
                function=function,
                expression=str(p["ScheduleExpression"]),
                timezone=str(p.get("ScheduleExpressionTimezone") or "UTC"),
                arn=physical.attributes["Arn"],
                source="AWS::Scheduler::Schedule",
                input=target.get("Input"),
                enabled=str(p.get("State") or "ENABLED") == "ENABLED",
            )
        )

    def _ssm_parameter(self, logical_id: str) -> None:
        p = self.props(logical_id)
        value = p.get("Value")
        self.model.ssm_parameters[logical_id] = ParameterSpec(
            logical_id=logical_id,
            name=self.r.physical(logical_id).ref,
            type=str(p.get("Type") or "String"),
            value=",".join(value) if isinstance(value, list) else str(value),
            description=str(p.get("Description") or ""),
        )

    def _layer(self, logical_id: str) -> None:
        content = self.props(logical_id).get("ContentUri")
        if isinstance(content, str):
            self.model.layer_dirs.append((self.model.root / content).resolve())

    def _unsupported_function(self, logical_id: str) -> None:
        self.model.unsupported.append(f"{logical_id}: plain AWS::Lambda::Function is not run")

    def _add_schedule(self, spec: ScheduleSpec) -> None:
        if spec.name in self.model.schedules:
            raise TemplateError(f"two schedules are named {spec.name}")
        self.model.schedules[spec.name] = spec

    # -- HTTP APIs -------------------------------------------------------------------------------
    def _api_spec(self, logical_id: str, auth: Mapping[str, Any]) -> HttpApiSpec:
        authorizers = {}
        for name, config in (auth.get("Authorizers") or {}).items():
            jwt = config.get("JwtConfiguration")
            if jwt:
                audience = jwt.get("audience") or []
                authorizers[name] = Authorizer(
                    name=name,
                    kind="JWT",
                    issuer=str(jwt.get("issuer") or ""),
                    audience=tuple(str(a) for a in audience),
                    identity_source=str(config.get("IdentitySource") or "")
                    or "$request.header.Authorization",
                )
            else:
                authorizers[name] = Authorizer(name=name, kind="REQUEST")
        ident = api_id(logical_id)
        default = auth.get("DefaultAuthorizer")
        return HttpApiSpec(
            logical_id=logical_id,
            api_id=ident,
            domain_name=f"{ident}.execute-api.{self.r.pseudo.region}.{self.r.pseudo.url_suffix}",
            default_authorizer=str(default) if default else None,
            authorizers=authorizers,
        )

    def _http_api(self, logical_id: str) -> None:
        merged = _deep_merge(self.globals.get("HttpApi") or {}, self.raw_props(logical_id))
        resolved = self.r.resolve(merged)
        self.model.apis[logical_id] = self._api_spec(logical_id, resolved.get("Auth") or {})

    def raw_props(self, logical_id: str) -> dict[str, Any]:
        return dict(self.resources[logical_id].get("Properties") or {})

    def _route(self, function: str, event_name: str, p: Mapping[str, Any], raw: Any) -> None:
        api_ref = raw.get("ApiId") if isinstance(raw, Mapping) else None
        api = str(api_ref["Ref"]) if isinstance(api_ref, Mapping) and "Ref" in api_ref else None
        if api is None:
            api = IMPLICIT_HTTP_API
            if api not in self.model.apis:
                implicit = self.r.resolve(self.globals.get("HttpApi") or {})
                self.model.apis[api] = self._api_spec(api, implicit.get("Auth") or {})
        spec = self.model.apis.get(api)
        if spec is None:
            raise TemplateError(f"{function}.{event_name}: unknown HTTP API {api}")
        auth = p.get("Auth") or {}
        name = auth.get("Authorizer", spec.default_authorizer)
        authorizer = None
        if name and name != "NONE":
            authorizer = spec.authorizers.get(str(name), Authorizer(str(name), str(name)))
        self.model.routes.append(
            HttpRoute(
                function=function,
                event_name=event_name,
                api=api,
                method=str(p.get("Method") or "ANY").upper(),
                path=str(p.get("Path") or "$default"),
                authorizer=authorizer,
                scopes=tuple(str(s) for s in auth.get("AuthorizationScopes") or ()),
                payload_version=str(p.get("PayloadFormatVersion") or "2.0"),
            )
        )

    # -- functions and their triggers ------------------------------------------------------------
    def _function(self, logical_id: str, resource: Mapping[str, Any]) -> None:
        raw = _deep_merge(self.globals.get("Function") or {}, resource.get("Properties") or {})
        events_raw = raw.pop("Events", None) or {}
        p = self.r.resolve(raw)
        runtime = str(p.get("Runtime") or "")
        if not runtime.startswith("python") or not isinstance(p.get("CodeUri"), str):
            self.model.unsupported.append(f"{logical_id}: {runtime or 'no runtime'} not run")
            return
        env = (p.get("Environment") or {}).get("Variables") or {}
        physical = self.r.physical(logical_id)
        self.model.functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            name=physical.ref,
            arn=physical.attributes["Arn"],
            code_uri=str(p["CodeUri"]),
            handler=str(p["Handler"]),
            runtime=runtime,
            memory_mb=int(p.get("MemorySize") or 128),
            timeout_s=int(p.get("Timeout") or 3),
            environment={str(k): _env_value(v) for k, v in env.items()},
            layers=[str(layer) for layer in p.get("Layers") or []],
        )
        for event_name, event in events_raw.items():
            self._event(logical_id, str(event_name), event)

    def _event(self, function: str, event_name: str, event: Mapping[str, Any]) -> None:
        kind = str(event.get("Type"))
        raw_props = event.get("Properties") or {}
        p = self.r.resolve(raw_props)
        if kind == "HttpApi":
            self._route(function, event_name, p, raw_props)
        elif kind == "SQS":
            self._sqs(function, event_name, p)
        elif kind == "DynamoDB":
            self._stream(function, event_name, p)
        elif kind in ("Schedule", "ScheduleV2"):
            self._function_schedule(function, event_name, kind, p)
        elif kind in ("EventBridgeRule", "CloudWatchEvent"):
            self._function_rule(function, event_name, p)
        else:
            self.model.unsupported.append(f"{function}.{event_name}: {kind} events")

    def _sqs(self, function: str, event_name: str, p: Mapping[str, Any]) -> None:
        queue = self.model.queue_by_arn(str(p["Queue"]))
        if queue is None:
            self.model.unsupported.append(f"{function}.{event_name}: queue {p['Queue']}")
            return
        self.model.sqs_mappings.append(
            SqsMapping(
                function=function,
                event_name=event_name,
                queue=queue.logical_id,
                queue_arn=queue.arn,
                batch_size=int(p.get("BatchSize") or 10),
                report_failures="ReportBatchItemFailures" in (p.get("FunctionResponseTypes") or []),
                filters=_patterns(p.get("FilterCriteria")),
                enabled=_as_bool(p.get("Enabled"), True),
            )
        )

    def _stream(self, function: str, event_name: str, p: Mapping[str, Any]) -> None:
        stream = str(p["Stream"])
        table = next((t for t in self.model.tables.values() if t.stream_arn == stream), None)
        if table is None:
            self.model.unsupported.append(f"{function}.{event_name}: stream {stream}")
            return
        on_failure = ((p.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        self.model.stream_mappings.append(
            StreamMapping(
                function=function,
                event_name=event_name,
                table=table.logical_id,
                stream_arn=stream,
                starting_position=str(p.get("StartingPosition") or "TRIM_HORIZON"),
                batch_size=int(p.get("BatchSize") or 100),
                report_failures="ReportBatchItemFailures" in (p.get("FunctionResponseTypes") or []),
                filters=_patterns(p.get("FilterCriteria")),
                maximum_retry_attempts=int(p.get("MaximumRetryAttempts", -1)),
                bisect_on_error=_as_bool(p.get("BisectBatchOnFunctionError"), False),
                on_failure_arn=str(on_failure) if on_failure else None,
                enabled=_as_bool(p.get("Enabled"), True),
            )
        )

    def _function_schedule(
        self, function: str, event_name: str, kind: str, p: Mapping[str, Any]
    ) -> None:
        logical = f"{function}{event_name}"
        name = str(p.get("Name") or logical)
        pseudo = self.r.pseudo
        if kind == "Schedule":
            expression = str(p["Schedule"])
            timezone = "UTC"  # EventBridge rules always evaluate cron in UTC
            physical_name = str(p.get("Name") or generated_name(pseudo, logical, 64))
            arn = rule_arn(pseudo, bus_name(p.get("EventBusName")), physical_name)
            enabled = _as_bool(p.get("Enabled"), True) and p.get("State", "ENABLED") == "ENABLED"
        else:
            expression = str(p["ScheduleExpression"])
            timezone = str(p.get("ScheduleExpressionTimezone") or "UTC")
            group = str(p.get("GroupName") or "default")
            physical_name = str(p.get("Name") or generated_name(pseudo, logical, 64))
            arn = pseudo.arn("scheduler", f"schedule/{group}/{physical_name}")
            enabled = p.get("State", "ENABLED") == "ENABLED"
        self._add_schedule(
            ScheduleSpec(
                name=name,
                function=function,
                expression=expression,
                timezone=timezone,
                arn=arn,
                source=kind,
                input=p.get("Input"),
                enabled=enabled,
            )
        )

    def _function_rule(self, function: str, event_name: str, p: Mapping[str, Any]) -> None:
        logical = f"{function}{event_name}"
        name = str(p.get("RuleName") or generated_name(self.r.pseudo, logical, 64))
        bus = bus_name(p.get("EventBusName"))
        target = p.get("Target") or {}
        extra = {k: p[k] for k in ("Input", "InputPath", "InputTransformer") if k in p}
        self.model.rules[logical] = RuleSpec(
            logical_id=logical,
            name=name,
            arn=rule_arn(self.r.pseudo, bus, name),
            bus_name=bus,
            pattern=dict(p.get("Pattern") or {}),
            targets=[
                RuleTarget(
                    target_id=str(target.get("Id") or f"{logical}Target"),
                    arn=self.model.functions[function].arn,
                    extra=extra,
                    function=function,
                )
            ],
            enabled=p.get("State", "ENABLED") == "ENABLED",
        )


def _env_value(value: Any) -> str:
    """Lambda environment values are strings; booleans render the way CloudFormation does."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)
