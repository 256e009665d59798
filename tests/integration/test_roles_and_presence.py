"""Issue 13 findings 1, 2, 7 and 15 over HTTP through the local stack: roles no user can grant
themselves, redemption only with the member present, first responders who cannot triage, and
leaders' scope checked on the id the route resolved."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest

from devstack.http_api import HttpRequest, RouteTable, build_event
from tests.conftest import load_event

STAFF_ROUTES_SAMPLE_BODY = {"redemption_id": "r-1", "points": 1, "reward": "x"}


def _post(stack, channel, event):
    status, _, body = stack.post_channel_event(channel, event)
    assert status == 202, body


def _member(stack, n, phone, card, leader=None):
    who = {"identities": [{"type": "phone", "value": phone}, {"type": "store_card", "value": card}]}
    identified = load_event("channel/member-identified.json")
    identified.update(event_id=f"pos-id-{n}", member=who)
    _post(stack, "pos", identified)
    paid = load_event("channel/order-paid.json")
    paid.update(event_id=f"gb-op-{n}", member={"identities": [who["identities"][0]]})
    paid["data"]["order_id"] = f"SO-P{n}"
    if leader:
        paid["data"]["leader_id"] = leader
    _post(stack, "groupbuy", paid)
    done = load_event("channel/order-completed.json")
    done.update(event_id=f"gb-oc-{n}", member=paid["member"], data={"order_id": f"SO-P{n}"})
    _post(stack, "groupbuy", done)
    stack.drain()
    status, _, found = stack.http(
        "POST",
        "/v1/members/lookup",
        body={"type": "phone", "value": phone},
        headers=stack.auth("agent"),
    )
    assert status == 200, found
    return found["member_id"]


@pytest.fixture
def two(stack):
    """Member A (card SC-A1, bound to ldr-001) and B (card SC-B1), both with points."""
    registered = load_event("channel/leader-registered.json")
    _post(stack, "groupbuy", registered)  # ldr-001
    stack.drain()
    a = _member(stack, 1, "13800000001", "SC-A1", leader="ldr-001")
    b = _member(stack, 2, "13800000002", "SC-B1")
    stack.runtime.clock.set(stack.now() + timedelta(days=8))
    assert stack.fire_schedule("points-daily")["error"] is None
    return a, b


# -- finding 1: roles come from groups, scopes from admin-only attributes --------------------------
def test_custom_role_admin_without_the_admin_group_gets_403_on_every_staff_route(stack):
    forged = stack.auth([], extra={"custom:role": "admin", "role": "admin"})
    for route in stack.model.routes:
        if route.authorizer is None:
            continue  # the signed webhook
        path = route.path.replace("{id}", "mbr_00").replace("{channel}", "tmall")
        status, _, body = stack.http(route.method, path, body={}, headers=forged)
        assert (status, body["error"]["code"]) == (403, "forbidden"), (route.method, path, body)


def test_a_token_in_two_role_groups_or_in_none_is_refused(stack):
    for roles in (["agent", "admin"], ["quality", "store"], [], ["beta-testers"]):
        status, _, body = stack.http("GET", "/v1/review-cases", headers=stack.auth(roles))
        assert status == 403, (roles, body)
    # a group this API does not know is ignored beside the one role it knows
    assert stack.http("GET", "/v1/review-cases", headers=stack.auth(["admin", "beta"]))[0] == 200


def test_a_leader_or_store_token_without_its_scope_attribute_may_do_nothing(stack):
    bare_leader, bare_store = stack.auth("leader"), stack.auth("store")
    for headers, method, path in [
        (bare_leader, "GET", "/v1/tickets?member_id=mbr_00"),
        (bare_store, "GET", "/v1/tickets?member_id=mbr_00"),
        (bare_store, "POST", "/v1/members/lookup"),
    ]:
        status, _, body = stack.http(method, path, body={}, headers=headers)
        assert status == 403, body
        assert "must name its" in body["error"]["message"]


def test_a_leader_id_in_a_claim_users_can_write_is_not_read(stack):
    # `leader_id` was read as a fallback scope: a user could name any leader
    token = stack.auth("leader", extra={"leader_id": "ldr-001", "custom:leader": "ldr-001"})
    status, _, _ = stack.http("GET", "/v1/leaders/ldr-001", headers=token)
    assert status == 403


# -- finding 2: redemption only for a member who is present --------------------------------------
def _redeem(stack, member, headers, n, presented=None, **extra):
    body = {"redemption_id": f"rd-{n}", "points": 10, "reward": "花生油1L", **extra}
    if presented is not None:
        body["presented"] = presented
    return stack.http("POST", f"/v1/members/{member}/redemptions", body=body, headers=headers)


def test_a_store_redeems_only_with_the_members_card_or_member_code(stack, two):
    a, b = two
    store, other_store = stack.auth("store", store="S-001"), stack.auth("store", store="S-002")
    card_a = {"type": "store_card", "value": "SC-A1"}
    refused = [
        _redeem(stack, a, stack.auth("agent"), 1, card_a),  # agents never redeem
        _redeem(stack, a, stack.auth("leader", leader="ldr-001"), 2, card_a),
        _redeem(stack, a, stack.auth("store"), 3, card_a),  # a store token naming no store
        _redeem(stack, a, store, 4),  # no proof
        _redeem(stack, b, store, 5, card_a),  # A's card does not spend B's points
        _redeem(stack, a, store, 6, {"type": "store_card", "value": "SC-NOBODY"}),
        _redeem(stack, a, store, 7, {"type": "member_code", "value": "000000000000"}),
        _redeem(stack, a, store, 8, {"type": "phone", "value": "13800000001"}),
        _redeem(stack, b, store, 9, card_a, points="lots"),  # authorisation before validation
    ]
    for status, _, body in refused:
        assert (status, body["error"]["code"]) == (403, "forbidden"), body
    assert refused[3][2]["error"]["details"] == [{"field": "presented"}]

    assert _redeem(stack, a, store, 10, card_a)[0] == 201
    assert _redeem(stack, a, other_store, 11, card_a)[0] == 201  # any store the member is at
    assert _redeem(stack, a, store, 10, card_a)[0] == 201  # the same request: no second spend

    status, _, shown = stack.http(
        "GET", f"/v1/members/{b}/member-code", headers=stack.auth("admin")
    )
    assert status == 200, shown
    assert len(shown["code"]) == 12
    assert stack.http("GET", f"/v1/members/{b}/member-code", headers=store)[0] == 403
    code_b = {"type": "member_code", "value": shown["code"]}
    assert _redeem(stack, b, store, 12, code_b)[0] == 201
    assert _redeem(stack, a, store, 13, code_b)[0] == 403  # B's code names B only
    assert _redeem(stack, b, stack.auth("admin"), 14)[0] == 201  # admins need no proof
    points = stack.http("GET", f"/v1/members/{a}/points", headers=stack.auth("agent"))[2]
    assert [line["kind"] for line in points["ledger"]].count("redeem") == 2


def test_member_ids_are_keyed_not_a_hash_anyone_can_recompute(stack, two):
    a, _ = two
    guessable = {
        "mbr_" + hashlib.sha256(f"member|{cause}".encode()).hexdigest()[:24]
        for cause in ("pos:pos-id-1", "groupbuy:gb-op-1", "pos-id-1", "gb-op-1")
    }
    assert a.startswith("mbr_")
    assert a not in guessable


# -- finding 7: first responders open tickets, the brand triages ---------------------------------
def _open(stack, headers, **body):
    return stack.http(
        "POST",
        "/v1/tickets",
        body={"channel": "groupbuy", "subject": "米里有虫", **body},
        headers=headers,
    )


def test_a_leader_opens_tickets_only_for_members_bound_to_them(stack, two):
    a, b = two
    leader = stack.auth("leader", leader="ldr-001")
    assert _open(stack, leader, member_id=a)[0] == 201
    unbound = _open(stack, leader, member_id=b)
    unknown = _open(stack, leader, member_id="mbr_0123456789abcdef01234567")
    assert unbound[0] == unknown[0] == 403
    assert unbound[2] == unknown[2]  # the same answer: no probing which member ids exist
    assert _open(stack, stack.auth("leader", leader="ldr-002"), member_id=a)[0] == 403


@pytest.mark.parametrize(("field", "value"), [("priority", "P1"), ("risk", "high")])
def test_stores_and_leaders_cannot_set_priority_or_risk(stack, two, field, value):
    a, _ = two
    for headers in (stack.auth("store", store="S-001"), stack.auth("leader", leader="ldr-001")):
        status, _, body = _open(stack, headers, member_id=a, **{field: value})
        assert status == 403, body
        assert body["error"]["details"][0]["field"] == field
    status, _, body = _open(stack, stack.auth("agent"), member_id=a, **{field: value})
    assert (status, body["priority"]) == (201, "P1")  # the brand's own triage may


# -- finding 15: the leaders API checks the id the route resolved --------------------------------
def test_the_leaders_scope_is_checked_on_the_resolved_id_not_only_the_path_parameters(stack):
    """An event whose path parameters name the caller but whose path names another leader (API
    Gateway never sends one; a gateway change or a mapping could) is refused by the route."""
    registered = load_event("channel/leader-registered.json")
    _post(stack, "groupbuy", registered)  # ldr-001
    other = load_event("channel/leader-registered.json")
    other.update(
        event_id="gb-lr-2", member={"identities": [{"type": "phone", "value": "13900000008"}]}
    )
    other["data"]["leader_id"] = "ldr-002"
    _post(stack, "groupbuy", other)
    stack.drain()
    route, params = RouteTable(stack.model.routes).match("GET", "/v1/leaders/ldr-002")
    claims = {"sub": "s", "cognito:groups": "[leader]", "custom:leader_id": "ldr-001"}
    event = build_event(
        HttpRequest(method="GET", path="/v1/leaders/ldr-002"),
        route,
        stack.model.apis[route.api],
        {**params, "id": "ldr-001"},  # what the gate reads says "own"
        claims,
        stack.model.pseudo.account_id,
    )
    answer = stack.runtime.invoke(route.function, event)
    assert answer["statusCode"] == 403, answer
    assert "ldr-002" not in json.dumps(answer)
