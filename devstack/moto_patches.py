"""Opt-in fixes to moto 5.2 that keep the local stack fast, bounded in memory and faithful.

Nothing changes until `apply()` (or `patched()`) is called, and only for a moto version the
patches were checked against; otherwise `apply()` returns False and moto stays as it is.

1. `TransactWriteItems`: moto deep-copies every touched *table* before each transaction to roll
   back on cancellation (about 30 ms per transaction at 1,000 items, and the copies pile up). The
   patch copies only the touched *items* (plus the length of each touched table's stream shard,
   so a cancelled transaction leaves no stream records) and restores those. Semantics are moto's:
   all-or-nothing, CancellationReasons in order, ALL_OLD items on ConditionalCheckFailed.
2. EventBridge -> SQS: moto's default event template drops `account`, which AWS always sends (and
   Powertools' EventBridgeModel requires). The patch puts it back, and compiles each JSONPath of
   the template once instead of once per event and rule (about 100 ms per PutEvents before).
3. DynamoDB Streams: every GetShardIterator/GetRecords leaves an iterator in moto's backend
   forever; `prune_shard_iterators()` drops them (the local pump holds no iterator between polls).
"""

from __future__ import annotations

import copy
import functools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import moto

SUPPORTED_MOTO = ("5.2.",)

#: How many items the patched transaction deep-copied (tests assert it stays flat).
COPIED_ITEMS = 0

_lock = threading.Lock()
_refcount = 0
_originals: dict[str, Any] = {}

_EVENT_TEMPLATE = (
    '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", '
    '"account": "<account>", "time": <time>, "region": "<region>", "resources": <resources>, '
    '"detail": <detail>}'
)


def supported() -> bool:
    """True when the installed moto is a version these patches were written against."""
    return moto.__version__.startswith(SUPPORTED_MOTO)


def apply() -> bool:
    """Install the patches (reference counted); False when moto's version is not supported."""
    global _refcount
    if not supported():
        return False
    with _lock:
        _refcount += 1
        if _refcount == 1:
            _install()
    return True


def revert() -> None:
    """Undo one `apply()`; the last one restores moto's originals."""
    global _refcount
    with _lock:
        if _refcount == 0:
            return
        _refcount -= 1
        if _refcount == 0:
            _uninstall()


@contextmanager
def patched() -> Iterator[bool]:
    """`apply()` for the duration of a block; yields whether the patches are active."""
    active = apply()
    try:
        yield active
    finally:
        if active:
            revert()


def _install() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.events.utils import EventTemplateParser

    _originals["transact"] = DynamoDBBackend.transact_write_items
    _originals["template"] = EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE
    _originals["parse"] = EventTemplateParser.__dict__["parse"]
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = _EVENT_TEMPLATE
    EventTemplateParser.parse = staticmethod(_parse_event_template)  # type: ignore[assignment]


def _uninstall() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.events.utils import EventTemplateParser

    DynamoDBBackend.transact_write_items = _originals.pop("transact")  # type: ignore[method-assign]
    EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = _originals.pop("template")
    EventTemplateParser.parse = _originals.pop("parse")  # type: ignore[method-assign]


@functools.lru_cache(maxsize=256)
def _jsonpath(expression: str) -> Any:
    from jsonpath_ng.ext import parse  # type: ignore[attr-defined]

    return parse(expression)


def _parse_event_template(
    input_template: str, input_paths_map: dict[str, Any], event: dict[str, Any]
) -> dict[str, Any]:
    """moto 5.2.5's EventTemplateParser.parse with compiled JSONPaths cached."""
    from moto.events.utils import EventTemplateParser

    template = input_template or EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE
    paths = input_paths_map or EventTemplateParser.DEFAULT_EVENT_INPUT_PATHS_MAP
    for name, path in paths.items():
        matches = _jsonpath(path).find(event)
        result = EventTemplateParser._stringify(matches[0].value) if matches else None
        if result:
            template = template.replace(f"<{name}>", result)
    defaults = {
        "aws.events.event.json": event,
        "aws.events.event.ingestion-time": event["ingestion-time"],
    }
    for name, value in defaults.items():
        template = template.replace(f"<{name}>", EventTemplateParser._stringify(value))
    parsed: dict[str, Any] = json.loads(template)
    return parsed


def prune_shard_iterators(account_id: str, region: str) -> None:
    """Forget moto's spent stream iterators (each poll leaves two behind otherwise)."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    dynamodbstreams_backends[account_id][region].shard_iterators.clear()


@dataclass
class _Snapshot:
    """One touched item as it was before the transaction wrote it (None: it did not exist)."""

    table: Any
    hash_key: Any
    range_key: Any
    item: Any

    def restore(self) -> None:
        items = self.table.items
        if self.range_key is None:
            if self.item is None:
                items.pop(self.hash_key, None)
            else:
                items[self.hash_key] = self.item
            return
        bucket = items[self.hash_key]
        if self.item is None:
            bucket.pop(self.range_key, None)
            if not bucket:
                items.pop(self.hash_key, None)
        else:
            bucket[self.range_key] = self.item


def _snapshot(backend: Any, table_name: str, key: dict[str, Any]) -> _Snapshot:
    global COPIED_ITEMS
    table = backend.get_table(table_name)
    hash_key, range_key = backend.get_keys_value(table, key)
    current = table.get_item(hash_key, range_key)
    if current is not None:
        COPIED_ITEMS += 1
    return _Snapshot(table, hash_key, range_key, copy.deepcopy(current))


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto 5.2.5's transact_write_items with an item-level rollback instead of table copies."""
    from moto.dynamodb.comparisons import get_filter_expression as filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    # Stream shard lengths, so records written by a cancelled transaction can be dropped.
    shard_lengths: dict[int, tuple[Any, int]] = {}
    for item in transact_items:
        _, op = next(iter(item.items()))
        table_name = op.get("TableName")
        if table_name and table_name in self.tables:
            shard = self.tables[table_name].stream_shard
            if shard is not None:
                shard_lengths[id(shard)] = (shard, len(shard.items))
    snapshots: list[_Snapshot] = []

    def rollback() -> None:
        for snap in reversed(snapshots):
            snap.restore()
        for shard, length in shard_lengths.values():
            del shard.items[length:]

    target_items: set[tuple[str, str]] = set()

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        marker = (str(table_name), str(dict(sorted(key.items()))))
        if marker in target_items:
            raise MultipleTransactionsException()
        target_items.add(marker)

    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            return_on_failure = op.get("ReturnValuesOnConditionCheckFailure")
            if op_type == "Put":
                attrs = op["Item"]
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            check_unicity(table_name, key)
            current = self.get_item(table_name, key)
            if condition_expression is not None:
                condition_op = filter_expression(condition_expression, names, values)
                if not condition_op.expr(current):
                    if return_on_failure == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)
            if op_type != "ConditionCheck":
                snapshots.append(_snapshot(self, table_name, key))
            if op_type == "Put":
                self.put_item(
                    table_name,
                    op["Item"],
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    table_name,
                    key,
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Update":
                self.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            rollback()
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
        except Exception as e:  # moto records any failure as a cancellation reason
            errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]

    if any(code is not None for code, _, _ in errors):
        rollback()
        raise TransactionCanceledException(errors)
