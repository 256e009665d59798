"""The resolved template: what the local stack creates and which handler each trigger invokes.

Plain frozen dataclasses, keyed by logical id, with every intrinsic already resolved. Built by
`devstack.template.load_model`; consumed by provisioning, the runtime and other engineers' test
fixtures (so tables in tests come from the template and cannot drift).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.physical import Pseudo


@dataclass(frozen=True)
class TableSpec:
    """An AWS::DynamoDB::Table."""

    logical_id: str
    name: str
    arn: str
    stream_arn: str | None
    attribute_definitions: list[dict[str, str]]
    key_schema: list[dict[str, str]]
    global_indexes: list[dict[str, Any]]
    local_indexes: list[dict[str, Any]]
    billing_mode: str
    provisioned_throughput: dict[str, int] | None
    stream_view_type: str | None
    ttl_attribute: str | None


@dataclass(frozen=True)
class RedrivePolicy:
    """Where a queue parks a message after `max_receive_count` receives."""

    dead_letter_arn: str
    max_receive_count: int


@dataclass(frozen=True)
class QueueSpec:
    """An AWS::SQS::Queue; `attributes` are CreateQueue attributes (strings), redrive apart."""

    logical_id: str
    name: str
    url: str
    arn: str
    attributes: dict[str, str]
    redrive: RedrivePolicy | None


@dataclass(frozen=True)
class BusSpec:
    """An AWS::Events::EventBus."""

    logical_id: str
    name: str
    arn: str


@dataclass(frozen=True)
class RuleTarget:
    """One target of a rule; `function` is set when it is a Lambda function of the template."""

    target_id: str
    arn: str
    extra: dict[str, Any]
    function: str | None = None


@dataclass(frozen=True)
class RuleSpec:
    """An event-pattern rule on a bus (AWS::Events::Rule or a function's EventBridgeRule event)."""

    logical_id: str
    name: str
    arn: str
    bus_name: str
    pattern: dict[str, Any]
    targets: list[RuleTarget]
    enabled: bool = True
    description: str = ""


@dataclass(frozen=True)
class ParameterSpec:
    """An AWS::SSM::Parameter."""

    logical_id: str
    name: str
    type: str
    value: str
    description: str = ""


@dataclass(frozen=True)
class Authorizer:
    """An HTTP API authorizer; `kind` is JWT (verified locally) or what else the template says."""

    name: str
    kind: str
    issuer: str = ""
    audience: tuple[str, ...] = ()
    identity_source: str = "$request.header.Authorization"


@dataclass(frozen=True)
class HttpApiSpec:
    """An HTTP API (explicit AWS::Serverless::HttpApi or SAM's implicit ServerlessHttpApi)."""

    logical_id: str
    api_id: str
    domain_name: str
    default_authorizer: str | None
    authorizers: dict[str, Authorizer]


@dataclass(frozen=True)
class HttpRoute:
    """One HttpApi event: `METHOD /path` on an API, invoking `function`."""

    function: str
    event_name: str
    api: str
    method: str
    path: str
    authorizer: Authorizer | None
    scopes: tuple[str, ...] = ()
    payload_version: str = "2.0"

    @property
    def route_key(self) -> str:
        """API Gateway's routeKey (`$default` for the catch-all route)."""
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class SqsMapping:
    """An SQS event source mapping."""

    function: str
    event_name: str
    queue: str
    queue_arn: str
    batch_size: int
    report_failures: bool
    filters: list[dict[str, Any]]
    enabled: bool = True


@dataclass(frozen=True)
class StreamMapping:
    """A DynamoDB stream event source mapping."""

    function: str
    event_name: str
    table: str
    stream_arn: str
    starting_position: str
    batch_size: int
    report_failures: bool
    filters: list[dict[str, Any]]
    maximum_retry_attempts: int
    bisect_on_error: bool
    on_failure_arn: str | None
    enabled: bool = True


@dataclass(frozen=True)
class ScheduleSpec:
    """A schedule that invokes a function: `name` is what `/_local/schedules/{name}` fires."""

    name: str
    function: str
    expression: str
    timezone: str
    arn: str
    source: str
    input: str | None = None
    enabled: bool = True


@dataclass(frozen=True)
class FunctionSpec:
    """An AWS::Serverless::Function after merging Globals; environment fully resolved."""

    logical_id: str
    name: str
    arn: str
    code_uri: str
    handler: str
    runtime: str
    memory_mb: int
    timeout_s: int
    environment: dict[str, str]
    layers: list[str]


@dataclass
class StackModel:
    """Everything the local stack needs from one template and one set of parameter values."""

    root: Path
    template_path: Path
    pseudo: Pseudo
    parameters: dict[str, Any]
    description: str = ""
    tables: dict[str, TableSpec] = field(default_factory=dict)
    queues: dict[str, QueueSpec] = field(default_factory=dict)
    buses: dict[str, BusSpec] = field(default_factory=dict)
    rules: dict[str, RuleSpec] = field(default_factory=dict)
    ssm_parameters: dict[str, ParameterSpec] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    apis: dict[str, HttpApiSpec] = field(default_factory=dict)
    routes: list[HttpRoute] = field(default_factory=list)
    sqs_mappings: list[SqsMapping] = field(default_factory=list)
    stream_mappings: list[StreamMapping] = field(default_factory=list)
    schedules: dict[str, ScheduleSpec] = field(default_factory=dict)
    layer_dirs: list[Path] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)

    def queue_by_arn(self, arn: str) -> QueueSpec | None:
        """The template queue with this ARN, if any."""
        return next((q for q in self.queues.values() if q.arn == arn), None)

    def dead_letter_queues(self) -> list[str]:
        """Logical ids of queues that only park failures: redrive targets and OnFailure ones."""
        arns = {q.redrive.dead_letter_arn for q in self.queues.values() if q.redrive}
        arns |= {m.on_failure_arn for m in self.stream_mappings if m.on_failure_arn}
        for rule in self.rules.values():
            for target in rule.targets:
                dlq = (target.extra.get("DeadLetterConfig") or {}).get("Arn")
                if dlq:
                    arns.add(str(dlq))
        return [q.logical_id for q in self.queues.values() if q.arn in arns]

    def jwt_audience(self) -> str:
        """The audience local tokens carry: the first JWT authorizer's, else JwtAudience."""
        for api in self.apis.values():
            for authorizer in api.authorizers.values():
                if authorizer.kind == "JWT" and authorizer.audience:
                    return authorizer.audience[0]
        return str(self.parameters.get("JwtAudience", "local"))

    def claim_names(self) -> dict[str, str]:
        """Where local tokens put the role and scopes: the template's claim mapping parameters
        (RoleClaim, LeaderIdClaim, StoreIdClaim), so the handlers find them as deployed."""
        names = {"role": "RoleClaim", "leader_id": "LeaderIdClaim", "store_id": "StoreIdClaim"}
        return {
            key: str(self.parameters[param])
            for key, param in names.items()
            if self.parameters.get(param)
        }

    def parameter_paths(self) -> list[str]:
        """Distinct PARAMETER_PATH values of the functions (where out-of-band secrets live)."""
        paths = {f.environment.get("PARAMETER_PATH", "") for f in self.functions.values()}
        return sorted(p for p in paths if p)
