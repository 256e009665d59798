"""Render docs/performance.md from the figures `scripts/bench.py` measured (one JSON)."""

from __future__ import annotations

import statistics
from typing import Any

from scripts.request_budgets import allowance, budgets, over


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _failed(section: Any) -> str | None:
    """Why a section has no figures: it failed (its error) or was not measured."""
    if section is None or section == {} or section == []:
        return "not measured in this run"
    return section.get("error") if isinstance(section, dict) else None


def _ops(ops: dict[str, float]) -> str:
    return ", ".join(f"{k.split('.', 1)[1]} {v:g}" for k, v in sorted(ops.items())) or "none"


def _floor_cell(fig: dict[str, Any]) -> str:
    if "floor" not in fig:
        return ""
    return f"{fig['floor']} {fig['floor_vs_bare_client']:.2f}x"


def render(f: dict[str, Any]) -> str:
    out = [
        "# Performance report",
        "",
        f"Written by `make bench` (Python {f['python']}"
        + (", quick sizes)." if f.get("quick") else ")."),
        "Times on moto are local times, useful only next to each other; request counts are",
        "counted with botocore hooks on the handlers' clients and hold on AWS as they are.",
        "",
    ]
    cold = f.get("cold_start")
    out += [
        "## Cold start",
        "",
        "`python scripts/bench_cold_start.py --runs 7`: a fresh process imports and initialises",
        "each handler, then creates the boto3 clients its first request creates; next to it, in",
        "the same run, a bare process doing only `import boto3` and the same `boto3.client(...)`",
        "calls. Each function's process runs right after a bare one, pair by pair, and the ratio",
        "is the median of the pairs' ratios (a shared machine's drifting load moves both halves",
        f"of a pair alike); the ms are medians of {(cold or {}).get('runs', '?')} runs."
        " Tracing as deployed:" + (" on" if (cold or {}).get("tracing") else " off") + " (no",
        "POWERTOOLS_TRACE_DISABLED; with no X-Ray daemon, AWS_XRAY_CONTEXT_MISSING=IGNORE_ERROR).",
        'To rerun the baseline by hand: `hyperfine -w 1 -r 7 "<command>"` or',
        "`/usr/bin/time -f %e <command>` with the command below; the function side is the",
        "bench script's probe (the import of `functions/<name>/app.py`, then the clients).",
        "",
    ]
    if _failed(cold):
        out += [f"Failed: {_failed(cold)}", ""]
    elif "baseline" not in cold:  # figures of an older run: import only
        base = cold["baseline_import_boto3_ms"]
        rows = [["import boto3 (baseline)", f"{base:.0f}", "1.00x"]] + [
            [name, f"{fig['init_ms']:.0f}", f"{fig['vs_import_boto3']:.2f}x"]
            for name, fig in cold["functions"].items()
        ]
        out += _table(["function", "init ms", "vs baseline"], rows)
    else:
        goal = cold.get("goal_vs_bare_client", 1.3)
        out += [f"Baseline: `{cold['baseline']['command']}` {cold['baseline']['ms']:.0f} ms.", ""]
        rows = [
            [
                name,
                ", ".join(fig["clients"]),
                f"{fig['init_ms']:.0f}",
                f"{fig['with_clients_ms']:.0f}",
                f"{fig['bare_client_ms']:.0f}",
                f"{fig['vs_bare_client']:.2f}x",
                f"<= {goal}x " + ("ok" if fig["vs_bare_client"] <= goal else "over"),
                _floor_cell(fig),
                f"{fig['vs_floor']:.2f}x" if "vs_floor" in fig else "",
            ]
            for name, fig in cold["functions"].items()
        ]
        out += _table(
            [
                "function",
                "first request's clients",
                "import ms",
                "import + clients ms",
                "bare clients ms",
                "ratio",
                "goal",
                "framework floor",
                "hub code on top",
            ],
            rows,
        )
        floors = {
            name: (fig["floor"], fig["floor_vs_bare_client"])
            for name, fig in cold["functions"].items()
            if "floor" in fig
        }
        if floors:
            ratios = [r for _, r in floors.values()]
            parsing = [r for kind, r in floors.values() if "pydantic" in kind]
            median = f"; median {statistics.median(parsing):.2f}x over the {len(parsing)}"
            out += [
                "The framework floor is a process importing only what the function's frameworks"
                " cost at their least (Powertools' Logger, Tracer and Metrics; pydantic with one"
                " model built and Powertools' validating HTTP resolver where the function's import"
                " brings them in), then the same clients: its ratio to the bare process"
                f" ({min(ratios):.2f}-{max(ratios):.2f}x here"
                + (median + " functions that parse with pydantic" if parsing else "")
                + ") is what no handler code can win back, and `hub code on top` is the function"
                " against that floor, pair by pair. The floors of one kind differ only by the"
                " machine's noise, which their spread shows.",
                "",
            ]
        after = [
            fig["after_restore_ms"]
            for fig in cold["functions"].values()
            if "after_restore_ms" in fig
        ]
        if after:
            out += [
                "With SnapStart (README) the import is in the snapshot; a restored environment"
                f" still makes its first request's clients: {min(after):.0f}-{max(after):.0f} ms"
                " here (`after_restore_ms`), plus Lambda's restore, not measurable locally.",
                "",
            ]

    per = f.get("per_event")
    out += [
        "## AWS requests and warm time per event",
        "",
        "`scripts/bench.py` (per_event): each example of `events/channel/` posted five times",
        "after a warm-up, through the webhook and every consumer it reaches. The goal is the",
        "function's budget in `scripts/request_budgets.json`, which",
        "`tests/integration/test_request_counts.py` also enforces.",
        "",
    ]
    if _failed(per):
        out += [f"Failed: {_failed(per)}", ""]
    else:
        table = budgets()
        rows = []
        for kind, functions in per.items():
            for function, fig in sorted(functions.items()):
                if function == "outside":
                    continue
                budget = table.get(kind, {}).get(function)
                excess = over(fig["requests_per_event"], budget)
                rows.append(
                    [
                        kind,
                        function,
                        _ops(fig["requests_per_event"]),
                        allowance(budget) + (" over: " + "; ".join(excess) if excess else " ok"),
                        fig["warm_ms_per_invocation"],
                    ]
                )
        out += _table(
            ["event", "function", "requests per event", "goal", "warm ms per invocation"], rows
        )

    tp = f.get("throughput")
    out += [
        "## Throughput of the local stack",
        "",
        "`scripts/bench.py` (throughput): signed webhooks posted one after another, then",
        "drained through stream, bus, queues and consumers (one process, invocations",
        "serialised: a floor, not a Lambda figure).",
        "",
    ]
    out += (
        [f"Failed: {_failed(tp)}", ""]
        if _failed(tp)
        else _table(
            ["events", "webhook events/s", "end-to-end events/s", "dead letters"],
            [
                [
                    tp["events"],
                    tp["webhook_events_per_second"],
                    tp["end_to_end_events_per_second"],
                    tp["dead_letters"],
                ]
            ],
        )
    )

    load = f.get("load_run")
    out += [
        "## Load run on loopback",
        "",
        "`python scripts/load_run.py --events 1000 --clients 8`: `make dev` in a subprocess,",
        "parallel clients posting signed order.paid events (one in ten twice), then a drain;",
        "the run checks that nothing was lost or applied twice.",
        "",
    ]
    out += (
        [f"Failed: {_failed(load)}", ""]
        if _failed(load)
        else _table(
            [
                "events",
                "repeats",
                "clients",
                "answers",
                "webhook req/s",
                "end-to-end events/s",
                "earned exactly once (sample)",
                "dead letters",
                "ok",
            ],
            [
                [
                    load["events"],
                    load["repeats"],
                    load["clients"],
                    load["statuses"],
                    load["webhook_requests_per_second"],
                    load["end_to_end_events_per_second"],
                    load["sampled_members_earned_exactly_once"],
                    load["dead_letters"],
                    load["ok"],
                ]
            ],
        )
    )

    out += ["## Scheduled jobs: cost as the data grows", ""]
    points = f.get("points_daily")
    out += [
        "`python scripts/bench_points.py`: one `points-daily` run, members holding points",
        "(in the due index, not due) growing, the same orders due.",
        "",
    ]
    out += (
        [f"Failed: {_failed(points)}", ""]
        if _failed(points)
        else _table(
            ["members", "due orders", "DynamoDB requests", "by operation"],
            [
                [
                    r["members"],
                    r["due"],
                    r["total"],
                    _ops({f"x.{k}": v for k, v in r["requests"].items()}),
                ]
                for r in points
            ],
        )
    )
    sla = f.get("sla_escalation")
    out += ["`python scripts/bench_sla.py --open 10000 --due 100`: one `sla-escalation` run.", ""]
    out += (
        [f"Failed: {_failed(sla)}", ""]
        if _failed(sla)
        else _table(
            ["open tickets", "due", "reads", "by operation"],
            [
                [
                    r["open"],
                    r["due"],
                    r["reads"],
                    _ops({f"x.{k}": v for k, v in r["requests"].items()}),
                ]
                for r in sla
            ],
        )
    )
    settle = f.get("commission_settlement")
    out += [
        "`python scripts/bench_settlement.py`: one `commission-settlement` run for 10 active",
        "leaders with 100 orders, alone and among 10,000 leaders with 100,000 historical orders.",
        "",
    ]
    if _failed(settle):
        out += [f"Failed: {_failed(settle)}", ""]
    else:
        among = settle["among"]
        out += _table(
            ["run", "DynamoDB requests", "by operation"],
            [
                [
                    f"{settle['active_leaders']} active, {settle['orders']} orders, alone",
                    settle["alone"]["total"],
                    _ops({f"x.{k}": v for k, v in settle["alone"]["requests"].items()}),
                ],
                [
                    f"among {among['leaders']:,} leaders, {among['historical_orders']:,} orders",
                    among["total"],
                    _ops({f"x.{k}": v for k, v in among["requests"].items()}),
                ],
            ],
        )

    speed = f.get("classifier_speed")
    out += [
        "## Classifier",
        "",
        "`python scripts/bench_classifier.py`: fresh processes, first answer, against",
        "`import jieba; jieba.lcut(...)` with jieba's default dictionary, in the same run.",
        "",
    ]
    if _failed(speed):
        out += [f"Failed: {_failed(speed)}", ""]
    else:
        rows = [[k, *(f"{v:g}" for v in fig.values())] for k, fig in speed.get("cold", {}).items()]
        keys = list(next(iter(speed.get("cold", {}).values()), {}).keys())
        out += _table(["what/mode", *keys], rows)
        out += _table(
            ["warm", "texts/s", "texts"],
            [[k, v.get("per_second"), v.get("texts")] for k, v in speed.get("warm", {}).items()],
        )
    acc = f.get("classifier_accuracy")
    out += [
        "`make -s eval-classifier` (`python scripts/eval_classifier.py --docs`): the frozen test",
        "part of data/feedback-dev (labelled by the guide, never trained or tuned on), and",
        "sentiment on the reviews' dev split. How the set was built: data/feedback-dev/README.md.",
        "",
    ]
    if _failed(acc) or "measures" not in (acc or {}):
        out += [f"Failed: {_failed(acc) or 'no figures'}", ""]
    else:
        test, m = acc["frozen_test"], acc["measures"]
        out += [f"{test['texts']:,} texts, {test['high']} of them high risk.", ""]
        out += _table(
            ["measure", "today", "goal", "met"],
            [[k, m[k], f"≥ {g}", "yes" if m[k] >= g else "no"] for k, g in acc["goals"].items()],
        )
        out += _table(
            ["intent", "recall"],
            [
                [k.removeprefix("intent_recall_"), v]
                for k, v in m.items()
                if k.startswith("intent_recall_")
            ],
        )
        for name, table in acc["confusion"].items():
            answers = sorted({a for row in table.values() for a in row})
            out += [f"Confusion, {name} (rows: label; columns: answer):", ""]
            out += _table(
                ["label", *answers],
                [[g, *(row.get(a, 0) for a in answers)] for g, row in table.items()],
            )
        out += [
            "The 20 worst misses (text ids of data/feedback-dev; the note is the labeller's):",
            "",
        ]
        out += _table(
            ["id", "cost", "label", "answer", "note"],
            [
                [
                    x["id"],
                    x["cost"],
                    f"{x['expected']['risk']}/{x['expected']['intent']}/"
                    f"{x['expected']['sentiment']}/{x['expected']['topics'][0]}",
                    f"{x['got']['risk']}/{x['got']['intent']}/"
                    f"{x['got']['sentiment']}/{x['got']['topics'][0]}",
                    x["note"].replace("|", "/")[:90],
                ]
                for x in acc["worst_misses"]
            ],
        )
        out += _table(
            ["reviews' dev split", "reviews", "sentiment (score ≥ 0.5)"],
            [[g, v["n"], v["binary"]] for g, v in acc["reviews_dev"].items()],
        )
    cap = f.get("capacity")
    out += ["## Capacity plan (summary)", ""]
    if _failed(cap):
        out += [f"Failed: {_failed(cap)}", ""]
    else:
        rows = [
            [
                name,
                f"{s['events_per_s']:,}",
                s["lambda_concurrency"],
                f"{s['hottest_key_wcu_per_s']:g} (< 1,000)",
                f"{(s.get('tightest_quota') or {}).get('what')} "
                f"({(s.get('tightest_quota') or {}).get('partition')}):"
                f" {(s.get('tightest_quota') or {}).get('use', 0):.0%}",
                s["cost_per_million_events"],
            ]
            for name, s in cap.items()
            if name != "settlement"
        ]
        out += _table(
            ["scenario", "events/s", "concurrency", "hottest key WCU/s", "tightest quota", "cost"],
            rows,
        )
        out += ["Details and inputs: docs/capacity.md (`python scripts/capacity.py`).", ""]
    return "\n".join(out)
