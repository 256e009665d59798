"""Leaders through the real handlers: the demo day (events/day/04-leaders.json) -> the leaders
consumer -> commission-settlement -> the work shards -> statements over the API, a refund after
settlement, a withdrawal through the payouts function, roles."""

from datetime import UTC, datetime

import pytest

from devstack import demo_leaders as demo
from devstack.stack import LocalStack
from tests.conftest import ROOT, load_event

#: 20:00 in Shanghai on the day the demo's orders complete
COMPLETION_DAY = datetime(2026, 11, 12, 12, 0, tzinfo=UTC)


def replay(stack, *files):
    for name in files:
        for entry in load_event(f"day/{name}"):
            status, _, body = stack.post_channel_event(entry["channel"], entry["event"])
            assert status in (200, 202), body
    report = stack.drain().as_dict()
    assert not any(report["dlq_depths"].values()), report["dlq_depths"]


@pytest.fixture(scope="module")
def day():
    """The demo day on a frozen clock, then the demo's scenario: the T+1 run, a refund after it,
    a withdrawal (its second payout made to fail), the next run. What each step answered is kept
    for the tests below; the other tests read the stack or change only what no other test reads
    (so they pass in any order and on any worker)."""
    with LocalStack.start(ROOT, now=COMPLETION_DAY, clock_running=False) as stack:
        replay(stack, "01-identities.json", "04-leaders.json")
        seen: dict = {"before": {lid: demo.leader(stack, lid) for lid in demo.LEADERS}}
        seen["first_run"] = demo.next_run(stack)
        seen["after_first"] = {lid: demo.statements(stack, lid) for lid in demo.LEADERS}
        seen["late_refund"] = demo.post_late_refund(stack)
        seen["ldr-002_after_refund"] = demo.leader(stack, "ldr-002")
        seen["withdrawal"] = demo.withdraw(stack)
        seen["withdrawals"] = demo.withdrawals(stack, "ldr-003")
        seen["ldr-003_after_payouts"] = demo.leader(stack, "ldr-003")
        seen["second_run"] = demo.next_run(stack)
        seen["after_second"] = {lid: demo.statements(stack, lid) for lid in demo.LEADERS}
        seen["reconciled"] = demo.reconcile(stack)
        seen["dlq"] = stack.runtime.dlq_depths()
        yield stack, seen


def rows(items):
    return [
        (
            s["date"],
            s["opening_fen"],
            s["earned_fen"],
            s["reversed_fen"],
            s["withdrawn_fen"],
            s["closing_fen"],
        )
        for s in items
    ]


def test_pending_before_the_run_is_the_sum_of_floored_lines(day):
    _, seen = day
    # floor(net paid x rate) per line, rookie 5%, gift boxes 3%:
    # ldr-001: 599 + 200 (SO-3001) + 166 (SO-3003; its rice refunded before settlement)
    #          + 149 (SO-3005, 张三 via ldr-002's link) + 340 (SO-3006, Tmall) = 1,454
    # ldr-002: 1,290 (SO-3002 once, though two channels reported it; SO-3007 is his own)
    # ldr-003: 900 + 599 (SO-3004) + 23,960 + 6,040 (SO-3008) = 31,499
    before = seen["before"]
    assert {lid: (b["pending_fen"], b["available_fen"]) for lid, b in before.items()} == {
        "ldr-001": (1_454, 0),
        "ldr-002": (1_290, 0),
        "ldr-003": (31_499, 0),
    }


def test_the_t_plus_1_run_writes_the_statements_the_rules_say(day):
    _, seen = day
    assert seen["first_run"] == "2026-11-12"
    first = seen["after_first"]
    assert rows(first["ldr-001"]) == [("2026-11-12", 0, 1_454, 0, 0, 1_454)]
    assert rows(first["ldr-002"]) == [("2026-11-12", 0, 1_290, 0, 0, 1_290)]
    assert rows(first["ldr-003"]) == [("2026-11-12", 0, 31_499, 0, 0, 31_499)]
    (statement,) = first["ldr-001"]
    # sales: 15,980 + 3,333 (the refunded rice is out) + 2,990 + 6,800
    assert (statement["orders"], statement["lines"], statement["sales_fen"]) == (4, 6, 29_103)


def test_a_refund_after_settlement_and_a_withdrawal_are_on_the_next_statement(day):
    _, seen = day
    assert seen["late_refund"] == 202  # 100 yuan of SO-3002's oil
    assert seen["ldr-002_after_refund"]["available_fen"] == 790  # 1,290 - (1,290 - 790)
    status, body = seen["withdrawal"]
    assert status == 201
    assert [(p["payout_id"], p["amount_fen"]) for p in body["payouts"]] == [
        ("demo-wd-1-1", 20_000),
        ("demo-wd-1-2", 10_000),
    ]
    (done,) = seen["withdrawals"]
    assert [p["status"] for p in done["payouts"]] == ["paid", "failed"]
    assert done["status"] == "partially_paid"
    assert seen["ldr-003_after_payouts"]["available_fen"] == 11_499
    assert seen["second_run"] == "2026-11-13"
    second = seen["after_second"]
    assert rows(second["ldr-002"]) == [
        ("2026-11-12", 0, 1_290, 0, 0, 1_290),
        ("2026-11-13", 1_290, 0, 500, 0, 790),
    ]
    assert rows(second["ldr-003"])[-1] == ("2026-11-13", 31_499, 0, 0, 20_000, 11_499)
    assert (second["ldr-003"][-1]["withdrawals_fen"], second["ldr-003"][-1]["returned_fen"]) == (
        30_000,
        10_000,
    )
    assert rows(second["ldr-001"]) == rows(seen["after_first"]["ldr-001"])  # nothing new
    assert all(r.ok for r in seen["reconciled"]), [r.problems for r in seen["reconciled"]]
    assert not any(seen["dlq"].values())


