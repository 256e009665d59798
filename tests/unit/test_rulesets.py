"""One loader for every rule set: partial values merge with the defaults, a broken
value is refused naming the field, and found at load it is never applied."""

import json
from pathlib import Path

import pytest
import yaml

from omnihub import rulesets
from omnihub.leaders.scheme import CommissionScheme
from omnihub.points.rules import PointsRules
from omnihub.rulesets import REGISTRY, RuleSetRejected, RuleSets, merge, validate
from omnihub.tickets.policies import SlaPolicies, default_value

ROOT = Path(__file__).resolve().parents[2]


def test_maps_merge_key_by_key_recursively_and_lists_replace():
    default = {"a": {"x": 1, "y": {"p": 1, "q": 2}}, "l": [1, 2], "s": 1}
    value = {"a": {"y": {"q": 3}}, "l": [9]}
    assert merge(default, value) == {"a": {"x": 1, "y": {"p": 1, "q": 3}}, "l": [9], "s": 1}


def test_a_partial_tier_map_keeps_the_default_diamond():
    """Regression (issue 15 finding 1): a KeyError on every order.paid."""
    rules = validate("/omnihub/prod/points/rules", '{"tier_thresholds_fen": {"gold": 50000}}')
    assert isinstance(rules, PointsRules)
    assert rules.tier_thresholds_fen == {"gold": 50_000, "diamond": 500_000}
    assert rules.tier_for(60_000) == "gold"


@pytest.mark.parametrize(
    ("name", "raw", "field"),
    [
        (
            "/omnihub/dev/points/rules",
            '{"tier_thresholds_fen": {"gold": "x"}}',
            "tier_thresholds_fen.gold",
        ),
        (
            "/omnihub/dev/points/rules",
            '{"tier_thresholds_fen": {"diamond": 1}}',
            "tier_thresholds_fen",
        ),
        ("/omnihub/dev/points/rules", '{"pending_days": -1}', "pending_days"),
        ("/omnihub/dev/points/rules", "[1]", ""),
        ("/omnihub/dev/points/rules", "not json", ""),
        ("/omnihub/dev/leaders/scheme", '{"rates_bp": {"star": 20000}}', "rates_bp.star"),
        ("/omnihub/dev/channels/allowed-events", '{"channels": {"taobao": {}}}', "channels.taobao"),
        (
            "/omnihub/dev/tickets/policies",
            '{"calendars": {"business": {"hours": [["21:00", "09:00"]]}}}',
            "calendars.business.hours",
        ),
        (
            "/omnihub/dev/tickets/policies",
            '{"calendars": {"business": {"timezone": "Mars/Olympus"}}}',
            "calendars.business.timezone",
        ),
        (
            "/omnihub/dev/tickets/policies",
            '{"calendars": {"business": {"holidays": ["2026-02-30"]}}}',
            "calendars.business.holidays.0",
        ),
        (
            "/omnihub/dev/tickets/policies",
            '{"policies": [{"priority": "P2", "targets": {"first_response": "2h"}}]}',
            "policies.0.targets.first_response",
        ),
    ],
)
def test_a_broken_value_is_refused_naming_the_field(name, raw, field):
    with pytest.raises(RuleSetRejected) as caught:
        validate(name, raw)
    assert caught.value.field.startswith(field), caught.value.details


def test_names_that_hold_no_rule_set_are_not_validated():
    assert validate("/omnihub/dev/channels/tmall/secret", "anything") is None
    assert validate("/elsewhere/points/rules", "anything") is None


def test_the_leaders_scheme_merges_category_maps():
    scheme = validate(
        "/omnihub/dev/leaders/scheme", '{"category_rates_bp": {"gift_box": {"star": 600}}}'
    )
    assert isinstance(scheme, CommissionScheme)
    assert scheme.rate_bp("star", "gift_box") == 600
    assert scheme.rate_bp("rookie", "gift_box") == 500  # the tier's rate: nothing else dropped


class Parameters:
    def __init__(self):
        self.values = {}

    def get(self, name):
        return self.values.get(name)


def test_a_broken_value_found_at_load_is_never_applied_and_reported_once():
    parameters, reported = Parameters(), []
    sets = RuleSets(parameters.get, lambda name, error: reported.append(name))
    assert sets.value("/omnihub/dev", "points/rules", PointsRules) == PointsRules()  # missing
    parameters.values["/omnihub/dev/points/rules"] = '{"tier_thresholds_fen": {"gold": 50000}}'
    good = sets.value("/omnihub/dev", "points/rules", PointsRules)
    assert good.tier_thresholds_fen["gold"] == 50_000
    parameters.values["/omnihub/dev/points/rules"] = '{"tier_thresholds_fen": {"gold": -1}}'
    assert sets.value("/omnihub/dev", "points/rules", PointsRules) == good
    assert sets.value("/omnihub/dev", "points/rules", PointsRules) == good
    assert reported == ["/omnihub/dev/points/rules"]


def test_every_registered_default_is_valid():
    for rule_set in REGISTRY.values():
        rule_set.parse(json.dumps(rule_set.default_value()))


def _template_value(logical_id):
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "template.yaml").read_text("utf-8"), Loader=Loader)  # noqa: S506
    return template["Resources"][logical_id]["Properties"]["Value"]


def test_the_templates_sla_policies_are_the_defaults_and_valid():
    value = _template_value("TicketPoliciesParameter")
    assert json.loads(value) == default_value()
    assert isinstance(validate("/omnihub/dev/tickets/policies", value), SlaPolicies)


@pytest.mark.parametrize(
    ("logical_id", "key"),
    [
        ("PointsRulesParameter", "points/rules"),
        ("ChannelRulesParameter", "channels/allowed-events"),
        ("LeadersSchemeParameter", "leaders/scheme"),
        ("TicketPoliciesParameter", "tickets/policies"),
    ],
)
def test_every_template_value_is_a_valid_rule_set(logical_id, key):
    assert rulesets.validate(f"/omnihub/dev/{key}", _template_value(logical_id)) is not None
