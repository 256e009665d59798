"""The stores' attribute codec (omnihub.adapters.dynamo) agrees with boto3's TypeSerializer,
which it replaces so that no function imports boto3 at cold start."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from omnihub.adapters.dynamo import from_attributes, to_attributes

ITEM: dict[str, Any] = {
    "pk": "member#mbr_1",
    "n": 12,
    "big": 10**30,
    "dec": Decimal("1.25"),
    "flag": False,
    "skip": None,
    "nested": {"list": [1, "two", None, {"deep": [True]}], "empty": {}, "tuple": (1, 2)},
    "tags": {"a", "b"},
    "counts": {3, 4},
}


def _sets_sorted(attributes: dict[str, Any]) -> dict[str, Any]:
    return {
        k: {t: sorted(v) if t in ("SS", "NS") else v for t, v in a.items()}
        for k, a in attributes.items()
    }


def test_values_encode_as_boto3_encodes_them() -> None:
    boto3_encoded = {k: TypeSerializer().serialize(v) for k, v in ITEM.items() if v is not None}
    assert _sets_sorted(to_attributes(ITEM)) == _sets_sorted(boto3_encoded)


def test_values_decode_as_boto3_decodes_them_then_plain() -> None:
    encoded = to_attributes(ITEM)
    back = from_attributes(encoded)
    assert back["n"] == 12
    assert isinstance(back["n"], int)
    assert back["dec"] == 1.25
    assert back["big"] == 10**30
    assert back["nested"]["list"] == [1, "two", None, {"deep": [True]}]
    assert back["nested"]["tuple"] == [1, 2]
    assert sorted(back["tags"]) == ["a", "b"]
    deserializer = TypeDeserializer()
    assert {k: deserializer.deserialize(v) for k, v in encoded.items()}.keys() == back.keys()


@pytest.mark.parametrize("value", [1.5, {1, "a"}, object(), Decimal("NaN"), Decimal("1e200")])
def test_what_dynamodb_cannot_hold_is_refused_as_boto3_refuses_it(value: Any) -> None:
    with pytest.raises((TypeError, ArithmeticError)):
        TypeSerializer().serialize(value)
    with pytest.raises((TypeError, ArithmeticError)):
        to_attributes({"x": value})
