"""After moto's CloudFormation made the stack: relay queues for the functions rules target, and
the secrets CloudFormation cannot create.

`provision(model)` runs in the mock the model was loaded in (devstack.template.load_model). It
refuses to run outside a moto mock, so a stray call can never touch a real account.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from devstack.knowledge import KNOWLEDGE_TABLE, seed_knowledge
from devstack.model import RuleSpec, StackModel
from devstack.moto_cfn import client_for, require_mock

#: The local PII key: fixed so data sealed in one run can be read in the next; never deployed.
LOCAL_PII_KEY = base64.b64encode(hashlib.sha256(b"omnihub-local-pii-key").digest()).decode()
#: Local keys of member ids and member codes (omnihub.identity.ids); never deployed.
LOCAL_MEMBER_ID_KEY = base64.b64encode(hashlib.sha256(b"omnihub-local-member-id").digest()).decode()
LOCAL_MEMBER_CODE_KEY = base64.b64encode(
    hashlib.sha256(b"omnihub-local-member-code").digest()
).decode()


def local_channel_secret(channel: str) -> str:
    """The webhook secret the local stack seeds for a channel."""
    return f"local-{channel}-secret"


@dataclass(frozen=True)
class RelayTarget:
    """A rule target that is a function: moto cannot invoke Lambda, so the rule delivers to a
    hidden relay queue and the runtime invokes the function with the event, as EventBridge would.
    """

    rule: str
    target_id: str
    function: str
    url: str
    arn: str
    input: str | None
    input_path: str | None


def provision(model: StackModel) -> list[RelayTarget]:
    """Relay the rules' function targets and seed the secrets, in the mock the model was made in."""
    require_mock()
    region = model.pseudo.region
    sqs, events = client_for(region, "sqs"), client_for(region, "events")
    relays = [
        r for rule in model.rules.values() for r in _relay_function_targets(sqs, events, rule)
    ]
    for spec in model.schedules.values():
        if spec.source == "AWS::Events::Rule":  # the virtual clock fires schedules
            rule_name = spec.arn.rsplit("/", 1)[-1]
            targets = events.list_targets_by_rule(Rule=rule_name)["Targets"]
            if targets:
                events.remove_targets(Rule=rule_name, Ids=[t["Id"] for t in targets])
    seed_local_secrets(client_for(region, "ssm"), model.parameter_paths())
    if KNOWLEDGE_TABLE in model.tables:
        seed_knowledge(client_for(region, "dynamodb"), model.tables[KNOWLEDGE_TABLE].name)
    return relays


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


def _relay_function_targets(sqs: Any, events: Any, rule: RuleSpec) -> list[RelayTarget]:
    """moto's EventBridge cannot deliver to Lambda (it raises NotImplementedError): each function
    target of a rule is pointed at a relay queue instead, which the runtime drains into the
    function with the event, as EventBridge would (with the target's Input or InputPath)."""
    relays, retargeted = [], []
    for target in rule.targets:
        if target.function is None:
            continue
        name = f"devstack-relay-{rule.logical_id}-{target.target_id}"[:80]
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        extra = dict(target.extra)
        input_json, input_path = extra.pop("Input", None), extra.pop("InputPath", None)
        relays.append(
            RelayTarget(
                rule.logical_id, target.target_id, target.function, url, arn, input_json, input_path
            )
        )
        retargeted.append({"Id": target.target_id, "Arn": arn, **extra})
    if retargeted:
        events.put_targets(Rule=rule.name, EventBusName=rule.bus_name, Targets=retargeted)
    return relays
