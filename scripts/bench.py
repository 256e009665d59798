"""`make bench`: the performance report, docs/performance.md and docs/performance.json.

Every figure is measured in this run, next to a baseline measured in the same run where a ratio
makes sense (a bare `import boto3` for cold starts, jieba's default dictionary for the
classifier). Request counts are counted with botocore event hooks on the handlers' own clients,
never estimated. Times on moto are not AWS times: they are for comparing with each other.

    python scripts/bench.py [--quick] [--only PART ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SERVICES = ("dynamodb", "events", "sqs", "ssm")


def _function() -> str:
    return os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "outside").removeprefix("devstack-")


class Meter:
    """AWS calls per (function, service.operation), from botocore hooks on the shared clients."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        #: DynamoDB units per (function, table, read|write), for the capacity plan
        self.units: Counter[tuple[str, str, str]] = Counter()
        #: writes per (function, table, partition key), for the hottest key
        self.keys: Counter[tuple[str, str, str]] = Counter()
        self.errors: list[str] = []

    def __enter__(self) -> Meter:
        from omnihub.adapters.aws import client

        for service in SERVICES:
            client(service).meta.events.register(f"before-call.{service}.*", self._count)
        dynamodb = client("dynamodb").meta.events
        dynamodb.register("before-parameter-build.dynamodb.*", self._params)
        dynamodb.register("after-call.dynamodb.*", self._units)
        return self

    def __exit__(self, *_: object) -> None:
        from omnihub.adapters.aws import client

        for service in SERVICES:
            client(service).meta.events.unregister(f"before-call.{service}.*", self._count)
        dynamodb = client("dynamodb").meta.events
        dynamodb.unregister("before-parameter-build.dynamodb.*", self._params)
        dynamodb.unregister("after-call.dynamodb.*", self._units)

    def _count(self, event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".", 2)
        self.calls[(_function(), f"{service}.{operation}")] += 1

    def _params(self, params: Any = None, context: Any = None, **_: Any) -> None:
        if context is not None:  # the after-call hook reads what was asked from here
            context["bench_params"] = dict(params or {})

    def _units(self, event_name: str, parsed: Any = None, context: Any = None, **_: Any) -> None:
        from scripts.capacity import units_of

        params = (context or {}).get("bench_params") or {}
        try:
            uses = units_of(event_name.split(".", 2)[2], params, parsed or {})
        except Exception as error:  # the handler's call must not fail for the bench
            self.errors.append(f"{event_name}: {type(error).__name__}: {error}")
            return
        for use in uses:
            self.units[(_function(), use.table, use.kind)] += use.units
            if use.kind == "write" and use.key:
                self.keys[(_function(), use.table, use.key)] += 1

    def take(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = defaultdict(dict)
        for (function, operation), n in sorted(self.calls.items()):
            out[function][operation] = n
        self.calls.clear()
        return dict(out)

    def take_units(self, tables: dict[str, str]) -> dict[str, dict[str, dict[str, float]]]:
        """Units per function and table (logical ids), since the last call."""
        if self.errors:
            raise RuntimeError(f"units not counted: {self.errors[:3]}")
        out: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
        for (function, table, kind), n in sorted(self.units.items()):
            out[function].setdefault(tables.get(table, table), {"read": 0.0, "write": 0.0})[
                kind
            ] = n
        self.units.clear()
        return dict(out)

    def take_hot_keys(self) -> dict[str, dict[str, int]]:
        """Per function and key family, the writes of the key written most, since the last call."""
        from scripts.capacity import key_family

        out: dict[str, dict[str, int]] = defaultdict(dict)
        for (function, _table, key), n in self.keys.items():
            family = key_family(key) or "?"
            out[function][family] = max(out[function].get(family, 0), n)
        self.keys.clear()
        return dict(out)


def _variant(event: dict[str, Any], n: int) -> dict[str, Any]:
    """The n-th distinct copy of an example event (new ids, same shape)."""
    copy = json.loads(json.dumps(event))
    copy["event_id"] = f"{copy['event_id']}-bench-{n}"
    data = copy.get("data", {})
    for key in ("order_id", "refund_id", "activity_id", "feedback_id"):
        if key in data:
            data[key] = f"{data[key]}-{n}"
    return copy


def per_event(repeats: int) -> dict[str, Any]:
    """Requests and warm handler time per channel event type, after one warm-up of each."""
    from devstack.stack import LocalStack

    examples = sorted((ROOT / "events" / "channel").glob("*.json"))
    report: dict[str, Any] = {}
    with LocalStack.start(ROOT, env_overrides={"POWERTOOLS_LOG_LEVEL": "ERROR"}) as stack:
        for path in examples:  # warm every handler and create the members once
            stack.post_channel_event("tmall", _variant(json.loads(path.read_text("utf-8")), 0))
        stack.drain()
        tables = {stack.table_name(t): t for t in stack.model.tables}
        with Meter() as meter:
            for path in examples:
                event = json.loads(path.read_text("utf-8"))
                before = dict(stack.runtime.seconds)
                calls_before = dict(stack.invocations)
                for n in range(1, repeats + 1):
                    stack.post_channel_event("tmall", _variant(event, n))
                    stack.drain()
                calls = meter.take()
                units = meter.take_units(tables)
                hot = meter.take_hot_keys()
                per: dict[str, Any] = {}
                for function, operations in calls.items():
                    invoked = stack.invocations.get(function, 0) - calls_before.get(function, 0)
                    spent = stack.runtime.seconds.get(function, 0.0) - before.get(function, 0.0)
                    per[function] = {
                        "requests_per_event": {
                            k: round(v / repeats, 2) for k, v in operations.items()
                        },
                        "warm_ms_per_invocation": round(1000 * spent / invoked, 1)
                        if invoked
                        else None,
                    }
                    if function in units:  # DynamoDB units and hottest key writes, per event
                        per[function]["units_per_event"] = {
                            t: {k: round(v / repeats, 2) for k, v in u.items()}
                            for t, u in units[function].items()
                        }
                        per[function]["hot_key_writes_per_event"] = {
                            f: round(n / repeats, 2) for f, n in hot.get(function, {}).items()
                        }
                report[event["type"]] = per
    return report


def throughput(count: int) -> dict[str, Any]:
    """End to end through the local stack: signed webhooks, stream, bus, queues, consumers."""
    from devstack.stack import LocalStack

    identified = json.loads((ROOT / "events/channel/member-identified.json").read_text("utf-8"))
    paid = json.loads((ROOT / "events/channel/order-paid.json").read_text("utf-8"))
    with LocalStack.start(ROOT, env_overrides={"POWERTOOLS_LOG_LEVEL": "ERROR"}) as stack:
        started = time.perf_counter()
        for n in range(count):
            base = identified if n % 2 else paid
            event = _variant(base, n)
            event["member"] = {"identities": [{"type": "phone", "value": f"139{n:08d}"}]}
            stack.post_channel_event("tmall", event)
        posted = time.perf_counter() - started
        report = stack.drain(timeout=600)
        total = time.perf_counter() - started
        members = stack.client("dynamodb").scan(
            TableName=stack.table_name("MembersTable"), Select="COUNT"
        )["Count"]
    return {
        "events": count,
        "webhook_events_per_second": round(count / posted, 1),
        "end_to_end_events_per_second": round(count / total, 1),
        "dead_letters": sum(report.dlq_depths.values()),
        "rows_in_members_table": members,
    }


def _run_json(script: str, *args: str) -> Any:
    out = DOCS / f".{Path(script).stem}.json"
    subprocess.run(  # noqa: S603 - our own scripts
        [sys.executable, str(ROOT / "scripts" / script), *args, "--json", str(out)],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    data = json.loads(out.read_text("utf-8"))
    out.unlink()
    return data


def _capacity(figures: dict[str, Any]) -> dict[str, Any]:
    """docs/capacity.md from this run's figures; its summary goes into performance.json."""
    from scripts.capacity import run

    return run(
        figures, ROOT / "scripts" / "prices.json", ROOT / "template.yaml", DOCS / "capacity.md"
    )


def _goals(figures: dict[str, Any]) -> None:
    """Each goal of the cold start, the classifier's speed and the capacity plan next to
    today's figure."""
    cold = figures.get("cold_start") or {}
    for name, fig in (cold.get("functions") or {}).items():
        ratio = fig.get("vs_bare_client")
        if ratio is not None:
            mark = "ok" if ratio <= cold.get("goal_vs_bare_client", 1.3) else "over"
            floor = (
                f"; its frameworks alone {fig['floor_vs_bare_client']:.2f}x"
                if "floor" in fig
                else ""
            )
            print(f"goal: cold start {name} {ratio:.2f}x the bare clients (<= 1.3x) {mark}{floor}")
    speed = figures.get("classifier_speed") or {}
    first = (speed.get("cold") or {}).get("classifier/compiled")
    warm = speed.get("warm") or {}
    if first and "classifier" in warm:
        goals = {"first_ms": 100, "warm_per_second": 5000, **(speed.get("goals") or {})}
        ms, most = first["first_ms"], goals["first_ms"]
        mark = "ok" if ms <= most else "over"
        print(f"goal: classifier first answer {ms:.0f} ms (<= {most:,} ms) {mark}")
        rate, jieba = warm["classifier"]["per_second"], warm["baseline"]["per_second"]
        least = goals["warm_per_second"]
        mark = "ok" if rate >= least else "over"
        print(
            f"goal: classifier warm {rate:,} texts/s (>= {least:,}) {mark}; plain jieba {jieba:,}"
        )
    per = figures.get("per_event")
    if isinstance(per, dict) and "error" not in per:
        from scripts.request_budgets import overruns

        excess = overruns(per)
        print(f"goal: requests per event within budget: {'ok' if not excess else 'over'}")
        for line in excess:
            print(f"goal:   over budget: {line}")
    for name, s in (figures.get("capacity") or {}).items():
        if name == "settlement" or not isinstance(s, dict) or "hottest_key_wcu_per_s" not in s:
            continue
        tight = s.get("tightest_quota") or {}
        print(
            f"goal: {name}: hottest key {s['hottest_key_wcu_per_s']:,.0f} WCU/s (< 1,000),"
            f" concurrency {s['lambda_concurrency']:,.0f}, tightest quota {tight.get('what')}"
            f" ({tight.get('partition')}) at {tight.get('use', 0):.0%}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="PART",
        help="re-measure these parts and keep the other figures of the last run",
    )
    args = parser.parse_args()
    quick = args.quick
    figures: dict[str, Any] = {}
    if args.only and (DOCS / "performance.json").exists():
        figures = json.loads((DOCS / "performance.json").read_text("utf-8"))
    figures.update({"python": sys.version.split()[0], "quick": quick})
    steps = [
        ("cold_start", lambda: _run_json("bench_cold_start.py", "--runs", "3" if quick else "7")),
        ("per_event", lambda: per_event(2 if quick else 5)),
        ("throughput", lambda: throughput(60 if quick else 300)),
        (
            "load_run",
            lambda: _run_json(
                "load_run.py",
                "--events",
                "200" if quick else "1000",
                "--clients",
                "4" if quick else "8",
            ),
        ),
        (
            "points_daily",
            lambda: _run_json(
                "bench_points.py",
                "--members",
                *(["20", "200"] if quick else ["100", "1000", "10000"]),
                "--due",
                "10",
            ),
        ),
        (
            "sla_escalation",
            lambda: _run_json(
                "bench_sla.py", "--open", "1000" if quick else "10000", "--due", "100"
            ),
        ),
        (
            "classifier_speed",
            lambda: _run_json("bench_classifier.py", "--runs", "3" if quick else "5"),
        ),
        ("classifier_accuracy", lambda: _run_json("eval_classifier.py")),
    ]
    if (ROOT / "scripts" / "bench_settlement.py").exists():
        steps.append(("commission_settlement", lambda: _run_json("bench_settlement.py")))
    steps.append(("capacity", lambda: _capacity(figures)))  # last: arithmetic on the above
    for name, step in steps:
        if args.only and name not in args.only:
            continue
        started = time.perf_counter()
        print(f"bench: {name} ...", flush=True)
        try:
            figures[name] = step()
        except Exception as error:  # a failed measurement is reported, not hidden
            figures[name] = {"error": f"{type(error).__name__}: {error}"}
        print(f"bench: {name} done in {time.perf_counter() - started:.0f}s", flush=True)
    DOCS.mkdir(exist_ok=True)
    (DOCS / "performance.json").write_text(
        json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    from scripts.bench_report import render

    (DOCS / "performance.md").write_text(render(figures), encoding="utf-8")
    _goals(figures)
    print("wrote docs/performance.md, docs/performance.json and docs/capacity.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
