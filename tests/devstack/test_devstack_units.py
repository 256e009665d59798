"""Small pieces of the local stack: filters, routing, response rules, environments."""

from __future__ import annotations

import os

import pytest

from devstack.functions import applied_environment
from devstack.http_api import RouteTable, to_response
from devstack.model import HttpRoute
from devstack.patterns import any_matches, matches


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [
        ({"eventName": ["INSERT"]}, {"eventName": "INSERT"}, True),
        ({"eventName": ["INSERT"]}, {"eventName": "MODIFY"}, False),
        ({"a": {"b": [1, 2]}}, {"a": {"b": 2}}, True),
        ({"a": {"b": [1]}}, {"a": {"b": [3, 1]}}, True),
        ({"s": [{"prefix": "ord"}]}, {"s": "order.paid"}, True),
        ({"s": [{"suffix": ".paid"}]}, {"s": "order.refunded"}, False),
        ({"s": [{"anything-but": ["x", "y"]}]}, {"s": "z"}, True),
        ({"s": [{"anything-but": {"prefix": "tmp"}}]}, {"s": "tmp1"}, False),
        ({"n": [{"numeric": [">", 0, "<=", 5]}]}, {"n": 5}, True),
        ({"n": [{"numeric": [">", 0, "<=", 5]}]}, {"n": "6"}, False),
        ({"gone": [{"exists": False}]}, {"other": 1}, True),
        ({"here": [{"exists": True}]}, {"other": 1}, False),
        ({"s": [{"equals-ignore-case": "ABC"}]}, {"s": "abc"}, True),
        (
            {"dynamodb": {"NewImage": {"type": {"S": ["order"]}}}},
            {"dynamodb": {"NewImage": {"type": {"S": "order"}}}},
            True,
        ),
    ],
)
def test_filter_patterns(
    pattern: dict[str, object], event: dict[str, object], expected: bool
) -> None:
    assert matches(pattern, event) is expected


def test_filters_are_ored_and_empty_means_all() -> None:
    assert any_matches([], {"x": 1})
    assert any_matches([{"x": [2]}, {"x": [1]}], {"x": 1})
    assert not any_matches([{"x": [2]}], {"x": 1})


def _route(method: str, path: str) -> HttpRoute:
    return HttpRoute("Fn", f"{method}{path}", "Api", method, path, None)


def test_route_table_prefers_literals_exact_methods_and_default_last() -> None:
    table = RouteTable(
        [
            _route("ANY", "$default"),
            _route("ANY", "/a/{x}"),
            _route("GET", "/a/{x}"),
            _route("GET", "/a/b"),
            _route("GET", "/{p+}"),
        ]
    )

    def key(method: str, path: str) -> tuple[str, dict[str, str]] | None:
        found = table.match(method, path)
        return (found[0].route_key, found[1]) if found else None

    assert key("GET", "/a/b") == ("GET /a/b", {})
    assert key("GET", "/a/c") == ("GET /a/{x}", {"x": "c"})
    assert key("POST", "/a/c") == ("ANY /a/{x}", {"x": "c"})
    assert key("GET", "/z/y/x") == ("GET /{p+}", {"p": "z/y/x"})
    assert key("POST", "/z") == ("$default", {})


def test_response_rules() -> None:
    assert to_response("hi").body == b"hi"
    assert to_response({"a": 1}).status == 200
    multi = to_response({"statusCode": 204, "multiValueHeaders": {"X-A": ["1", "2"]}})
    assert (multi.status, multi.headers["x-a"], multi.body) == (204, "1,2", b"")
    broken = to_response({"statusCode": 200, "body": "not base64!", "isBase64Encoded": True})
    assert broken.status == 500


def test_environment_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVSTACK_KEPT", "outer")
    monkeypatch.delenv("DEVSTACK_NEW", raising=False)
    with applied_environment({"DEVSTACK_KEPT": "inner", "DEVSTACK_NEW": "x"}):
        assert os.environ["DEVSTACK_KEPT"] == "inner"
        assert os.environ["DEVSTACK_NEW"] == "x"
    assert os.environ["DEVSTACK_KEPT"] == "outer"
    assert "DEVSTACK_NEW" not in os.environ
