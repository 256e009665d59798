"""DynamoDB requests of one sla-escalation run: few open tickets versus many, the same due.

    python scripts/bench_sla.py [--open 10000] [--due 100] [--json PATH]

Tickets are seeded straight into the local stack's table in the adapter's own item format
(batch writes), then the schedule fires once and every DynamoDB call it makes is counted.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from devstack.stack import LocalStack
from omnihub.adapters.ticket_store import ticket_item
from omnihub.tickets.model import Ticket, open_ticket, ticket_id_for
from scripts.bench_support import dynamodb_calls, put_rows

ROOT = Path(__file__).resolve().parent.parent


def seed(stack: LocalStack, open_tickets: int, due: int) -> None:
    """`due` P1 tickets past their first response, the rest P2 with hours to go."""
    now = stack.now()
    rows = []
    for n in range(open_tickets):
        is_due = n < due
        cause = f"bench:{n}"
        draft = Ticket(
            ticket_id=ticket_id_for(cause),
            member_id=f"mbr_{n:06x}",
            channel="tmall",
            priority="P1" if is_due else "P2",
            created_at="",
            opened_by="bench",
            source="agent",
        )
        opened_at = now - timedelta(minutes=45) if is_due else now
        rows.append(ticket_item(open_ticket(draft, opened_at, cause).ticket))
    put_rows(stack, "TicketsTable", rows)


def requests_of_one_sweep(open_tickets: int, due: int) -> dict[str, Any]:
    with LocalStack.start(ROOT) as stack:
        seed(stack, open_tickets, due)
        with dynamodb_calls() as calls:
            started = datetime.now()
            run = stack.fire_schedule("sla-escalation")
            seconds = (datetime.now() - started).total_seconds()
        assert run["error"] is None, run
        reads = calls["Query"] + calls["GetItem"]
        return {
            "open": open_tickets,
            "due": due,
            "requests": dict(calls),
            "reads": reads,
            "seconds_local": round(seconds, 2),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = [requests_of_one_sweep(args.due, args.due), requests_of_one_sweep(args.open, args.due)]
    for row in rows:
        print(
            f"open {row['open']:>6}, due {row['due']:>4}: reads {row['reads']:>5} {row['requests']}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
