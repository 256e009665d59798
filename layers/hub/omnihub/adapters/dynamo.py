"""DynamoDB plumbing shared by the stores: attribute values, batch reads, transactions."""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Iterable, Mapping, Sequence, Set
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any

from botocore.exceptions import ClientError

from omnihub.errors import AlreadyApplied, ConcurrentChange

MAX_TRANSACTION_ITEMS = 100
_RACE_CODES = {"ConditionalCheckFailed", "TransactionConflict"}
# DynamoDB's number type: 38 digits, exponent -130..125; a number it would round is refused
_NUMBERS = Context(
    Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow]
)


def to_attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    """A plain dict (str, int, bool, list, dict, None) as DynamoDB attribute values."""
    return {k: _serialize(v) for k, v in item.items() if v is not None}


def from_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Attribute values back to plain Python; numbers come back as int where they are whole."""
    return {k: _plain(_deserialize(v)) for k, v in attributes.items()}


def _serialize(value: Any) -> dict[str, Any]:
    """boto3's TypeSerializer rules, without importing boto3 (its import is cold-start time):
    floats are refused (DynamoDB numbers are decimals), a set's members must be of one type."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": _number(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, Set):
        if all(isinstance(v, int | Decimal) and not isinstance(v, bool) for v in value):
            return {"NS": [_number(v) for v in value]}
        if all(isinstance(v, str) for v in value):
            return {"SS": list(value)}
        if all(isinstance(v, bytes | bytearray) for v in value):
            return {"BS": [bytes(v) for v in value]}
    elif isinstance(value, Mapping):
        return {"M": {str(k): _serialize(v) for k, v in value.items()}}
    elif isinstance(value, list | tuple):
        return {"L": [_serialize(v) for v in value]}
    raise TypeError(f"Unsupported type {type(value)!r} for value {value!r}")


def _number(value: int | Decimal) -> str:
    number = str(_NUMBERS.create_decimal(value))
    if number in ("Infinity", "NaN"):
        raise TypeError("Infinity and NaN not supported")
    return number


def _deserialize(value: Mapping[str, Any]) -> Any:
    ((kind, raw),) = value.items()
    if kind in ("S", "BOOL", "B"):
        return raw
    if kind == "N":
        return _NUMBERS.create_decimal(raw)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: _deserialize(v) for k, v in raw.items()}
    if kind == "L":
        return [_deserialize(v) for v in raw]
    if kind == "SS" or kind == "BS":
        return set(raw)
    if kind == "NS":
        return {_NUMBERS.create_decimal(v) for v in raw}
    raise TypeError(f"Dynamodb type {kind} is not supported")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | frozenset):
        return [_plain(v) for v in value]
    if hasattr(value, "as_integer_ratio") and not isinstance(value, bool | int | float):
        return int(value) if value == int(value) else float(value)
    return value


def batch_get(
    client: Any, table: str, keys: Sequence[Mapping[str, Any]], *, consistent: bool = False
) -> list[dict[str, Any]]:
    """BatchGetItem in chunks of 100, retrying unprocessed keys with backoff."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), 100):
        request: dict[str, Any] = {"Keys": [to_attributes(k) for k in keys[start : start + 100]]}
        if consistent:
            request["ConsistentRead"] = True
        pending: dict[str, Any] = {table: request}
        attempt = 0
        while pending:
            response = client.batch_get_item(RequestItems=pending)
            found.extend(from_attributes(i) for i in response["Responses"].get(table, []))
            pending = response.get("UnprocessedKeys") or {}
            if pending:
                attempt += 1
                time.sleep(min(1.0, 0.02 * 2**attempt))
    return found


def transact(
    client: Any, items: Iterable[dict[str, Any]], idempotency_markers: Collection[int] = ()
) -> None:
    """TransactWriteItems; a lost race (a failed condition, a conflicting transaction) is
    ConcurrentChange so the domain re-reads and re-plans. When the failed condition is on one of
    `idempotency_markers` (the indexes of puts keyed by their cause), the change was applied
    before: AlreadyApplied. Anything else propagates."""
    actions = list(items)
    if not actions:
        return
    if len(actions) > MAX_TRANSACTION_ITEMS:
        raise ValueError(f"a transaction of {len(actions)} items exceeds DynamoDB's 100")
    try:
        client.transact_write_items(TransactItems=actions)
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = error.response.get("CancellationReasons", [])
        if any(
            reasons[i].get("Code") == "ConditionalCheckFailed"
            for i in idempotency_markers
            if i < len(reasons)
        ):
            raise AlreadyApplied("this cause was applied before") from error
        codes = {r.get("Code") for r in reasons}
        if codes & _RACE_CODES:
            raise ConcurrentChange("a condition failed: another writer was first") from error
        raise


def versioned_put(table: str, item: Mapping[str, Any], expected: int) -> dict[str, Any]:
    """A transaction Put of an item that replaces version `expected` (0: must not exist yet)."""
    put: dict[str, Any] = {"TableName": table, "Item": to_attributes(item)}
    if expected == 0:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "version = :expected"
        put["ExpressionAttributeValues"] = {":expected": {"N": str(expected)}}
    return {"Put": put}


def add_counters(table: str, key: Mapping[str, Any], counters: Mapping[str, int]) -> dict[str, Any]:
    """A transaction Update that adds to numeric attributes (created if missing)."""
    names = {f"#c{i}": name for i, name in enumerate(counters)}
    values = {f":c{i}": {"N": str(v)} for i, v in enumerate(counters.values())}
    return {
        "Update": {
            "TableName": table,
            "Key": to_attributes(key),
            "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counters))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def due_page(
    client: Any, table: str, partition: str, until: str, after: str | None, limit: int
) -> tuple[list[str], str | None]:
    """One page of a sparse `due` index (due_pk, due_sk = "<due time>#<id>") up to `until`:
    the ids, and a cursor (JSON of LastEvaluatedKey) when there may be more."""
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": "due",
        "KeyConditionExpression": "due_pk = :p AND due_sk <= :until",
        "ExpressionAttributeValues": {":p": {"S": partition}, ":until": {"S": f"{until}#\uffff"}},
        "ProjectionExpression": "due_sk",
        "Limit": limit,
    }
    if after:
        request["ExclusiveStartKey"] = json.loads(after)
    response = client.query(**request)
    ids = [i["due_sk"]["S"].split("#", 1)[1] for i in response.get("Items", [])]
    cursor = response.get("LastEvaluatedKey")
    return ids, json.dumps(cursor) if cursor else None
