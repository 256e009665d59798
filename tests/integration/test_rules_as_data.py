"""Rule sets as data, changed at runtime (docs/operations.md): `POST /_local/parameters` and
`LocalStack.set_parameter` validate a value as the loader reads it, and it is in force at once."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from devstack.server import LocalHelpers
from omnihub import wiring
from omnihub.clock import SHANGHAI, parse_iso
from omnihub.rulesets import REGISTRY, RuleSetRejected
from tests.conftest import arrive, load_event, member_with
from tests.integration.test_points_flow import PHONE, order_paid

RULES = "/omnihub/dev/points/rules"
POLICIES = "/omnihub/dev/tickets/policies"


def set_parameter(stack, name, value):
    """POST /_local/parameters, as curl would: (status, body)."""
    body = json.dumps({"name": name, "value": value}).encode()
    answer = LocalHelpers(stack).handle("POST", "/_local/parameters", body)
    assert answer is not None
    return answer.status, json.loads(answer.body)


def spend_600_yuan(stack, key):
    """A 600-yuan order paid, completed and matured: spend counts toward the tier from then."""
    arrive(stack, order_paid(f"tm-{key}-1", f"SO-{key}", 60_000))
    completed = load_event("channel/order-completed.json")
    completed.update(
        event_id=f"tm-{key}-2", member={"identities": [PHONE]}, data={"order_id": f"SO-{key}"}
    )
    arrive(stack, completed)
    stack.runtime.clock.set(stack.now() + timedelta(days=8))
    run = stack.fire_schedule("points-daily")
    assert run["error"] is None, run


def member_file(stack):
    member = member_with(stack, PHONE)
    status, _, file = stack.http("GET", f"/v1/members/{member}", headers=stack.auth("agent"))
    assert status == 200, file
    return file


@pytest.fixture
def fresh(stack):
    yield
    wiring.forget_cached()  # nothing this test put in force leaks into the next stack


def test_a_partial_tier_map_merges_with_the_defaults_and_600_yuan_makes_gold(stack, fresh):
    """Regression (issue 15 finding 1): `{"tier_thresholds_fen": {"gold": 50000}}` dropped the
    default diamond threshold and every order.paid failed with KeyError into the PointsDLQ."""
    status, body = set_parameter(stack, RULES, '{"tier_thresholds_fen": {"gold": 50000}}')
    assert status == 200, body
    spend_600_yuan(stack, "g")
    assert member_file(stack)["tier"] == "gold"
    assert stack.dlq_messages("PointsQueue") == []
    answer = LocalHelpers(stack).handle("GET", "/_local/parameters", b"", f"name={RULES}")
    assert answer is not None
    assert answer.status == 200
    assert json.loads(answer.body)["value"] == '{"tier_thresholds_fen": {"gold": 50000}}'


def test_an_invalid_value_is_422_naming_the_field_and_orders_keep_earning(stack, fresh):
    assert set_parameter(stack, RULES, '{"tier_thresholds_fen": {"gold": 50000}}')[0] == 200
    status, body = set_parameter(stack, RULES, '{"tier_thresholds_fen": {"gold": "lots"}}')
    assert status == 422, body
    assert body["error"]["code"] == "validation_failed"
    assert body["error"]["field"] == "value.tier_thresholds_fen.gold"
    assert stack.parameter(RULES) == '{"tier_thresholds_fen": {"gold": 50000}}'  # not stored
    spend_600_yuan(stack, "i")
    assert member_file(stack)["tier"] == "gold"  # the value in force is the last good one


def test_a_broken_value_found_at_load_keeps_the_last_good_rules(stack, fresh, caplog):
    """No event ever fails because of a rule set: a value put around the validation (the
    console, a script) is refused when the cache reads it; the last good rules earn."""
    stack.set_parameter(RULES, '{"tier_thresholds_fen": {"gold": 50000}}')
    arrive(stack, order_paid("tm-b-0", "SO-B-0", 100))  # read: the last good value
    with pytest.raises(RuleSetRejected):
        stack.set_parameter(RULES, '{"tier_thresholds_fen": {"diamond": 100}}')
    stack.client("ssm").put_parameter(
        Name=RULES, Value='{"tier_thresholds_fen": {"diamond": 100}}', Overwrite=True
    )
    wiring.parameters.cache_clear()  # the five minutes are up; the parsed last good stays
    spend_600_yuan(stack, "b")
    assert member_file(stack)["tier"] == "gold"
    assert "rule set is invalid" in caplog.text
    assert stack.dlq_messages("PointsQueue") == []


def test_p2_first_response_set_to_one_hour_gives_the_next_complaint_one_hour(stack, fresh):
    value = REGISTRY["tickets/policies"].default_value()
    p2 = next(p for p in value["policies"] if p["priority"] == "P2")
    p2["targets"]["first_response"] = "PT1H"
    status, body = set_parameter(stack, POLICIES, json.dumps({"policies": value["policies"]}))
    assert status == 200, body
    feedback = load_event("channel/feedback-received.json")
    feedback.update(event_id="c-1h", member={"identities": [PHONE]})
    feedback["data"] = {
        "feedback_id": "FB-c-1h",
        "text": "瓶子漏油了，箱子都湿了",
        "kind": "review",
        "sku": "OIL-PN-1L8",
        "batch_no": "B1",
        "rating": 1,
    }
    arrive(stack, feedback, channel="jd")
    member = member_with(stack, PHONE)
    _, _, listed = stack.http(
        "GET", "/v1/tickets", query={"member_id": member}, headers=stack.auth("agent")
    )
    (ticket,) = listed["items"]
    assert ticket["priority"] == "P2"
    _, _, detail = stack.http(
        "GET", f"/v1/tickets/{ticket['ticket_id']}", headers=stack.auth("agent")
    )
    first = next(t for t in detail["targets"] if t["name"] == "first_response")
    assert parse_iso(first["due_at"]) - parse_iso(first["started_at"]) == timedelta(hours=1)


def test_a_holiday_in_the_calendar_moves_a_p3_due_time_past_it(stack, fresh):
    """A P3 opened at 20:00 the day before a holiday: 1 h that evening, none on the holiday,
    the second hour from 09:00 the day after."""
    arrive(
        stack, {**load_event("channel/member-identified.json"), "member": {"identities": [PHONE]}}
    )
    member = member_with(stack, PHONE)
    value = {"calendars": {"business": {"holidays": ["2030-03-07"]}}}
    assert set_parameter(stack, POLICIES, json.dumps(value))[0] == 200
    stack.runtime.clock.set(datetime(2030, 3, 6, 12, 0, tzinfo=UTC))  # 20:00 in Shanghai
    status, _, ticket = stack.http(
        "POST",
        "/v1/tickets",
        headers=stack.auth("agent"),
        body={
            "member_id": member,
            "channel": "tmall",
            "subject": "保质期多久",
            "intent": "inquiry",
        },
    )
    assert (status, ticket["priority"]) == (201, "P3"), ticket
    due = parse_iso(ticket["first_response_due"]).astimezone(SHANGHAI)
    assert due.date().isoformat() == "2030-03-08"
    assert abs(due - datetime(2030, 3, 8, 10, 0, tzinfo=SHANGHAI)) < timedelta(seconds=5)


def test_a_policy_naming_an_unknown_calendar_is_refused_and_nothing_is_stored(stack, fresh):
    before = stack.parameter(POLICIES)
    value = REGISTRY["tickets/policies"].default_value()
    value["policies"][2]["calendar"] = "nowhere"
    status, body = set_parameter(stack, POLICIES, json.dumps(value))
    assert status == 422, body
    assert "nowhere" in body["error"]["message"] or "nowhere" in json.dumps(body)
    assert stack.parameter(POLICIES) == before


def test_an_unknown_name_is_stored_as_given_and_read_back(stack, fresh):
    status, _ = set_parameter(stack, "/omnihub/dev/anything/else", "not json at all")
    assert status == 200
    answer = LocalHelpers(stack).handle(
        "GET", "/_local/parameters", b"", "name=/omnihub/dev/anything/else"
    )
    assert answer is not None
    assert json.loads(answer.body) == {
        "name": "/omnihub/dev/anything/else",
        "value": "not json at all",
    }
    missing = LocalHelpers(stack).handle("GET", "/_local/parameters", b"", "name=/nope")
    assert missing is not None
    assert missing.status == 404
