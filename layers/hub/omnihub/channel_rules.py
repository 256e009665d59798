"""What each channel may post: its event types and whether it carries links.

A channel's secret proves who posts, not what that channel may say: a leaked `social` secret must
not post `order.paid` with a `leader_id` (commission) nor `member.erasure_requested`. The rule
set is data, SSM `/omnihub/<stage>/channels/allowed-events`, validated here. A value names only
the channels it changes; each named field replaces that channel's default, the rest stay
(maps merge key by key, lists replace: omnihub.rulesets):

    {"channels": {"wecom": {"events": ["member.identified", "feedback.received"]}}}

Defaults (decision D71): the brand's own member channels (`miniprogram`, `app`) may ask for
erasure; leader links (`leader_id`, and so `leader.registered`) come only from `groupbuy` and
`miniprogram` (the group-buying mini-program); store links (`store_id`) only from `pos`, `app`
and `miniprogram` (store pick-up); platforms post members, orders, activity and feedback;
`wecom`, `hotline` and `social` post members and feedback (`wecom` activity too).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from omnihub.channels import ChannelName
from omnihub.events.channel import EVENT_TYPES, EventType

_ORDERS = ("order.paid", "order.completed", "order.refunded")
_PLATFORM = ("member.identified", *_ORDERS, "points.activity", "feedback.received")
_OWN = (*_PLATFORM, "member.erasure_requested")


class ChannelRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    events: Annotated[frozenset[EventType], Field(max_length=len(EVENT_TYPES))]
    leader_links: bool = False
    store_links: bool = False

    @model_validator(mode="after")
    def _registers_leaders_only_with_leader_links(self) -> ChannelRule:
        """`leader.registered` carries a `leader_id`: a channel without leader links cannot."""
        if "leader.registered" in self.events and not self.leader_links:
            raise ValueError("leader.registered needs leader_links: true")
        return self


DEFAULT_RULES: dict[str, ChannelRule] = {
    "miniprogram": ChannelRule(
        events=frozenset((*_OWN, "leader.registered")), leader_links=True, store_links=True
    ),
    "app": ChannelRule(events=frozenset(_OWN), store_links=True),
    "pos": ChannelRule(events=frozenset(_PLATFORM), store_links=True),
    "tmall": ChannelRule(events=frozenset(_PLATFORM)),
    "jd": ChannelRule(events=frozenset(_PLATFORM)),
    "pdd": ChannelRule(events=frozenset(_PLATFORM)),
    "douyin": ChannelRule(events=frozenset(_PLATFORM)),
    "wecom": ChannelRule(
        events=frozenset(("member.identified", "points.activity", "feedback.received"))
    ),
    "groupbuy": ChannelRule(events=frozenset((*_PLATFORM, "leader.registered")), leader_links=True),
    "hotline": ChannelRule(events=frozenset(("member.identified", "feedback.received"))),
    "social": ChannelRule(events=frozenset(("member.identified", "feedback.received"))),
}


class ChannelRules(BaseModel):
    """Every channel's rule, defaults merged in; deny by default for anything unnamed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: dict[ChannelName, ChannelRule]

    def refusal(self, channel: str, payload: dict[str, Any]) -> tuple[str, str] | None:
        """Why this channel may not post this decoded body (message, field), or None.

        Looked at before the body is validated (authorisation before validation): a
        type of the contract the channel may not post, or a link field it does not carry. A
        type the contract does not know is left to validation (422 naming `type`)."""
        rule = self.channels.get(channel)  # type: ignore[call-overload]
        kind = payload.get("type")
        if rule is None:
            return f"channel '{channel}' may not post events", "type"
        if isinstance(kind, str) and kind in EVENT_TYPES and kind not in rule.events:
            return f"channel '{channel}' may not post {kind}", "type"
        data = payload.get("data")
        if isinstance(data, dict):
            if data.get("leader_id") is not None and not rule.leader_links:
                return f"channel '{channel}' carries no leader links", "data.leader_id"
            if data.get("store_id") is not None and not rule.store_links:
                return f"channel '{channel}' carries no store links", "data.store_id"
        return None


def default_value() -> dict[str, Any]:
    """The defaults as the parameter's JSON (omnihub.rulesets merges a value over them)."""
    return {
        "channels": {name: rule.model_dump(mode="json") for name, rule in DEFAULT_RULES.items()}
    }


def default_rules() -> ChannelRules:
    return ChannelRules.model_validate({"channels": dict(DEFAULT_RULES)})


def parse_rules(raw: str) -> ChannelRules:
    """The parameter's JSON merged over the defaults (omnihub.rulesets); raises pydantic's
    ValidationError (with the field at fault) for a broken value, including a merge that
    breaks a channel's rule."""
    from omnihub.rulesets import parse

    return parse(ChannelRules, default_value(), raw)
