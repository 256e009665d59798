"""Issue 12 on moto through the real handlers: a completion just before midnight settles
in its day; a booking planned before the T+1 run and committed after it goes to the next open day
(the condition is DynamoDB's); a redriven tier review prices the orders of the 1st and 2nd at the
new tier; withdrawals of 20,000 and 100,000 yuan are applied once and completely, also when the
payouts function dies half way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from devstack.stack import LocalStack
from omnihub.adapters.aws import client
from omnihub.adapters.leaders_store import DynamoLeadersStore
from omnihub.adapters.member_store import DynamoMemberStore
from omnihub.clock import SHANGHAI
from omnihub.leaders import binding, orders, settlement
from omnihub.leaders.model import LeadersChange, TierSpell
from omnihub.leaders.orders import PaidLine, Payment
from omnihub.leaders.reconcile import reconcile_leader
from omnihub.leaders.scheme import CommissionScheme
from tests.conftest import ROOT, load_event

DAY0, DAY1 = "2026-11-11", "2026-11-12"
SCHEME = CommissionScheme()
YUAN = 100


def at(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=SHANGHAI)


@pytest.fixture
def stack() -> Iterator[LocalStack]:
    """The stack on a frozen clock; schedules fire only when a test fires them."""
    with LocalStack.start(ROOT, now=at(DAY0, "10:00:00"), clock_running=False) as running:
        yield running


def store_of(stack: LocalStack) -> DynamoLeadersStore:
    return DynamoLeadersStore(
        client("dynamodb"), stack.table_name("LeadersTable"), stack.table_name("EventLogTable")
    )


def members_of(stack: LocalStack) -> DynamoMemberStore:
    return DynamoMemberStore(
        client("dynamodb"), stack.table_name("MembersTable"), stack.table_name("EventLogTable")
    )


def clock(stack: LocalStack, when: datetime) -> None:
    """Move business time without firing the schedules on the way."""
    stack.runtime.clock.set(when)


def post(stack: LocalStack, event: dict[str, Any]) -> None:
    status, _, body = stack.post_channel_event("groupbuy", event)
    assert status == 202, body


def drained(stack: LocalStack) -> None:
    report = stack.drain(timeout=900).as_dict()
    assert not any(report["dlq_depths"].values()), report["dlq_depths"]


def register(stack: LocalStack, leader_id: str, phone: str) -> None:
    event = load_event("channel/leader-registered.json")
    event.update(event_id=f"lr-{leader_id}", occurred_at=stack.now().isoformat())
    event["member"] = {"identities": [{"type": "phone", "value": phone}]}
    event["data"] = {"leader_id": leader_id, "name": leader_id, "community": "阳光小区"}
    post(stack, event)


def paid(stack: LocalStack, order_id: str, phone: str, fen: int, leader: str) -> None:
    event = load_event("channel/order-paid.json")
    event.update(event_id=f"op-{order_id}", occurred_at=stack.now().isoformat())
    event["member"] = {"identities": [{"type": "phone", "value": phone}]}
    event["data"] = {
        "order_id": order_id,
        "amount_fen": fen,
        "items": [{"line_id": "L1", "sku": "RICE", "category": "rice", "qty": 1, "paid_fen": fen}],
        "leader_id": leader,
    }
    post(stack, event)


def completed(stack: LocalStack, order_id: str, when: datetime) -> None:
    event = load_event("channel/order-completed.json")
    event.update(event_id=f"oc-{order_id}", occurred_at=when.isoformat())
    event["member"] = {"identities": [{"type": "phone", "value": "13800000099"}]}
    event["data"] = {"order_id": order_id}
    post(stack, event)


def run_of(stack: LocalStack, day: str) -> None:
    """commission-settlement at 02:05 on the day after `day` (it queues the run of `day`)."""
    clock(stack, at(day, "02:05:00") + timedelta(days=1))
    stack.fire_schedule("commission-settlement")
    drained(stack)


def leader(stack: LocalStack, leader_id: str) -> dict[str, Any]:
    status, _, body = stack.http("GET", f"/v1/leaders/{leader_id}", headers=stack.auth("admin"))
    assert status == 200, body
    return dict(body)


def statements(stack: LocalStack, leader_id: str) -> list[tuple[str, int, int]]:
    status, _, body = stack.http(
        "GET",
        f"/v1/leaders/{leader_id}/statements",
        query={"from": "2026-09-01", "to": "2027-01-31"},
        headers=stack.auth("admin"),
    )
    assert status == 200, body
    return [(s["date"], s["earned_fen"], s["orders"]) for s in body["items"]]


def reconciled(stack: LocalStack, leader_id: str) -> None:
    result = reconcile_leader(store_of(stack), leader_id)
    assert result.ok, result.problems


# -- 6 and 7: which day a booking goes into ------------------------------------------------------
def test_a_completion_at_23_59_50_processed_at_00_00_10_settles_in_its_day(stack):
    register(stack, "ldr-m", "13900000201")
    paid(stack, "SO-M1", "13800000201", 10_000, "ldr-m")
    drained(stack)
    clock(stack, at(DAY1, "00:00:10"))
    completed(stack, "SO-M1", at(DAY0, "23:59:50"))
    drained(stack)
    run_of(stack, DAY0)
    assert statements(stack, "ldr-m") == [(DAY0, 500, 1)]
    assert (leader(stack, "ldr-m")["available_fen"], leader(stack, "ldr-m")["pending_fen"]) == (
        500,
        0,
    )
    reconciled(stack, "ldr-m")


class RunsFirst(DynamoLeadersStore):
    """The leaders store of a booking that is slow: the T+1 run of `day` happens between its
    plan and its commit (once)."""

    def __init__(self, stack: LocalStack, day: str) -> None:
        real = store_of(stack)
        super().__init__(real._client, real._table, real._event_log_table)
        self.stack, self.run_day, self.ran = stack, day, False

    def commit(self, change: LeadersChange) -> None:
        if change.entries and not self.ran:
            self.ran = True
            run_of(self.stack, self.run_day)
        super().commit(change)


@pytest.mark.parametrize("day_exists", [True, False])
def test_a_booking_planned_before_the_run_and_committed_after_goes_to_the_next_day(
    stack, day_exists
):
    """On DynamoDB: the booking's transaction checks the leader-day is still open (it exists), or
    that the day's run has not started (it creates the day): either fails after the run, and the
    booking is planned again into the next day. Nothing is left pending in a settled day."""
    register(stack, "ldr-r", "13900000202")
    paid(stack, "SO-R1", "13800000202", 10_000, "ldr-r")
    paid(stack, "SO-R2", "13800000203", 20_000, "ldr-r")
    drained(stack)
    if day_exists:
        completed(stack, "SO-R1", stack.now())
        drained(stack)
    clock(stack, at(DAY0, "23:59:59"))
    racing = RunsFirst(stack, DAY0)
    outcome = orders.record_completion(racing, "SO-R2", at(DAY0, "23:59:00"), SCHEME, stack.now())
    assert racing.ran
    assert (outcome.status, store_of(stack).order("SO-R2").eligible_day) == ("applied", DAY1)
    assert statements(stack, "ldr-r") == ([(DAY0, 500, 1)] if day_exists else [])
    run_of(stack, DAY1)
    assert statements(stack, "ldr-r")[-1] == (DAY1, 1_000, 1)
    assert leader(stack, "ldr-r")["pending_fen"] == (0 if day_exists else 500)
    reconciled(stack, "ldr-r")


# -- 8: the tier of a month holds from its 1st, whenever the review runs -------------------------
def seed_growing_november(stack: LocalStack, leader_id: str) -> None:
    """Through the domain on the stack's tables: registered in September, three customers bound
    in October, 6,200 yuan in November of which 60% returning (growing for December)."""
    store, members = store_of(stack), members_of(stack)
    registered = at("2026-09-01", "10:00:00")
    binding.register_leader(
        store, leader_id, "团长", "阳光小区", "mbr_t0", registered, SCHEME, registered, members
    )

    def sold(day: str, n: int, order_id: str, fen: int) -> None:
        when = at(day, "10:00:00")
        payment = Payment(
            order_id=order_id,
            member_id=f"mbr_t{n + 1}",
            channel="groupbuy",
            paid_at=when,
            lines=[PaidLine("L1", "rice", fen)],
            leader_link=leader_id,
            cause=f"seed:{order_id}",
        )
        orders.record_payment(store, members, payment, SCHEME, when)
        orders.record_completion(store, order_id, when, SCHEME, when)

    for n in range(3):
        sold("2026-10-10", n, f"OCT-{n}", 1_000 * YUAN)
    for n in range(3):
        sold("2026-11-03", n, f"NOV-{n}", 2_000 * YUAN)
    for n in range(3, 5):
        sold("2026-11-03", n, f"NEW-{n}", 100 * YUAN)
    for day in ("2026-10-10", "2026-11-03"):
        outcome = settlement.settle_leader_day(store, leader_id, day, at(day, "23:00:00"))
        assert outcome.status == "applied"


def test_a_redriven_tier_review_prices_the_orders_of_the_1st_and_2nd_at_the_new_tier(stack):
    seed_growing_november(stack, "ldr-t")
    clock(stack, at("2026-12-01", "10:00:00"))  # the review of the 1st did not run
    paid(stack, "SO-D1", "13800000301", 10_000, "ldr-t")
    completed(stack, "SO-D1", stack.now())
    drained(stack)
    run_of(stack, "2026-12-01")  # SO-D1 settled at the rookie rate
    clock(stack, at("2026-12-02", "10:00:00"))
    paid(stack, "SO-D2", "13800000302", 10_000, "ldr-t")
    drained(stack)
    run_of(stack, "2026-12-02")
    before = leader(stack, "ldr-t")
    assert (before["tier"], before["pending_fen"]) == ("rookie", 500)
    clock(stack, at("2026-12-03", "10:00:00"))
    stack.fire_schedule("leader-tiers")  # redriven on the 3rd: it reviews November
    drained(stack)
    after = leader(stack, "ldr-t")
    assert after["tier"] == "growing"
    # SO-D2 pending at 8%; SO-D1, settled at 5%, earns the other 3% on the next statement
    assert after["pending_fen"] == 800 + 300
    assert after["available_fen"] == before["available_fen"]
    run_of(stack, "2026-12-03")
    assert statements(stack, "ldr-t")[-1] == ("2026-12-03", 300, 0)
    assert leader(stack, "ldr-t")["available_fen"] == before["available_fen"] + 300
    reconciled(stack, "ldr-t")


# -- 9: withdrawals of any size ------------------------------------------------------------------
def seed_rich_star(stack: LocalStack, leader_id: str) -> None:
    """A star leader with 120,000 yuan available (one 1,200,000-yuan order at 10%, settled)."""
    store, members = store_of(stack), members_of(stack)
    start = at("2026-09-01", "10:00:00")
    binding.register_leader(
        store, leader_id, "团长", "阳光小区", "mbr_w0", start, SCHEME, start, members
    )
    profile = store.leader(leader_id)
    assert profile is not None
    star = profile.next(
        tier="star", tiers=(*profile.tiers, TierSpell(profile.registered_at, "star"))
    )
    store.commit(LeadersChange(leaders=[(star, profile.version)]))
    when = at(DAY0, "09:00:00")
    payment = Payment(
        order_id="SO-BIG",
        member_id="mbr_w1",
        channel="groupbuy",
        paid_at=when,
        lines=[PaidLine("L1", "rice", 1_200_000 * YUAN)],
        leader_link=leader_id,
        cause="seed:SO-BIG",
    )
    orders.record_payment(store, members, payment, SCHEME, when)
    orders.record_completion(store, "SO-BIG", when, SCHEME, when)
    settlement.settle_leader_day(store, leader_id, DAY0, at(DAY1, "02:05:00"))
    assert store.account(leader_id).available_fen == 120_000 * YUAN


def withdraw(stack: LocalStack, leader_id: str, withdrawal_id: str, fen: int) -> dict[str, Any]:
    status, _, body = stack.http(
        "POST",
        f"/v1/leaders/{leader_id}/withdrawals",
        body={"withdrawal_id": withdrawal_id, "amount_fen": fen},
        headers=stack.auth("leader", leader=leader_id),
    )
    assert status == 201, body
    return dict(body)


def withdrawal(stack: LocalStack, leader_id: str, withdrawal_id: str) -> dict[str, Any]:
    status, _, body = stack.http(
        "GET", f"/v1/leaders/{leader_id}/withdrawals", headers=stack.auth("admin")
    )
    assert status == 200, body
    (found,) = [w for w in body["items"] if w["withdrawal_id"] == withdrawal_id]
    return dict(found)


def test_withdrawals_of_20000_and_100000_yuan_are_paid_once_and_completely(stack, monkeypatch):
    seed_rich_star(stack, "ldr-w")
    clock(stack, at(DAY1, "10:00:00"))
    first = withdraw(stack, "ldr-w", "wd-20k", 20_000 * YUAN)
    assert (len(first["payouts"]), first["status"]) == (100, "requested")
    assert leader(stack, "ldr-w")["available_fen"] == 100_000 * YUAN  # taken at once
    drained(stack)
    done = withdrawal(stack, "ldr-w", "wd-20k")
    assert done["status"] == "paid"
    assert {p["status"] for p in done["payouts"]} == {"paid"}

    # the payouts function dies once, after committing the third chunk of the next withdrawal
    real_commit = DynamoLeadersStore.commit
    chunks: list[int] = []

    def dying(self, change):
        real_commit(self, change)
        if change.withdrawals and change.withdrawals[0][1] > 0:
            chunks.append(change.withdrawals[0][0].issued)
            if len(chunks) == 2:
                raise RuntimeError("the payouts function died")

    monkeypatch.setattr(DynamoLeadersStore, "commit", dying)
    second = withdraw(stack, "ldr-w", "wd-100k", 100_000 * YUAN)
    assert len(second["payouts"]) == 500
    assert leader(stack, "ldr-w")["available_fen"] == 0
    drained(stack)
    assert chunks[:2] == [160, 240]
    again = withdraw(stack, "ldr-w", "wd-100k", 100_000 * YUAN)  # the client retries: the same
    assert again["requested_at"] == second["requested_at"]
    done = withdrawal(stack, "ldr-w", "wd-100k")
    assert done["status"] == "paid"
    assert [p["payout_id"] for p in done["payouts"]] == [f"wd-100k-{n}" for n in range(1, 501)]
    assert len(store_of(stack).ended_payouts("ldr-w", "wd-100k")) == 500
    assert leader(stack, "ldr-w")["available_fen"] == 0
    monkeypatch.undo()
    run_of(stack, DAY1)
    _, _, body = stack.http(
        "GET",
        "/v1/leaders/ldr-w/statements",
        query={"from": DAY1, "to": DAY1},
        headers=stack.auth("admin"),
    )
    (statement,) = body["items"]
    assert (statement["withdrawals_fen"], statement["closing_fen"]) == (120_000 * YUAN, 0)
    reconciled(stack, "ldr-w")
