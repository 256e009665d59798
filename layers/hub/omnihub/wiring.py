"""Adapters built from settings, once per process and on first use.

Lazy so that importing a handler creates no boto3 client (a test's mock starts first), and a
function imports only the adapters it touches (each import here is cold-start time).
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from omnihub.adapters.aws import client
from omnihub.adapters.event_log import EventLog
from omnihub.adapters.parameters import ParameterCache
from omnihub.backbone import BusEvent
from omnihub.channels import channel_secret_name, pii_key_name
from omnihub.events.envelope import Envelope
from omnihub.identity.vault import PiiVault
from omnihub.settings import need, settings

if TYPE_CHECKING:
    from omnihub.adapters.bus import EventBridgePublisher
    from omnihub.adapters.feedback_store import DynamoFeedbackStore
    from omnihub.adapters.member_store import DynamoMemberStore
    from omnihub.adapters.points_store import DynamoPointsStore
    from omnihub.adapters.ticket_store import DynamoTicketStore
    from omnihub.points.rules import PointsRules


@cache
def parameters() -> ParameterCache:
    return ParameterCache(client("ssm"))


def channel_secret(channel: str) -> bytes | None:
    value = parameters().get(channel_secret_name(settings().parameter_path, channel))
    return value.encode() if value is not None else None


def vault() -> PiiVault:
    return PiiVault.from_b64(parameters().require(pii_key_name(settings().parameter_path)))


@cache
def event_log() -> EventLog:
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
    """The scheme from SSM (cached five minutes), so a campaign changes without a deploy."""
    from omnihub.points.rules import PointsRules

    name = f"{settings().parameter_path}/points/rules"
    return PointsRules.model_validate_json(parameters().require(name))


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
