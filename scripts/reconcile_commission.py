"""Reconcile leaders' commission to the fen: every statement's closing = opening +
earned - reversed - withdrawn, consecutive statements chain, each day's earned is the sum of the
commission lines it settled (and reversed / withdrawn the movements booked into it), and the
available balance is the last closing plus what was booked since. Exit status 1 on any mismatch.

    .venv/bin/python scripts/reconcile_commission.py
        the local stack: replays events/day, runs two T+1 settlements (with a refund after the
        first and a withdrawal whose second payout fails), then reconciles every leader
    .venv/bin/python scripts/reconcile_commission.py --table omnihub-prod-leaders [--leader ID ...]
        a deployed table (AWS credentials and region from the environment); without --leader it
        lists the leaders with a paginated Scan of the profiles (an offline audit, never a request
        or schedule path)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "layers" / "hub", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from omnihub.adapters.leaders_store import DynamoLeadersStore  # noqa: E402
from omnihub.leaders.ports import LeadersStore  # noqa: E402
from omnihub.leaders.reconcile import Reconciliation, reconcile_leader  # noqa: E402


def leader_ids(ddb: Any, table: str) -> list[str]:
    ids: list[str] = []
    paginator = ddb.get_paginator("scan")
    for page in paginator.paginate(
        TableName=table,
        FilterExpression="sk = :profile",
        ExpressionAttributeValues={":profile": {"S": "PROFILE"}},
        ProjectionExpression="leader_id",
    ):
        ids += [item["leader_id"]["S"] for item in page["Items"]]
    return sorted(ids)


def report(store: LeadersStore, leaders: Iterable[str]) -> tuple[list[str], bool]:
    lines = [
        f"{'leader':<12} {'statements':>10} {'earned':>10} {'settled lines':>14} {'closing':>10}"
        f" {'available':>10} {'pending':>9}  result"
    ]
    results: list[Reconciliation] = [reconcile_leader(store, lid) for lid in leaders]
    for r in results:
        lines.append(
            f"{r.leader_id:<12} {r.statements:>10} {r.earned_fen:>10}"
            f" {r.settled_lines_fen:>9} ({r.settled_lines:>2}) {r.closing_fen:>10}"
            f" {r.available_fen:>10} {r.pending_fen:>9}  {'ok' if r.ok else 'MISMATCH'}"
        )
        lines += [f"    {p}" for p in r.problems]
    ok = all(r.ok for r in results)
    verdict = "reconciled" if ok else "NOT reconciled"
    lines.append(
        f"{len(results)} leaders, {sum(r.statements for r in results)} statements, earned"
        f" {sum(r.earned_fen for r in results)} fen = settled lines"
        f" {sum(r.settled_lines_fen for r in results)} fen: {verdict}"
    )
    return lines, ok


def local() -> tuple[list[str], bool]:
    from devstack import demo_leaders
    from devstack.demo import QUIET, load_day, replay
    from devstack.stack import LocalStack

    with (
        contextlib.redirect_stdout(io.StringIO()),
        LocalStack.start(ROOT, env_overrides=QUIET) as stack,
    ):
        replay(stack, load_day(ROOT))
        demo_leaders.next_run(stack)
        demo_leaders.post_late_refund(stack)
        demo_leaders.withdraw(stack)
        demo_leaders.next_run(stack)
        table = stack.table_name("LeadersTable")
        ddb = stack.client("dynamodb")
        store = DynamoLeadersStore(ddb, table, stack.table_name("EventLogTable"))
        return report(store, leader_ids(ddb, table))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", help="a deployed leaders table (default: the local stack)")
    parser.add_argument("--leader", action="append", default=[], help="only these leaders")
    args = parser.parse_args()
    if args.table:
        import boto3

        ddb = boto3.client("dynamodb")
        store = DynamoLeadersStore(ddb, args.table, event_log_table="")  # reads only
        lines, ok = report(store, args.leader or leader_ids(ddb, args.table))
    else:
        lines, ok = local()
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
