"""What the cost benchmarks share: seeding a table fast, counting a run's DynamoDB calls."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from devstack.stack import LocalStack
from omnihub.adapters.aws import client
from omnihub.adapters.dynamo import to_attributes


def put_rows(stack: LocalStack, table_logical_id: str, rows: Sequence[dict[str, Any]]) -> None:
    """Items in the adapters' own format, 25 to a BatchWriteItem."""
    ddb = stack.client("dynamodb")
    table = stack.table_name(table_logical_id)
    for start in range(0, len(rows), 25):
        batch = [{"PutRequest": {"Item": to_attributes(r)}} for r in rows[start : start + 25]]
        ddb.batch_write_item(RequestItems={table: batch})


@contextmanager
def dynamodb_calls() -> Iterator[Counter[str]]:
    """Every DynamoDB operation the handlers' client makes inside the block, by name."""
    calls: Counter[str] = Counter()

    def count(event_name: str, **_: Any) -> None:
        calls[event_name.split(".")[-1]] += 1

    ddb = client("dynamodb")
    ddb.meta.events.register("before-call.dynamodb.*", count)
    try:
        yield calls
    finally:
        ddb.meta.events.unregister("before-call.dynamodb.*", count)
