"""Paths and helpers shared by the local stack's tests (imported, not collected)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MINI_ROOT = Path(__file__).parent / "fixtures" / "mini"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
START = datetime(2025, 1, 1, tzinfo=UTC)
ACCOUNT = "123456789012"


def log_items(stack: Any, pk: str) -> list[dict[str, Any]]:
    """Items the mini handlers logged under one partition of the log table."""
    table = stack.session.resource("dynamodb").Table(stack.table_name("LogTable"))
    items: list[dict[str, Any]] = table.query(
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": pk}
    )["Items"]
    return items
