"""points-daily costs what is due, not what exists: DynamoDB requests of one run, counted with
botocore hooks, for N and 10N members holding points with the same number of orders due."""

from collections import Counter
from datetime import timedelta

from devstack.stack import LocalStack
from omnihub.adapters.aws import client
from omnihub.adapters.points_store import DynamoPointsStore
from omnihub.clock import iso
from omnihub.points.model import Account, Line, Order, PointsChange
from tests.conftest import ROOT


def seed(stack, members: int, due_orders: int):
    store = DynamoPointsStore(
        stack.client("dynamodb"), stack.table_name("PointsTable"), stack.table_name("EventLogTable")
    )
    now = stack.now()
    for n in range(members):  # holding points that expire next year: in the index, not due
        account = Account(
            member_id=f"mbr_{n:05d}",
            version=1,
            buckets={"2027-12": 100},
            due_at=iso(now + timedelta(days=300)),
        )
        store.commit(PointsChange(accounts=[(account, 0)]))
    for n in range(due_orders):
        member = f"mbr_{n:05d}"
        order = Order(
            order_id=f"SO-{n}",
            version=1,
            member_id=member,
            channel="tmall",
            paid_at=iso(now - timedelta(days=9)),
            expiry_month="2027-11",
            spend_month="2026-11",
            completed_at=iso(now - timedelta(days=8)),
            matures_at=iso(now - timedelta(days=1)),
            lines={"L1": Line("L1", "rice", 10_000, "1.0")},
        )
        store.commit(PointsChange(orders=[(order, 0)]))
        current = store.account(member)
        store.commit(
            PointsChange(
                accounts=[(Account(**{**current.__dict__, "version": 2, "pending": 100}), 1)]
            )
        )


def requests_of_one_run(stack):
    calls = Counter()

    def count(event_name, **_):
        calls[event_name.split(".")[-1]] += 1

    ddb = client("dynamodb")
    ddb.meta.events.register("before-call.dynamodb.*", count)
    try:
        run = stack.fire_schedule("points-daily")
    finally:
        ddb.meta.events.unregister("before-call.dynamodb.*", count)
    assert run["error"] is None
    return dict(calls)


def measured(members: int) -> dict[str, int]:
    with LocalStack.start(ROOT) as stack:
        seed(stack, members=members, due_orders=5)
        return requests_of_one_run(stack)


def test_ten_times_the_members_same_due_work_same_requests():
    small, large = measured(20), measured(200)
    print(f"\npoints-daily requests, 20 members: {small}\n200 members: {large}")
    assert small == large
    assert small["Query"] == 32  # one page per shard and kind
    assert small["TransactWriteItems"] == 5  # one per matured order
