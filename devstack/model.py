"""The resolved template: what the local stack creates and which handler each trigger invokes.

Plain frozen dataclasses, keyed by logical id, read back from the stack moto created from the
template (devstack.template.load_model); consumed by the runtime, the HTTP front and tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Pseudo:
    """The pseudo parameters of the simulated account (China partition by default)."""

    region: str = "cn-north-1"
    partition: str = "aws-cn"
    account_id: str = "123456789012"
    url_suffix: str = "amazonaws.com.cn"
    stack_name: str = "devstack"

    def arn(self, service: str, resource: str) -> str:
        """An ARN of this account and region."""
        return f"arn:{self.partition}:{service}:{self.region}:{self.account_id}:{resource}"


@dataclass(frozen=True)
class TableSpec:
    """An AWS::DynamoDB::Table."""

    logical_id: str
    name: str
    arn: str
    stream_arn: str | None


@dataclass(frozen=True)
class QueueSpec:
    """An AWS::SQS::Queue; `attributes` are its GetQueueAttributes answer, `dead_letter_arn` the
    target of its RedrivePolicy."""

    logical_id: str
    name: str
    url: str
    arn: str
    attributes: dict[str, str]
    dead_letter_arn: str | None


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
    """An HTTP API (AWS::ApiGatewayV2::Api, explicit or SAM's implicit ServerlessHttpApi)."""

    logical_id: str
    api_id: str
    domain_name: str
    authorizers: dict[str, Authorizer]


@dataclass(frozen=True)
class HttpRoute:
    """One route of an API's OpenAPI body: `METHOD /path`, invoking `function`."""

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
    """An AWS::Lambda::Function as moto created it; `code_uri` is its local directory."""

    logical_id: str
    name: str
    arn: str
    code_uri: str
    handler: str
    runtime: str
    memory_mb: int
    timeout_s: int
    environment: dict[str, str]


@dataclass
class StackModel:
    """Everything the local stack needs from one template and one set of parameter values."""

    root: Path
    pseudo: Pseudo
    parameters: dict[str, Any]
    description: str = ""
    #: The template as SAM's translator expanded it (plain CloudFormation).
    cloudformation: dict[str, Any] = field(default_factory=dict, repr=False)
    tables: dict[str, TableSpec] = field(default_factory=dict)
    queues: dict[str, QueueSpec] = field(default_factory=dict)
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
    #: Resource type -> logical ids that neither moto nor the local stack gives a meaning to.
    no_local_meaning: dict[str, list[str]] = field(default_factory=dict)
    #: A template fragment's value as the created stack resolved it (moto's resolver).
    resolve: Callable[[Any], Any] = field(default=lambda fragment: fragment, repr=False)

    def queue_by_arn(self, arn: str) -> QueueSpec | None:
        """The template queue with this ARN, if any."""
        return next((q for q in self.queues.values() if q.arn == arn), None)

    def dead_letter_queues(self) -> list[str]:
        """Logical ids of queues that only park failures: redrive targets and OnFailure ones."""
        arns = {q.dead_letter_arn for q in self.queues.values() if q.dead_letter_arn}
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
