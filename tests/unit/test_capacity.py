"""The capacity plan is arithmetic on measured figures: check it on a small fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.capacity import key_family, run, units_of

ROOT = Path(__file__).resolve().parents[2]

FIGURES = {
    "per_event": {
        "order.paid": {
            "WebhookFunction": {
                "requests_per_event": {"dynamodb.PutItem": 1.0},
                "warm_ms_per_invocation": 10.0,
                "units_per_event": {"EventLogTable": {"read": 0.0, "write": 2.0}},
                "hot_key_writes_per_event": {"IN#*#*": 0.2},
            },
            "PointsConsumerFunction": {
                "requests_per_event": {"dynamodb.GetItem": 1.0, "eventbridge.PutEvents": 1.0},
                "warm_ms_per_invocation": 50.0,
                "units_per_event": {"PointsTable": {"read": 1.0, "write": 4.0}},
                "hot_key_writes_per_event": {"LEADER#*": 1.0},
            },
        }
    },
    "commission_settlement": {"active_leaders": 10, "alone": {"total": 60}},
}
INPUTS = {
    "rates": {"peak": 1000, "day": 10},
    "mix": {"order.paid": 1.0},
    "hot_key_share": {"*": 0.001, "LEADER": 0.5},
    "settlement": {"active_leaders": 1600, "dynamodb_request_ms": 10, "reserve_s": 30},
    "prices": {
        "aws": {
            "region": "r",
            "currency": "USD",
            "date": "d",
            "source": "s",
            "lambda_gb_second": 1e-5,
            "lambda_request": 1e-7,
            "dynamodb_write_request_unit": 1e-6,
            "dynamodb_read_request_unit": 1e-7,
            "eventbridge_event": 1e-6,
            "sqs_request": 1e-6,
            "http_api_request": 1e-6,
        }
    },
    "quotas": {
        "aws": {
            "lambda_concurrency": 1000,
            "eventbridge_put_events_per_s": 400,
            "eventbridge_invocations_per_s": 1100,
            "dynamodb_table_wru_per_s": 40000,
            "dynamodb_table_rru_per_s": 40000,
            "sqs_standard_requests_per_s": None,
        }
    },
}


@pytest.fixture
def summary(tmp_path: Path) -> dict:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps(INPUTS), encoding="utf-8")
    out = tmp_path / "capacity.md"
    result = run(FIGURES, prices, ROOT / "template.yaml", out)
    assert out.read_text("utf-8").startswith("# Capacity and cost plan")
    return result


def test_concurrency_is_rate_times_seconds(summary: dict) -> None:
    # 1,000/s x (10 ms + 50 ms) = 60 concurrent executions; 10/s x 60 ms = 0.6
    assert summary["peak"]["lambda_concurrency"] == pytest.approx(60.0)
    assert summary["day"]["lambda_concurrency"] == pytest.approx(0.6)


def test_hottest_key_is_family_writes_times_share(summary: dict) -> None:
    # 1,000/s x 1 write on one leader key x half the orders on one leader = 500 WCU/s
    assert summary["peak"]["hottest_key_wcu_per_s"] == pytest.approx(500.0)
    assert summary["peak"]["hottest_key_ok"] is True


def test_tightest_quota_is_named(summary: dict) -> None:
    # 1,000 PutEvents/s against 400: the first thing to break
    tight = summary["peak"]["tightest_quota"]
    assert tight["what"] == "EventBridge PutEvents requests/s"
    assert tight["use"] == pytest.approx(2.5)


def test_cost_per_million_events(summary: dict) -> None:
    # a million events: 2M WRU + 4M WRU, 1M RRU, 1M PutEvents, 1M HTTP API requests, plus
    # Lambda GB-s (60 ms x 0.5 GB) and requests, plus SQS (send + receive/delete per batch of 10)
    cost = summary["peak"]["cost_per_million_events"]["aws"]
    lam = 1e6 * 0.06 * 0.5 * 1e-5 + (1e6 + 1e5) * 1e-7
    sqs = (1e6 + 2 * 1e5) * 1e-6
    assert cost == pytest.approx(6.0 + 0.1 + 1.0 + 1.0 + lam + sqs, abs=0.02)


def test_settlement_fans_out_per_shard_inside_the_timeout(summary: dict) -> None:
    st = summary["settlement"]
    # 1,600 leaders / 16 shards x 6 requests x 10 ms = 6 s a shard, one invocation each
    assert (st["shards"], st["leaders_per_shard"], st["requests_per_leader"]) == (16, 100, 6.0)
    assert st["seconds_per_shard"] == 6
    assert st["invocations_per_shard"] == 1


def test_units_of_requests() -> None:
    put = units_of("PutItem", {"TableName": "T", "Item": {"pk": {"S": "IN#a#b"}}}, {})
    assert [(u.table, u.kind, u.units, u.key) for u in put] == [("T", "write", 1, "IN#a#b")]
    tx = units_of(
        "TransactWriteItems",
        {"TransactItems": [{"Update": {"TableName": "T", "Key": {"pk": {"S": "A#1"}}}}]},
        {},
    )
    assert tx[0].units == 2  # transactional writes cost double
    got = units_of("GetItem", {"TableName": "T", "Key": {}}, {})
    assert got[0].units == 0.5  # eventually consistent
    query = units_of("Query", {"TableName": "T", "ConsistentRead": True}, {"ScannedCount": 9})
    assert query[0].units == 3  # 9 items of 1 KB, 4 KB a unit


def test_key_family_generalises_ids_and_shards() -> None:
    assert key_family("LPEND#leader-1#3") == "LPEND#*#n"
    assert key_family("MEMBER#abc") == "MEMBER#*"
    assert key_family(None) is None
