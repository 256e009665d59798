"""The performance report renders every section from the figures, and names failures."""

from scripts.bench_report import render


def test_the_report_renders_figures_and_failures():
    figures = {
        "python": "3.12.1",
        "cold_start": {
            "runs": 3,
            "baseline_import_boto3_ms": 250.0,
            "functions": {"WebhookFunction": {"init_ms": 600.0, "vs_import_boto3": 2.4}},
        },
        "per_event": {
            "order.paid": {
                "WebhookFunction": {
                    "requests_per_event": {"dynamodb.PutItem": 1.0},
                    "warm_ms_per_invocation": 5.0,
                }
            }
        },
        "throughput": {"error": "RuntimeError: boom"},
        "points_daily": [
            {
                "members": 20,
                "due": 5,
                "total": 47,
                "requests": {"Query": 32, "GetItem": 10, "TransactWriteItems": 5},
            }
        ],
        "sla_escalation": [
            {"open": 100, "due": 100, "reads": 104, "requests": {"Query": 4, "GetItem": 100}}
        ],
    }
    text = render(figures)
    assert "| WebhookFunction | 600 | 2.40x |" in text
    assert "| order.paid | WebhookFunction | PutItem 1 | <= PutItem 1 ok | 5.0 |" in text
    assert "Failed: RuntimeError: boom" in text
    assert "| 20 | 5 | 47 | GetItem 10, Query 32, TransactWriteItems 5 |" in text


def test_the_cold_start_table_names_each_functions_framework_floor():
    fig = {
        "init_ms": 400.0,
        "clients": ["dynamodb"],
        "with_clients_ms": 500.0,
        "bare_client_ms": 330.0,
        "vs_bare_client": 1.52,
        "floor": "powertools + pydantic",
        "floor_ms": 420.0,
        "floor_vs_bare_client": 1.27,
        "vs_floor": 1.19,
        "after_restore_ms": 100.0,
    }
    cold = {
        "runs": 7,
        "tracing": True,
        "goal_vs_bare_client": 1.3,
        "baseline": {"command": "python -c 'import boto3'", "ms": 320.0},
        "functions": {"PointsConsumerFunction": fig},
    }
    text = render({"python": "3.12.1", "cold_start": cold})
    row = "| PointsConsumerFunction | dynamodb | 400 | 500 | 330 | 1.52x | <= 1.3x over |"
    assert row + " powertools + pydantic 1.27x | 1.19x |" in text
    assert "(1.27-1.27x here; median 1.27x over the 1 functions that parse with pydantic)" in text


def test_bench_prints_the_classifiers_speed_goals_next_to_plain_jieba(capsys):
    from scripts.bench import _goals

    speed = {
        "cold": {"classifier/compiled": {"import_ms": 180.0, "first_ms": 90.4}},
        "warm": {"baseline": {"per_second": 5547}, "classifier": {"per_second": 3977}},
    }
    _goals({"classifier_speed": speed})
    out = capsys.readouterr().out
    assert "goal: classifier first answer 90 ms (<= 100 ms) ok" in out
    assert "goal: classifier warm 3,977 texts/s (>= 5,000) over; plain jieba 5,547" in out
