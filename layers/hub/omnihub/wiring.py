"""Adapters built from settings, once per process and on first use.

Lazy so that importing a handler creates no boto3 client (a test's mock starts first), and a
function imports only the adapters it touches: every import is inside the function that needs
it, as each one is cold-start time (tests/unit/test_cold_imports.py pins what stays out).
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from omnihub.adapters.aws import client
from omnihub.channels import (
    channel_previous_secret_name,
    channel_secret_name,
    pii_lookup_key_name,
    pii_seal_keys_name,
)
from omnihub.settings import need, settings

if TYPE_CHECKING:
    from pydantic import ValidationError

    from omnihub.adapters.bus import EventBridgePublisher
    from omnihub.adapters.event_log import EventLog
    from omnihub.adapters.feedback_store import DynamoFeedbackStore
    from omnihub.adapters.member_store import DynamoMemberStore
    from omnihub.adapters.parameters import ParameterCache
    from omnihub.adapters.points_store import DynamoPointsStore
    from omnihub.adapters.ticket_store import DynamoTicketStore
    from omnihub.backbone import BusEvent
    from omnihub.channel_rules import ChannelRules
    from omnihub.events.envelope import Envelope
    from omnihub.feedback.knowledge import KnowledgeBase, KnowledgeCache
    from omnihub.identity.ids import MemberCodes, MemberIds
    from omnihub.identity.vault import PiiVault
    from omnihub.points.rules import PointsRules
    from omnihub.rulesets import RuleSets
    from omnihub.tickets.policies import SlaPolicies


@cache
def parameters() -> ParameterCache:
    from omnihub.adapters.parameters import ParameterCache

    return ParameterCache(client("ssm"))


def member_ids() -> MemberIds:
    """Keyed member ids (only the functions that create members read this key)."""
    from omnihub.identity.ids import MemberIds, member_id_key_name

    return MemberIds.from_b64(parameters().require(member_id_key_name(settings().parameter_path)))


def member_codes() -> MemberCodes:
    """The member codes a store presents for a redemption (the member API's key)."""
    from omnihub.identity.ids import MemberCodes, member_code_key_name

    name = member_code_key_name(settings().parameter_path)
    return MemberCodes.from_b64(parameters().require(name))


def channel_secret(channel: str) -> bytes | None:
    value = parameters().get(channel_secret_name(settings().parameter_path, channel))
    return value.encode() if value is not None else None


def channel_previous_secret(channel: str) -> bytes | None:
    """The channel's secret being rotated out (D72); None outside a rotation."""
    value = parameters().get(channel_previous_secret_name(settings().parameter_path, channel))
    return value.encode() if value is not None else None


@cache
def rule_sets() -> RuleSets:
    """Every rule set of this process (docs/operations.md), read through the parameter cache."""
    from omnihub.rulesets import RuleSets

    return RuleSets(_parameter, rule_set_invalid)


def _parameter(name: str) -> str | None:
    return parameters().get(name)


def forget_cached() -> None:
    """Drop every cached parameter and parsed rule set, so a value just set is in force at
    once (the local stack calls this after `/_local/parameters`; in AWS the TTL does it)."""
    parameters.cache_clear()
    rule_sets.cache_clear()
    forget_knowledge()


def channel_rules() -> ChannelRules:
    """What each channel may post: SSM (cached five minutes) over the defaults, last good kept."""
    from omnihub.channel_rules import ChannelRules

    return rule_sets().value(settings().parameter_path, "channels/allowed-events", ChannelRules)


def rule_set_invalid(name: str, error: ValidationError) -> None:
    """A broken rule set was found at load: log the fields at fault (never values) and count
    `RuleSetInvalid` (alarmed), while the last good version stays in force."""
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    from omnihub.rulesets import field_errors

    rule_set = name.removeprefix(settings().parameter_path + "/")
    Logger().error(
        "rule set is invalid; the last good version stays in force",
        extra={"rule_set": rule_set, "details": field_errors(error)},
    )
    with single_metric(
        name="RuleSetInvalid",
        unit=MetricUnit.Count,
        value=1,
        default_dimensions={"rule_set": rule_set},
    ):
        pass


_knowledge: KnowledgeCache | None = None


def knowledge_base() -> KnowledgeBase:
    """The FAQ entries from the knowledge table, re-read at most every five minutes (D84)."""
    global _knowledge
    if _knowledge is None:
        from omnihub.adapters.knowledge_table import KnowledgeTable
        from omnihub.feedback.knowledge import KnowledgeCache

        table = KnowledgeTable(
            client("dynamodb"), need(settings().knowledge_table, "KNOWLEDGE_TABLE")
        )
        _knowledge = KnowledgeCache(table.read, _knowledge_invalid)
    return _knowledge.get()


def _knowledge_invalid(name: str, error: ValidationError) -> None:
    """One alarmed rule set, `knowledge`; the log line names the entry at fault."""
    from aws_lambda_powertools import Logger

    Logger().error("knowledge entry is invalid", extra={"entry": name.partition("/")[2]})
    rule_set_invalid("knowledge", error)


def forget_knowledge() -> None:
    """The next answer reads the table again (the local stack calls this after a write)."""
    if _knowledge is not None:
        _knowledge.forget_cached()


def vault() -> PiiVault:
    """Lookup and sealing keys: only the webhook, which protects what arrives, needs both."""
    from omnihub.identity.vault import PiiVault

    path = settings().parameter_path
    return PiiVault.from_parameters(
        parameters().require(pii_lookup_key_name(path)),
        parameters().require(pii_seal_keys_name(path)),
    )


def lookup_vault() -> PiiVault:
    """The lookup key alone: the member API finds members, it never unseals (IAM agrees)."""
    from omnihub.identity.vault import PiiVault

    return PiiVault.from_parameters(
        parameters().require(pii_lookup_key_name(settings().parameter_path))
    )


@cache
def event_log() -> EventLog:
    from omnihub.adapters.event_log import EventLog

    s = settings()
    return EventLog(
        client("dynamodb"), s.event_log_table, timedelta(days=s.event_log_retention_days)
    )


@cache
def member_store() -> DynamoMemberStore:
    from omnihub.adapters.member_store import DynamoMemberStore

    s = settings()
    return DynamoMemberStore(client("dynamodb"), s.members_table, s.event_log_table)


@cache
def publisher() -> EventBridgePublisher:
    from omnihub.adapters.bus import EventBridgePublisher

    return EventBridgePublisher(client("events"), settings().event_bus_name)


def channel_envelope(event: BusEvent) -> Envelope:
    """The channel event a bus event carries, fetched from the event log if it was too large."""
    from omnihub.events.envelope import Envelope

    if event.reference:
        return event_log().envelope(event.reference)
    return Envelope.model_validate(event.detail)


@cache
def points_store() -> DynamoPointsStore:
    from omnihub.adapters.points_store import DynamoPointsStore

    s = settings()
    return DynamoPointsStore(
        client("dynamodb"), need(s.points_table, "POINTS_TABLE"), s.event_log_table
    )


def points_rules() -> PointsRules:
    """The scheme from SSM over its defaults (cached five minutes), so a campaign changes
    without a deploy; a broken value keeps the last good one."""
    from omnihub.points.rules import PointsRules

    return rule_sets().value(settings().parameter_path, "points/rules", PointsRules)


def sla_policies() -> SlaPolicies:
    """SLA policies and calendars from SSM over their defaults (cached five minutes)."""
    from omnihub.tickets.policies import SlaPolicies

    return rule_sets().value(settings().parameter_path, "tickets/policies", SlaPolicies)


@cache
def ticket_store() -> DynamoTicketStore:
    from omnihub.adapters.ticket_store import DynamoTicketStore

    s = settings()
    return DynamoTicketStore(
        client("dynamodb"),
        need(s.tickets_table, "TICKETS_TABLE"),
        s.event_log_table,
        s.members_table,
    )


@cache
def feedback_store() -> DynamoFeedbackStore:
    from omnihub.adapters.feedback_store import DynamoFeedbackStore

    s = settings()
    return DynamoFeedbackStore(
        client("dynamodb"),
        need(s.feedback_table, "FEEDBACK_TABLE"),
        s.event_log_table,
        s.members_table,
    )
