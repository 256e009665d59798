"""Create the template's resources in moto, and seed the secrets CloudFormation cannot create.

`provision(model)` is also what integration tests call inside `mock_aws()` so their tables,
queues and rules come from template.yaml and cannot drift from it. It refuses to run outside a
moto mock, so a stray call can never create anything in a real account.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import boto3

from devstack.model import QueueSpec, RuleSpec, StackModel, TableSpec
from devstack.physical import STREAM_LABEL

#: The local PII key: fixed so data sealed in one run can be read in the next; never deployed.
LOCAL_PII_KEY = base64.b64encode(hashlib.sha256(b"omnihub-local-pii-key").digest()).decode()
#: Local keys of member ids and member codes (omnihub.identity.ids); never deployed.
LOCAL_MEMBER_ID_KEY = base64.b64encode(hashlib.sha256(b"omnihub-local-member-id").digest()).decode()
LOCAL_MEMBER_CODE_KEY = base64.b64encode(
    hashlib.sha256(b"omnihub-local-member-code").digest()
).decode()


def local_channel_secret(channel: str) -> str:
    """The webhook secret the local stack seeds for a channel (SPEC 6)."""
    return f"local-{channel}-secret"


@dataclass(frozen=True)
class TableResource:
    """A created table."""

    name: str
    arn: str
    stream_arn: str | None


@dataclass(frozen=True)
class QueueResource:
    """A created queue."""

    name: str
    url: str
    arn: str


@dataclass(frozen=True)
class RelayTarget:
    """A rule target that is a function: moto cannot invoke Lambda, so the rule delivers to a
    hidden relay queue and the runtime invokes the function with the event, as EventBridge would.
    """

    rule: str
    target_id: str
    function: str
    queue: QueueResource
    input: str | None
    input_path: str | None


@dataclass
class Resources:
    """Names, URLs and ARNs of what `provision` created, by logical id."""

    tables: dict[str, TableResource] = field(default_factory=dict)
    queues: dict[str, QueueResource] = field(default_factory=dict)
    buses: dict[str, str] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    relays: list[RelayTarget] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)

    def table_name(self, logical_id: str) -> str:
        """The physical name of a template table."""
        return self.tables[logical_id].name

    def queue_url(self, logical_id: str) -> str:
        """The URL of a template queue."""
        return self.queues[logical_id].url


def _require_mock() -> None:
    from moto.core.models import botocore_stubber

    if not botocore_stubber.enabled:
        raise RuntimeError("devstack.provision runs only inside moto's mock_aws()")


def provision(
    model: StackModel, *, session: boto3.Session | None = None, seed_secrets: bool = True
) -> Resources:
    """Create every table, queue, bus, rule and SSM parameter of the model in the active mock."""
    _require_mock()
    session = session or boto3.Session(region_name=model.pseudo.region)
    resources = Resources()
    dynamodb = session.client("dynamodb", region_name=model.pseudo.region)
    for table in model.tables.values():
        resources.tables[table.logical_id] = _create_table(dynamodb, table, model)
    sqs = session.client("sqs", region_name=model.pseudo.region)
    _create_queues(sqs, model, resources)
    events = session.client("events", region_name=model.pseudo.region)
    for bus in model.buses.values():
        events.create_event_bus(Name=bus.name)
        resources.buses[bus.logical_id] = bus.name
    for rule in model.rules.values():
        resources.rules[rule.logical_id] = _create_rule(events, sqs, rule, model, resources)
    ssm = session.client("ssm", region_name=model.pseudo.region)
    for parameter in model.ssm_parameters.values():
        ssm.put_parameter(
            Name=parameter.name,
            Value=parameter.value,
            Type=parameter.type,
            Description=parameter.description,
            Overwrite=True,
        )
        resources.parameters[parameter.logical_id] = parameter.name
    if seed_secrets:
        resources.secrets = seed_local_secrets(ssm, model.parameter_paths())
    return resources


def seed_local_secrets(ssm: Any, parameter_paths: list[str]) -> dict[str, str]:
    """Put the out-of-band secrets: a webhook secret per channel, the PII, member-id and member-code
    keys, per path."""
    from omnihub.channels import (
        CHANNELS,
        channel_secret_name,
        pii_key_name,
        pii_lookup_key_name,
        pii_seal_keys_name,
    )
    from omnihub.identity.ids import member_code_key_name, member_id_key_name
    from omnihub.identity.vault import split_master

    seeded: dict[str, str] = {}
    for path in parameter_paths:
        for channel in CHANNELS:
            seeded[channel_secret_name(path, channel)] = local_channel_secret(channel)
        seeded[pii_key_name(path)] = LOCAL_PII_KEY  # legacy; the functions read the two below
        seeded[pii_lookup_key_name(path)], seeded[pii_seal_keys_name(path)] = split_master(
            LOCAL_PII_KEY, {"k1": hashlib.sha256(b"omnihub-local-seal-k1").digest()}
        )
        seeded[member_id_key_name(path)] = LOCAL_MEMBER_ID_KEY
        seeded[member_code_key_name(path)] = LOCAL_MEMBER_CODE_KEY
    for name, value in seeded.items():
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
    return seeded


def _create_table(dynamodb: Any, table: TableSpec, model: StackModel) -> TableResource:
    request: dict[str, Any] = {
        "TableName": table.name,
        "AttributeDefinitions": table.attribute_definitions,
        "KeySchema": table.key_schema,
        "BillingMode": table.billing_mode,
    }
    if table.global_indexes:
        request["GlobalSecondaryIndexes"] = table.global_indexes
    if table.local_indexes:
        request["LocalSecondaryIndexes"] = table.local_indexes
    if table.provisioned_throughput:
        request["ProvisionedThroughput"] = table.provisioned_throughput
    if table.stream_view_type:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": table.stream_view_type,
        }
    dynamodb.create_table(**request)
    if table.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=table.name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
        )
    stream_arn = None
    if table.stream_view_type:
        _stamp_stream_label(model, table.name)
        stream_arn = dynamodb.describe_table(TableName=table.name)["Table"]["LatestStreamArn"]
        if stream_arn != table.stream_arn:
            raise RuntimeError(f"moto named the stream {stream_arn}, expected {table.stream_arn}")
    return TableResource(table.name, table.arn, stream_arn)


def _stamp_stream_label(model: StackModel, table_name: str) -> None:
    """moto labels a stream with its creation time; fix it so `!GetAtt T.StreamArn` is known
    before the table exists (function environments are resolved from the template first)."""
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[model.pseudo.account_id][model.pseudo.region]
    backend.tables[table_name].latest_stream_label = STREAM_LABEL


def _create_queues(sqs: Any, model: StackModel, resources: Resources) -> None:
    # Two passes: a redrive policy may name a DLQ declared later in the template.
    for queue in model.queues.values():
        resources.queues[queue.logical_id] = _create_queue(sqs, queue)
    for queue in model.queues.values():
        if queue.redrive:
            policy = {
                "deadLetterTargetArn": queue.redrive.dead_letter_arn,
                "maxReceiveCount": queue.redrive.max_receive_count,
            }
            sqs.set_queue_attributes(
                QueueUrl=resources.queues[queue.logical_id].url,
                Attributes={"RedrivePolicy": json.dumps(policy)},
            )


def _create_queue(sqs: Any, queue: QueueSpec) -> QueueResource:
    url = sqs.create_queue(QueueName=queue.name, Attributes=queue.attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    if (url, arn) != (queue.url, queue.arn):
        raise RuntimeError(f"moto named queue {queue.logical_id} {url} {arn}")
    return QueueResource(queue.name, url, arn)


def _create_rule(
    events: Any, sqs: Any, rule: RuleSpec, model: StackModel, resources: Resources
) -> str:
    arn = events.put_rule(
        Name=rule.name,
        EventBusName=rule.bus_name,
        EventPattern=json.dumps(rule.pattern),
        State="ENABLED" if rule.enabled else "DISABLED",
        Description=rule.description,
    )["RuleArn"]
    targets = []
    for target in rule.targets:
        extra = dict(target.extra)
        target_arn = target.arn
        if target.function is not None:
            relay_name = f"devstack-relay-{rule.logical_id}-{target.target_id}"[:80]
            relay = _create_queue(
                sqs,
                QueueSpec(
                    logical_id=relay_name,
                    name=relay_name,
                    url=f"https://sqs.{model.pseudo.region}.{model.pseudo.url_suffix}/"
                    f"{model.pseudo.account_id}/{relay_name}",
                    arn=model.pseudo.arn("sqs", relay_name),
                    attributes={},
                    redrive=None,
                ),
            )
            resources.relays.append(
                RelayTarget(
                    rule=rule.logical_id,
                    target_id=target.target_id,
                    function=target.function,
                    queue=relay,
                    input=extra.pop("Input", None),
                    input_path=extra.pop("InputPath", None),
                )
            )
            target_arn = relay.arn
        targets.append({"Id": target.target_id, "Arn": target_arn, **extra})
    if targets:
        events.put_targets(Rule=rule.name, EventBusName=rule.bus_name, Targets=targets)
    if arn != rule.arn:
        raise RuntimeError(f"moto named rule {rule.logical_id} {arn}, expected {rule.arn}")
    return str(arn)
