"""Every staff route x every role x (own scope, other scope, no scope), over HTTP through the
local stack, against ONE table. Routes are read from template.yaml: a route that has
no row here fails `test_every_route_has_a_row`, so nothing new ships without a policy.

Scopes: the leader's token names ldr-001 and the store's S-001; "own" targets their data (member
A, bound to ldr-001, holding card SC-A1; their own tickets; ldr-001), "other" targets someone
else's (member B of ldr-002; another's tickets; ldr-002), "none" is the same request as "own"
with a token that names no scope. Agents, quality and admins have no scope: their three columns
differ only by target. Two roles nobody may be: `forged` (custom:role=admin, a claim a user can
write, and no group) and `ambiguous` (in the agent and admin groups at once). A role a route
does not list gets 403 in every column (deny by default).
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest

from devstack.stack import LocalStack
from devstack.template import load_model
from tests.conftest import load_event

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("agent", "quality", "admin", "leader", "store", "forged", "ambiguous")
SCOPES = ("own", "other", "none")
PUBLIC = {"POST /v1/channels/{channel}/events"}  # HMAC-signed webhooks, no JWT
STAFF = ("agent", "quality", "admin")


def _all(roles: tuple[str, ...], cells: str) -> dict[str, str]:
    return dict.fromkeys(roles, cells)


# route -> role -> "own other none" statuses; a role not listed: "403 403 403".
MATRIX: dict[str, dict[str, str]] = {
    "GET /v1/members/{id}": {**_all(STAFF, "200 200 200"), "leader": "200 403 403"},
    "GET /v1/members/lookup": {**_all(STAFF, "200 200 200"), "store": "200 200 403"},
    "POST /v1/members/lookup": {**_all(STAFF, "200 200 200"), "store": "200 200 403"},
    "GET /v1/members/{id}/points": _all(STAFF, "200 200 200"),
    # the body presents member A's card: B's points cannot be spent with it
    "POST /v1/members/{id}/redemptions": {"admin": "201 201 201", "store": "201 403 403"},
    "GET /v1/members/{id}/member-code": {"admin": "200 200 200"},
    "POST /v1/members/{id}/unmerge": {"admin": "404 404 404"},  # a member that never existed
    "DELETE /v1/members/{id}": {"admin": "404 404 404"},
    "POST /v1/members/{id}/leader": {"admin": "404 404 404"},
    "GET /v1/review-cases": {"admin": "200 200 200"},
    "GET /v1/tickets": {
        **_all(STAFF, "200 200 200"),
        "leader": "200 200 403",  # lists only what they opened
        "store": "200 200 403",
    },
    # stores open for whoever is at the counter; leaders only for members bound to them
    "POST /v1/tickets": {
        **_all(STAFF, "201 201 201"),
        "leader": "201 403 403",
        "store": "201 201 403",
    },
    "GET /v1/tickets/{id}": {
        **_all(STAFF, "200 200 200"),
        "leader": "200 404 403",  # another's ticket is not confirmed to exist
        "store": "200 404 403",
    },
    "POST /v1/tickets/{id}/actions": {
        **_all(STAFF, "200 200 200"),
        "leader": "200 404 403",
        "store": "200 404 403",
    },
    "GET /v1/metrics/service": _all(("quality", "admin"), "200 200 200"),
    "GET /v1/insights/clusters": _all(STAFF, "200 200 200"),
    "GET /v1/insights/suggestions": _all(STAFF, "200 200 200"),
    "GET /v1/insights/batch-holds": _all(("quality", "admin"), "200 200 200"),
    "GET /v1/leaders/{id}": {"admin": "200 200 200", "leader": "200 403 403"},
    "GET /v1/leaders/{id}/statements": {"admin": "200 200 200", "leader": "200 403 403"},
    "GET /v1/leaders/{id}/withdrawals": {"admin": "200 200 200", "leader": "200 403 403"},
    "GET /v1/leaders/{id}/members": {"admin": "200 200 200", "leader": "200 403 403"},
    # nothing settled yet: an allowed caller is refused by the balance, not by the role
    "POST /v1/leaders/{id}/withdrawals": {"admin": "409 409 409", "leader": "409 403 403"},
}

NOBODY = "mbr_00000000000000000000dead"
CARD_A = {"type": "store_card", "value": "SC-A1"}


def _staff_routes() -> set[str]:
    return {
        f"{r.method} {r.path}"
        for r in load_model(ROOT).routes
        if f"{r.method} {r.path}" not in PUBLIC
    }


def test_every_route_has_a_row():
    """A route added to the template without a row here (or a row for a route that is gone)."""
    routes = {f"{r.method} {r.path}" for r in load_model(ROOT).routes}
    assert {
        f"{r.method} {r.path}" for r in load_model(ROOT).routes if r.authorizer is None
    } == PUBLIC
    assert routes - PUBLIC == set(MATRIX)


def _post(stack: LocalStack, channel: str, event: dict) -> None:
    status, _, body = stack.post_channel_event(channel, event)
    assert status == 202, body


def _person(stack: LocalStack, n: int, phone: str, card: str, leader: str) -> str:
    who = {"identities": [{"type": "phone", "value": phone}, {"type": "store_card", "value": card}]}
    identified = load_event("channel/member-identified.json")
    identified.update(event_id=f"pos-id-{n}", member=who)
    _post(stack, "pos", identified)
    paid = load_event("channel/order-paid.json")
    paid.update(event_id=f"gb-op-{n}", member={"identities": [who["identities"][0]]})
    paid["data"].update(order_id=f"SO-M{n}", leader_id=leader)
    _post(stack, "groupbuy", paid)
    done = load_event("channel/order-completed.json")
    done.update(event_id=f"gb-oc-{n}", member=paid["member"], data={"order_id": f"SO-M{n}"})
    _post(stack, "groupbuy", done)
    stack.drain()
    status, _, found = stack.http(
        "POST",
        "/v1/members/lookup",
        body={"type": "phone", "value": phone},
        headers=stack.auth("agent"),
    )
    assert status == 200, found
    return str(found["member_id"])


def _ticket(stack: LocalStack, member: str, **scope: str) -> str:
    role = "store" if "store" in scope else "leader"
    status, _, body = stack.http(
        "POST",
        "/v1/tickets",
        body={"member_id": member, "channel": "pos", "subject": "包装破损"},
        headers=stack.auth(role, **scope),
    )
    assert status == 201, body
    return str(body["ticket_id"])


@pytest.fixture(scope="module")
def world():
    """Two leaders, two members with cards, points and bindings, four tickets: built once."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "cn-north-1",
            "AWS_REGION": "cn-north-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }.items():
            patch.setenv(name, value)
        with LocalStack.start(ROOT) as stack:
            for n, (leader, phone) in enumerate(
                [("ldr-001", "13900000009"), ("ldr-002", "13900000008")]
            ):
                registered = load_event("channel/leader-registered.json")
                registered.update(
                    event_id=f"gb-lr-{n}",
                    member={"identities": [{"type": "phone", "value": phone}]},
                )
                registered["data"].update(leader_id=leader, name=f"团长{n}")
                _post(stack, "groupbuy", registered)
            stack.drain()
            a = _person(stack, 1, "13800000001", "SC-A1", "ldr-001")
            b = _person(stack, 2, "13800000002", "SC-B1", "ldr-002")
            stack.runtime.clock.set(stack.now() + timedelta(days=8))
            assert stack.fire_schedule("points-daily")["error"] is None
            tickets = {
                ("store", "own"): _ticket(stack, a, store="S-001"),
                ("store", "other"): _ticket(stack, b, store="S-002"),
                ("leader", "own"): _ticket(stack, a, leader="ldr-001"),
                ("leader", "other"): _ticket(stack, b, leader="ldr-002"),
            }
            yield {"stack": stack, "members": {"own": a, "other": b}, "tickets": tickets}


