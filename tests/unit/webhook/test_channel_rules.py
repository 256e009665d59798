"""What each channel may post (issue 13 finding 6, D71): defaults, partial values, last good."""

import json
import typing

import pytest
from pydantic import ValidationError

from omnihub.adapters.parameters import LastGood
from omnihub.channel_rules import (
    DEFAULT_RULES,
    ChannelName,
    EventType,
    default_rules,
    parse_rules,
)
from omnihub.channels import CHANNELS
from omnihub.events.channel import EVENT_TYPES
from tests.conftest import EVENTS


def test_every_channel_and_event_type_of_the_contract_has_a_rule():
    assert set(typing.get_args(ChannelName)) == set(CHANNELS) == set(DEFAULT_RULES)
    assert set(typing.get_args(EventType)) == set(EVENT_TYPES)


def test_the_demo_day_passes_under_the_defaults():
    rules = default_rules()
    for path in sorted((EVENTS / "day").glob("*.json")):
        for item in json.loads(path.read_text(encoding="utf-8")):
            assert rules.refusal(item["channel"], item["event"]) is None, (path.name, item)


@pytest.mark.parametrize(
    ("channel", "payload", "field"),
    [
        ("social", {"type": "order.paid", "data": {"leader_id": "ldr-001"}}, "type"),
        ("social", {"type": "member.erasure_requested"}, "type"),
        ("hotline", {"type": "leader.registered"}, "type"),
        ("tmall", {"type": "order.paid", "data": {"leader_id": "ldr-001"}}, "data.leader_id"),
        ("tmall", {"type": "order.paid", "data": {"store_id": "S-1"}}, "data.store_id"),
        ("taobao", {"type": "member.identified"}, "type"),
    ],
)
def test_a_type_or_link_the_channel_may_not_post_is_refused(channel, payload, field):
    refusal = default_rules().refusal(channel, payload)
    assert refusal is not None
    assert refusal[1] == field


def test_a_type_the_contract_does_not_know_is_left_to_validation():
    assert default_rules().refusal("tmall", {"type": "order.shipped"}) is None
    assert default_rules().refusal("tmall", {"type": 7}) is None


def test_a_value_changes_only_the_channels_and_fields_it_names():
    rules = parse_rules('{"channels": {"hotline": {"events": ["member.identified"]}}}')
    assert rules.channels["hotline"].events == {"member.identified"}
    assert rules.channels["tmall"] == DEFAULT_RULES["tmall"]
    linked = parse_rules('{"channels": {"pos": {"leader_links": true}}}').channels["pos"]
    assert linked.leader_links
    assert linked.events == DEFAULT_RULES["pos"].events


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"channels": {"taobao": {}}}', "channels.taobao"),
        ('{"channels": {"social": {"events": ["order.shipped"]}}}', "channels.social.events.0"),
        ('{"channels": {"social": {"events": ["leader.registered"]}}}', "channels.social"),
        ('{"channels": {"social": {"leader_link": true}}}', "channels.social.leader_link"),
        ("not json", ""),
    ],
)
def test_a_broken_value_is_refused_naming_the_field(raw, field):
    with pytest.raises(ValidationError) as caught:
        parse_rules(raw)
    locs = [".".join(str(p) for p in e["loc"]) for e in caught.value.errors()]
    assert any(loc.startswith(field) for loc in locs), locs


class Cache:
    def __init__(self):
        self.value = None

    def get(self, name):
        return self.value


def test_a_broken_value_is_never_applied_the_last_good_stays_and_is_reported_once():
    cache, reported = Cache(), []
    held = LastGood(cache.get, "/p", parse_rules, default_rules, lambda n, e: reported.append(n))
    assert held.value() == default_rules()  # missing: the defaults
    cache.value = '{"channels": {"social": {"events": ["member.identified"]}}}'
    good = held.value()
    assert good.channels["social"].events == {"member.identified"}
    cache.value = '{"channels": {"social": {"events": ["nope"]}}}'
    assert held.value() == good
    assert held.value() == good
    assert reported == ["/p"]  # once per broken text, not once per event
    cache.value = None
    assert held.value() == default_rules()
