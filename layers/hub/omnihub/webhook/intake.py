"""Accepting one channel event: the order of checks is the contract's order of answers.

unknown channel 404 -> too large 413 -> bad signature 401 -> not JSON 400 -> a type or link
the channel may not post 403 (`event_not_allowed`, before validation) -> invalid 422
(including an `occurred_at` more than MAX_AHEAD in the future) -> logged once (202 accepted,
200 duplicate, 409 same id with another body). Nothing is written before every check has
passed, so a rejected event is never half-processed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, NoReturn, Protocol

from pydantic import ValidationError

from omnihub.channel_rules import ChannelRules, default_rules
from omnihub.channels import CHANNELS
from omnihub.clock import Clock, to_utc
from omnihub.errors import (
    Conflict,
    EventNotAllowed,
    InvalidInput,
    MalformedBody,
    NotFound,
    PayloadTooLarge,
)
from omnihub.events.channel import MemberPart, parse_channel_event
from omnihub.events.envelope import Envelope, ProtectedField, ProtectedIdentity, ProtectedMember
from omnihub.identity.normalise import InvalidIdentity, normalise
from omnihub.identity.vault import PiiVault, mask_identity, mask_profile
from omnihub.privacy import mask_text
from omnihub.webhook.signature import verify

MAX_BODY_BYTES = 256 * 1024
MAX_AHEAD = timedelta(minutes=10)
"""How far a channel's `occurred_at` may run ahead of the hub's clock (decision D40)."""


AppendOutcome = Literal["accepted", "duplicate", "conflict"]

#: Free-text fields of event data: phones and ID numbers in them are masked before anything is
#: logged or published, so no table, queue or DLQ downstream holds them.
FREE_TEXT: dict[str, tuple[str, ...]] = {
    "feedback.received": ("text",),
    "leader.registered": ("name", "community"),
}
BODY_DIGEST = "webhook-body"
"""The purpose of the keyed body digest (`PiiVault.digest`): a raw body holds the phone."""


class InboundLog(Protocol):
    def append_inbound(self, envelope: Envelope, body_digest: str) -> AppendOutcome:
        """Log the event unless its id is logged already (then compare the keyed body
        digests: an unkeyed hash of a body would let 10^4 guesses find its phone)."""
        ...


@dataclass(frozen=True)
class Intake:
    """What the webhook needs; the handler builds it once per cold start."""

    secret_for: Callable[[str], bytes | None]
    vault: Callable[[], PiiVault]
    log: InboundLog
    clock: Clock
    wall_clock: Clock
    extra_placeholders: Iterable[str] = ()
    previous_secret_for: Callable[[str], bytes | None] = lambda _channel: None
    channel_rules: Callable[[], ChannelRules] = default_rules


@dataclass(frozen=True)
class Accepted:
    status: Literal["accepted", "duplicate"]
    event_id: str
    type: str


def field_errors(
    error: ValidationError, prefix: tuple[str | int, ...] = ()
) -> list[dict[str, str]]:
    """pydantic errors as the contract's details: the dotted path of each field at fault."""
    details = []
    for item in error.errors(include_url=False, include_input=False):
        loc = list(item["loc"])
        if loc and isinstance(loc[0], str) and "." in loc[0]:
            loc = loc[1:]  # drop the discriminator tag pydantic puts first ("order.paid")
        details.append({"field": ".".join(str(p) for p in (*prefix, *loc)), "message": item["msg"]})
    return details


def protect(member: MemberPart, vault: PiiVault, extra: Iterable[str]) -> ProtectedMember:
    """Normalise and protect identities and profile; a malformed identity is a 422."""
    extra = tuple(extra)
    identities = []
    for index, identity in enumerate(member.identities):
        try:
            value = normalise(identity.type, identity.value, extra)
        except InvalidIdentity as error:
            raise InvalidInput(
                "an identity value is malformed",
                details=[{"field": f"member.identities.{index}.value", "message": str(error)}],
            ) from error
        if value.placeholder:
            identities.append(
                ProtectedIdentity(type=identity.type, masked="(placeholder)", placeholder=True)
            )
            continue
        identities.append(
            ProtectedIdentity(
                type=identity.type,
                key=vault.lookup_key(identity.type, value.value),
                sealed=vault.seal(value.value, identity.type),
                masked=mask_identity(identity.type, value.value),
            )
        )
    profile = {
        name: ProtectedField(
            masked=mask_profile(name, str(raw)), sealed=vault.seal(str(raw), f"profile.{name}")
        )
        for name, raw in member.profile.model_dump(exclude_none=True).items()
    }
    return ProtectedMember(identities=identities, profile=profile)


def masked_data(event_type: str, data: dict[str, object]) -> dict[str, object]:
    """The event's data with its free text masked (`FREE_TEXT`)."""
    fields = FREE_TEXT.get(event_type, ())
    return {k: mask_text(v) if k in fields and isinstance(v, str) else v for k, v in data.items()}


def _not_json(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is not JSON")


def _decode(raw_body: bytes) -> object:
    """The body as JSON, or a 400: besides bad syntax, Python's decoder raises ValueError for
    NaN/Infinity (refused here: not JSON) and integers over 4300 digits, and RecursionError for
    deep nesting; none of them may escape as a 500."""
    try:
        return json.loads(raw_body, parse_constant=_not_json)
    except (ValueError, RecursionError) as error:  # JSONDecodeError and UnicodeDecodeError too
        raise MalformedBody("the body is not JSON", details=[{"field": "body"}]) from error


def accept(intake: Intake, channel: str, signature: str | None, raw_body: bytes) -> Accepted:
    if channel not in CHANNELS:
        raise NotFound(f"unknown channel '{channel}'")
    if len(raw_body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
    secret = intake.secret_for(channel)
    if secret is None:
        raise NotFound(f"channel '{channel}' is not configured")
    now = intake.wall_clock.now().timestamp()
    verify(signature, raw_body, secret, now, intake.previous_secret_for(channel))
    payload = _decode(raw_body)
    if not isinstance(payload, dict):
        raise MalformedBody("the body must be a JSON object", details=[{"field": "body"}])
    refusal = intake.channel_rules().refusal(channel, payload)
    if refusal:
        raise EventNotAllowed(refusal[0], details=[{"field": refusal[1]}])
    try:
        event = parse_channel_event(payload)
    except ValidationError as error:
        raise InvalidInput(
            "the event does not match its contract", details=field_errors(error)
        ) from error

    occurred_at, received_at = to_utc(event.occurred_at), intake.clock.now()
    if occurred_at > received_at + MAX_AHEAD:
        raise InvalidInput(
            "the event happened in the future",
            details=[
                {
                    "field": "occurred_at",
                    "message": f"more than {int(MAX_AHEAD.total_seconds() // 60)} minutes "
                    "ahead of the hub's clock",
                }
            ],
        )
    vault = intake.vault()
    envelope = Envelope(
        channel=channel,
        event_id=event.event_id,
        type=event.type,
        occurred_at=occurred_at,
        received_at=received_at,
        member=protect(event.member, vault, intake.extra_placeholders),
        data=masked_data(event.type, event.data.model_dump(mode="json", exclude_none=True)),
    )
    outcome = intake.log.append_inbound(envelope, vault.digest(BODY_DIGEST, raw_body))
    if outcome == "conflict":
        raise Conflict(f"event_id '{event.event_id}' was already used for another body")
    return Accepted(outcome, event.event_id, event.type)