_serial = itertools.count()


def _request(
    world: dict, route: str, role: str, scope: str
) -> tuple[str, str, dict | None, dict | None]:
    """(method, path, query, body) of a valid request for the cell."""
    method, template = route.split(" ", 1)
    target = "own" if scope == "none" else scope
    member = world["members"][target]
    n = next(_serial)
    if template.startswith("/v1/leaders/"):
        path = template.replace("{id}", {"own": "ldr-001", "other": "ldr-002"}[target])
    elif template.startswith("/v1/tickets/"):
        holder = role if role in ("store", "leader") else ("store" if target == "own" else "leader")
        path = template.replace("{id}", world["tickets"][(holder, target)])
    elif route in (
        "POST /v1/members/{id}/unmerge",
        "DELETE /v1/members/{id}",
        "POST /v1/members/{id}/leader",
    ):
        path = template.replace("{id}", NOBODY)
    else:
        path = template.replace("{id}", member)
    card = {"own": "SC-A1", "other": "SC-B1"}[target]
    query = {
        "GET /v1/members/lookup": {"type": "store_card", "value": card},
        "GET /v1/tickets": {"member_id": member},
    }.get(route)
    body = {
        "POST /v1/members/lookup": {"type": "store_card", "value": card},
        "POST /v1/members/{id}/redemptions": {
            "redemption_id": f"rm-{n}",
            "points": 1,
            "reward": "小米1kg",
            "presented": CARD_A,
        },
        "POST /v1/members/{id}/unmerge": {"identity": {"type": "phone", "value": "13800000003"}},
        "POST /v1/members/{id}/leader": {"leader_id": "ldr-001"},
        "POST /v1/tickets": {"member_id": member, "channel": "pos", "subject": "米里有虫"},
        "POST /v1/tickets/{id}/actions": {"action": "respond", "note": "已联系"},
        "POST /v1/leaders/{id}/withdrawals": {"withdrawal_id": f"wd-{n}", "amount_fen": 100},
    }.get(route)
    return method, path, query, body


def _headers(stack: LocalStack, role: str, scope: str) -> dict[str, str]:
    scoped = scope != "none"
    if role == "forged":
        return stack.auth([], extra={"custom:role": "admin", "role": "admin"})
    if role == "ambiguous":
        return stack.auth(["agent", "admin"])
    if role == "leader":
        return stack.auth("leader", leader="ldr-001" if scoped else None)
    if role == "store":
        return stack.auth("store", store="S-001" if scoped else None)
    return stack.auth(role)


CELLS = [(route, role) for route in MATRIX for role in ROLES]


@pytest.mark.parametrize(("route", "role"), CELLS, ids=[f"{r}|{o}" for r, o in CELLS])
def test_the_role_matrix(world, route, role):
    stack = world["stack"]
    expected = MATRIX[route].get(role, "403 403 403").split()
    answered = []
    for scope in SCOPES:
        method, path, query, body = _request(world, route, role, scope)
        status, _, payload = stack.http(
            method, path, query=query, body=body, headers=_headers(stack, role, scope)
        )
        answered.append(str(status))
        if status == 403:
            assert payload["error"]["code"] == "forbidden", payload
    assert answered == expected, dict(zip(SCOPES, answered, strict=True))
