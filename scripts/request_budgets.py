"""The request budget of each function per channel event (request_budgets.json), and the check
that the bench's report and tests/integration/test_request_counts.py both make."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BUDGETS_FILE = Path(__file__).with_name("request_budgets.json")


def budgets() -> dict[str, dict[str, dict[str, Any]]]:
    loaded: dict[str, dict[str, dict[str, Any]]] = json.loads(
        BUDGETS_FILE.read_text(encoding="utf-8")
    )["budgets"]
    return loaded


def over(measured: dict[str, float], budget: dict[str, Any] | None) -> list[str]:
    """What `measured` (requests per event by operation) spends beyond `budget`: an operation it
    does not allow, or more of one than it allows. No budget at all allows nothing. Measured
    operations may carry their service (`dynamodb.GetItem`), budgets name the operation."""
    allowed: dict[str, int] = (budget or {}).get("ops", {})
    spent = {op.split(".", 1)[-1]: n for op, n in measured.items()}
    return [
        f"{op} {n:g} > {allowed.get(op, 0)}"
        for op, n in sorted(spent.items())
        if n > allowed.get(op, 0)
    ]


def allowance(budget: dict[str, Any] | None) -> str:
    """A budget as a table cell: `<= BatchGetItem 4, TransactWriteItems 1`."""
    ops = (budget or {}).get("ops", {})
    return "<= " + ", ".join(f"{op} {n}" for op, n in sorted(ops.items())) if ops else "none"


def overruns(per_event: dict[str, dict[str, Any]]) -> list[str]:
    """Every row of the bench's per-event figures that exceeds its budget, one line each."""
    table = budgets()
    out = []
    for kind, functions in sorted(per_event.items()):
        for function, fig in sorted(functions.items()):
            if function == "outside":
                continue
            for excess in over(fig["requests_per_event"], table.get(kind, {}).get(function)):
                out.append(f"{kind} {function}: {excess}")
    return out
