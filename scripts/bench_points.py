"""DynamoDB requests of one points-daily run as the members grow, with the same work due.

    python scripts/bench_points.py [--members 20 200 2000] [--due 5] [--json PATH]

Accounts holding points that expire next year sit in the due index but are not due; `--due`
orders have finished their pending period. The schedule fires once; every DynamoDB call of the
run (the fan-out worker included) is counted.
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from devstack.stack import LocalStack
from omnihub.adapters.points_store import account_item, order_item
from omnihub.clock import iso
from omnihub.points.model import Account, Line, Order
from scripts.bench_support import dynamodb_calls, put_rows

ROOT = Path(__file__).resolve().parent.parent


def seed(stack: LocalStack, members: int, due_orders: int) -> None:
    now = stack.now()
    rows = [
        account_item(
            Account(
                member_id=f"mbr_{n:06d}",
                version=1,
                buckets={"2027-12": 100},
                due_at=iso(now + timedelta(days=300)),
            )
        )
        for n in range(members)
    ]
    for n in range(due_orders):
        member = f"mbr_{n:06d}"
        rows[n] = account_item(
            Account(
                member_id=member,
                version=1,
                pending=100,
                buckets={"2027-12": 100},
                due_at=iso(now + timedelta(days=300)),
            )
        )
        rows.append(
            order_item(
                Order(
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
            )
        )
    put_rows(stack, "PointsTable", rows)


def requests_of_one_run(members: int, due_orders: int) -> dict[str, Any]:
    with LocalStack.start(ROOT) as stack:
        seed(stack, members, due_orders)
        with dynamodb_calls() as calls:
            run = stack.fire_schedule("points-daily")
        assert run["error"] is None, run
        return {
            "members": members,
            "due": due_orders,
            "requests": dict(calls),
            "total": sum(calls.values()),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, nargs="+", default=[20, 200, 2000])
    parser.add_argument("--due", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = [requests_of_one_run(m, args.due) for m in args.members]
    for row in rows:
        print(
            f"members {row['members']:>6}, due {row['due']:>3}: {row['total']:>4} requests "
            f"{row['requests']}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