def test_a_leader_sees_only_their_own(day):
    stack, _ = day
    own = stack.auth("leader", leader="ldr-001")
    assert stack.http("GET", "/v1/leaders/ldr-001/statements", headers=own)[0] == 200
    for path in (
        "/v1/leaders/ldr-002/statements",
        "/v1/leaders/ldr-002",
        "/v1/leaders/ldr-002/members",
    ):
        status, _, body = stack.http("GET", path, headers=own)
        assert (status, body["error"]["code"]) == (403, "forbidden"), path
    # authorisation before validation: a bad body to another leader's withdrawals is still 403
    bad = stack.http(
        "POST", "/v1/leaders/ldr-002/withdrawals", body={"amount_fen": 1.5}, headers=own
    )
    assert bad[0] == 403
    assert stack.http("GET", "/v1/leaders/ldr-001", headers=stack.auth("agent"))[0] == 403
    assert stack.http("GET", "/v1/leaders/ldr-001")[0] == 401
    assert stack.http("GET", "/v1/leaders/ldr-002", headers=stack.auth("admin"))[0] == 200
    rebind = stack.http(
        "POST", "/v1/members/mbr_0000/leader", body={"leader_id": "ldr-002"}, headers=own
    )
    assert rebind[0] == 403


def test_bound_members_are_listed_masked(day):
    stack, _ = day
    _, _, body = stack.http(
        "GET", "/v1/leaders/ldr-001/members", headers=stack.auth("leader", leader="ldr-001")
    )
    phones = sorted(
        i["value"] for m in body["items"] for i in m["identities"] if i["type"] == "phone"
    )
    # 张三 (two phones since One ID merged him) and the new customer of SO-3003
    assert phones == ["137****0021", "138****0001", "138****0002"]
    assert {m["by"] for m in body["items"]} == {"order"}


def test_withdrawals_answer_201_once_409_when_short(day):
    stack, _ = day
    path, own = "/v1/leaders/ldr-001/withdrawals", stack.auth("leader", leader="ldr-001")
    available = demo.leader(stack, "ldr-001")["available_fen"]
    short = stack.http(
        "POST", path, body={"withdrawal_id": "t-1", "amount_fen": available + 1}, headers=own
    )
    assert (short[0], short[2]["error"]["code"]) == (409, "conflict")
    first = stack.http("POST", path, body={"withdrawal_id": "t-2", "amount_fen": 100}, headers=own)
    again = stack.http("POST", path, body={"withdrawal_id": "t-2", "amount_fen": 100}, headers=own)
    assert (first[0], again[0]) == (201, 201)
    assert again[2]["payouts"] == first[2]["payouts"]
    other = stack.http("POST", path, body={"withdrawal_id": "t-2", "amount_fen": 200}, headers=own)
    assert other[0] == 409
    invalid = stack.http(
        "POST", path, body={"withdrawal_id": "t-3", "amount_fen": 1.5}, headers=own
    )
    assert (invalid[0], invalid[2]["error"]["details"][0]["field"]) == (422, "amount_fen")
    assert demo.leader(stack, "ldr-001")["available_fen"] == available - 100


def test_an_admin_rebinds_and_later_orders_follow(day):
    stack, _ = day
    member = stack.http(
        "GET",
        "/v1/members/lookup",
        query={"type": "phone", "value": "13700000023"},
        headers=stack.auth("admin"),
    )[2]["member_id"]
    status, _, body = stack.http(
        "POST",
        f"/v1/members/{member}/leader",
        body={"leader_id": "ldr-002"},
        headers=stack.auth("admin"),
    )
    assert (status, body["leader_id"], body["previous_leader_id"]) == (200, "ldr-002", "ldr-003")
    pending = demo.leader(stack, "ldr-002")["pending_fen"]
    event = load_event("channel/order-paid.json")
    event.update(
        event_id="tm-op-rebound",
        occurred_at=stack.now().isoformat(),
        member={"identities": [{"type": "phone", "value": "13700000023"}]},
    )
    event["data"] = {
        "order_id": "SO-REBOUND",
        "amount_fen": 10_000,
        "items": [
            {"line_id": "L1", "sku": "RICE", "category": "rice", "qty": 1, "paid_fen": 10_000}
        ],
        "leader_id": "ldr-003",  # the old leader's link: the binding decides
    }
    assert stack.post_channel_event("groupbuy", event)[0] == 202  # a channel with leader links
    stack.drain()
    assert demo.leader(stack, "ldr-002")["pending_fen"] == pending + 500
    own = stack.http(
        "POST",
        f"/v1/members/{member}/leader",
        body={"leader_id": "ldr-nobody"},
        headers=stack.auth("admin"),
    )
    assert own[0] == 404


def test_statements_by_date_range(day):
    stack, _ = day
    admin = stack.auth("admin")
    path = "/v1/leaders/ldr-002/statements"
    _, _, both = stack.http(
        "GET", path, query={"from": "2026-11-01", "to": "2026-11-30"}, headers=admin
    )
    _, _, one = stack.http(
        "GET", path, query={"from": "2026-11-13", "to": "2026-11-13"}, headers=admin
    )
    assert [s["date"] for s in both["items"]] == ["2026-11-12", "2026-11-13"]
    assert [s["date"] for s in one["items"]] == ["2026-11-13"]
    backwards = stack.http(
        "GET", path, query={"from": "2026-11-13", "to": "2026-11-01"}, headers=admin
    )
    assert backwards[0] == 422
    assert stack.http("GET", path, query={"from": "13/11/2026"}, headers=admin)[0] == 422
    assert stack.http("GET", "/v1/leaders/ldr-nobody/statements", headers=admin)[0] == 404
