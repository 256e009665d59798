"""DynamoDB requests of one T+1 commission run (its cost grows with the leaders active
that day, not with all orders ever), measured on the local stack:

- 10 active leaders with 100 orders completed yesterday, and nothing else;
- the same 10 active leaders among 10,000 leaders with 100,000 historical orders (settled days,
  their entries, orders and statements, seeded with batch_write_item straight into moto).

The run is the real one: `commission-settlement` fires at 02:05, queues one message per shard,
and the work function settles each active leader-day. Requests are counted with botocore hooks on
the handlers' DynamoDB client, per operation.

    .venv/bin/python scripts/bench_settlement.py [--leaders 10000] [--history 100000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "layers" / "hub", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from devstack.schedules import scheduled_event  # noqa: E402
from devstack.stack import LocalStack  # noqa: E402
from omnihub.adapters.aws import client  # noqa: E402
from omnihub.adapters.dynamo import to_attributes  # noqa: E402
from omnihub.adapters.leaders_store import (  # noqa: E402
    DynamoLeadersStore,
    _account_item,
    _day_item,
    _entry_item,
    _leader_item,
    _order_item,
)
from omnihub.adapters.member_store import DynamoMemberStore  # noqa: E402
from omnihub.clock import SHANGHAI, iso  # noqa: E402
from omnihub.leaders import orders  # noqa: E402
from omnihub.leaders.days import ACTIVE_SHARDS, add_days, shard_of  # noqa: E402
from omnihub.leaders.model import (  # noqa: E402
    Account,
    CommissionLine,
    CommissionOrder,
    DayEntry,
    Leader,
    LeaderDay,
    Statement,
    TierSpell,
)
from omnihub.leaders.orders import PaidLine, Payment  # noqa: E402
from omnihub.leaders.scheme import CommissionScheme  # noqa: E402

DAY = "2026-11-12"  # the active day; the run settles it at 02:05 the next morning
START = datetime(2026, 11, 12, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
HISTORY_DAYS = [add_days(DAY, -n) for n in range(7, 2, -1)]  # five settled days, D-7 .. D-3
REGISTERED = "2026-09-01T00:00:00.000Z"
WATCHED = ("CommissionSettlementFunction", "CommissionWorkFunction")


@contextmanager
def fast_moto() -> Iterator[None]:
    """Speed moto up for a table of 300,000 items without changing what is counted: moto sums an
    item's size on every attribute it sets (quadratic in the attributes; these items are far
    below 400 KB) and sorts every item of the table on every Query (each Query then sorts its
    own results again). Requests, conditions and answers are unchanged."""
    from moto.dynamodb.models import dynamo_type, table

    def set_attribute(self: dict[str, Any], key: str, value: Any) -> None:
        dict.__setitem__(self, key, value)

    def unsorted_items(self: Any) -> list[Any]:
        if self.range_key_attr:
            return [item for by_range in self.items.values() for item in by_range.values()]
        return list(self.items.values())

    saved = (dynamo_type.LimitedSizeDict.__setitem__, table.Table.all_items)
    dynamo_type.LimitedSizeDict.__setitem__ = set_attribute  # type: ignore[assignment,method-assign]
    table.Table.all_items = unsorted_items  # type: ignore[method-assign]
    try:
        yield
    finally:
        dynamo_type.LimitedSizeDict.__setitem__, table.Table.all_items = saved  # type: ignore[method-assign]


def leader_id(n: int) -> str:
    return f"ldr-{n:05d}"


WRITTEN: Counter[str] = Counter()


def _write(stack: LocalStack, items: list[dict[str, Any]]) -> None:
    """batch_write_item, 25 a call, retrying what moto leaves unprocessed."""
    WRITTEN["items"] += len(items)
    ddb, table = stack.client("dynamodb"), stack.table_name("LeadersTable")
    for start in range(0, len(items), 25):
        pending = {
            table: [{"PutRequest": {"Item": to_attributes(i)}} for i in items[start : start + 25]]
        }
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def seed_leaders(stack: LocalStack, leaders: int) -> None:
    items = [
        _leader_item(
            Leader(
                leader_id=leader_id(n),
                name=f"团长{n}",
                community=f"小区{n % 500}",
                member_id=f"mbr_{n:024x}",
                registered_at=REGISTERED,
                updated_at=REGISTERED,
                version=1,
                tiers=(TierSpell(REGISTERED, "rookie"),),
            )
        )
        for n in range(leaders)
    ]
    _write(stack, items)


def seed_history(stack: LocalStack, leaders: int, history: int) -> None:
    """`history` orders spread over `leaders` and five past days, all settled: each has its
    order item and its day entry; each leader-day its statement; each leader its account."""
    per_day: dict[tuple[int, str], int] = Counter()
    batch: list[dict[str, Any]] = []
    for j in range(history):
        n, day = j % leaders, HISTORY_DAYS[(j // leaders) % len(HISTORY_DAYS)]
        order_id, member = f"HIST-{j:07d}", f"mbr_{j % max(history // 3, 1):024x}"
        paid_at = iso(datetime.fromisoformat(f"{day}T10:00:00+08:00"))
        line = CommissionLine("L1", "rice", 10_000, 500)
        order = CommissionOrder(
            order_id=order_id,
            version=2,
            leader_id=leader_id(n),
            member_id=member,
            channel="groupbuy",
            paid_at=paid_at,
            lines={"L1": line},
            completed_at=paid_at,
            eligible_day=day,
        )
        entry = DayEntry(leader_id(n), day, order_id, member, {"L1": 500}, 10_000, False, 1)
        batch += [_order_item(order), _entry_item(entry)]
        per_day[(n, day)] += 1
        if len(batch) >= 5_000:
            _write(stack, batch)
            batch = []
    closing: dict[int, tuple[int, str]] = {}
    for (n, day), count in sorted(per_day.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        opening = closing.get(n, (0, ""))[0]
        earned = 500 * count
        statement = Statement(
            day,
            opening,
            earned,
            0,
            0,
            opening + earned,
            0,
            0,
            count,
            count,
            10_000 * count,
            0,
            0,
            iso(datetime.fromisoformat(f"{add_days(day, 1)}T02:00:00+08:00")),
        )
        batch.append(_day_item(LeaderDay(leader_id(n), day, 2, "settled", statement=statement)))
        batch.append(
            {"pk": f"MACTIVE#{day[:7]}#{shard_of(leader_id(n), ACTIVE_SHARDS)}", "sk": leader_id(n)}
        )
        closing[n] = (opening + earned, day)
        if len(batch) >= 5_000:
            _write(stack, batch)
            batch = []
    batch += [
        _account_item(Account(leader_id(n), 1, fen, fen, day)) for n, (fen, day) in closing.items()
    ]
    _write(stack, batch)


def seed_active(stack: LocalStack, active: int, orders_total: int) -> None:
    """`orders_total` orders of new members through `active` leaders' links, paid and completed
    on DAY, through the domain on the real store (what the leaders consumer does)."""
    store = DynamoLeadersStore(
        client("dynamodb"), stack.table_name("LeadersTable"), stack.table_name("EventLogTable")
    )
    members = DynamoMemberStore(
        client("dynamodb"), stack.table_name("MembersTable"), stack.table_name("EventLogTable")
    )
    scheme, now = CommissionScheme(), stack.now()
    for k in range(orders_total):
        order_id = f"SO-ACTIVE-{k:05d}"
        payment = Payment(
            order_id=order_id,
            member_id=f"mbr_a{k:023x}",
            channel="groupbuy",
            paid_at=now - timedelta(hours=2),
            lines=[PaidLine("L1", "rice", 11_980), PaidLine("L2", "oil", 4_000)],
            leader_link=leader_id(k % active),
            cause=f"groupbuy:bench-{k}",
        )
        orders.record_payment(store, members, payment, scheme, now)
        orders.record_completion(store, order_id, now - timedelta(hours=1), scheme, now)


def requests_of_one_run(stack: LocalStack) -> Counter[str]:
    calls: Counter[str] = Counter()

    def count(event_name: str, **_: Any) -> None:
        function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "?").removeprefix("devstack-")
        if function in WATCHED:
            calls[event_name.split(".")[-1]] += 1

    ddb = client("dynamodb")
    ddb.meta.events.register("before-call.dynamodb.*", count)
    when = datetime.fromisoformat(f"{add_days(DAY, 1)}T02:05:00").replace(tzinfo=SHANGHAI)
    spec = stack.model.schedules["commission-settlement"]
    try:
        with stack.runtime.lock:  # what `fire` does, with a drain long enough for moto's GSIs
            stack.runtime.clock.set(when)
            account, region = stack.model.pseudo.account_id, stack.model.pseudo.region
            stack.runtime.invoke(spec.function, scheduled_event(spec, when, account, region))
            report = stack.drain(timeout=3_600).as_dict()
    finally:
        ddb.meta.events.unregister("before-call.dynamodb.*", count)
    if any(report["dlq_depths"].values()):
        raise RuntimeError(f"messages parked: {report['dlq_depths']}")
    return calls


def measure(
    leaders: int,
    history: int,
    active: int = 10,
    orders_total: int = 100,
    quiet: bool = False,
    fast: bool = False,
) -> dict[str, Any]:
    """Stand a stack up, seed, run once; the requests per operation and the leaders settled.
    `fast` speeds moto up for large tables (see `fast_moto`)."""
    started = time.perf_counter()
    WRITTEN.clear()
    env = {"POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"}
    with (
        fast_moto() if fast else contextlib.nullcontext(),
        LocalStack.start(ROOT, now=START, clock_running=False, env_overrides=env) as stack,
    ):
        seed_leaders(stack, max(leaders, active))
        if history:
            seed_history(stack, leaders, history)
        seeded = time.perf_counter() - started
        seed_active(stack, active, orders_total)
        stack.drain()
        ran = time.perf_counter()
        calls = requests_of_one_run(stack)
        ran = time.perf_counter() - ran
        store = DynamoLeadersStore(
            client("dynamodb"), stack.table_name("LeadersTable"), stack.table_name("EventLogTable")
        )
        days = [store.day(leader_id(n), DAY) for n in range(active)]
        done = [d.statement for d in days if d is not None and d.statement is not None]
        settled, earned = len(done), sum(s.earned_fen for s in done)
    if not quiet:
        print(
            f"  {leaders:>6} leaders, {history:>7} historical orders: {WRITTEN['items']} items"
            f" seeded in {seeded:5.1f}s,"
            f" the run {ran:5.1f}s, total {time.perf_counter() - started:5.1f}s",
            file=sys.stderr,
        )
    return {"requests": dict(calls), "settled": settled, "earned_fen": earned}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leaders", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--active", type=int, default=10)
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    small = measure(args.active, 0, args.active, args.orders, fast=True)
    large = measure(args.leaders, args.history, args.active, args.orders, fast=True)
    ops = sorted(set(small["requests"]) | set(large["requests"]))
    head = f"{args.active} active / {args.orders} orders"
    tail = f"+ {args.leaders:,} leaders / {args.history:,} historical orders"
    print("\nDynamoDB requests of one commission-settlement run")
    print(f"{'operation':<20} {head:>28} {tail:>44}")
    for op in ops:
        print(f"{op:<20} {small['requests'].get(op, 0):>28} {large['requests'].get(op, 0):>44}")
    total = (sum(small["requests"].values()), sum(large["requests"].values()))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "active_leaders": args.active,
                    "orders": args.orders,
                    "alone": {"requests": small["requests"], "total": total[0]},
                    "among": {
                        "leaders": args.leaders,
                        "historical_orders": args.history,
                        "requests": large["requests"],
                        "total": total[1],
                    },
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    print(f"{'total':<20} {total[0]:>28} {total[1]:>44}")
    print(
        f"{'leader-days settled':<20} {small['settled']:>28} {large['settled']:>44}\n"
        f"{'earned that day, fen':<20} {small['earned_fen']:>28} {large['earned_fen']:>44}"
    )
    return 0 if small["requests"] == large["requests"] and small["settled"] == args.active else 1


if __name__ == "__main__":
    sys.exit(main())
