"""Cold start of every function, against a bare process that creates the same boto3 clients.

A fresh process imports and initialises a handler module, then creates the clients its first
request creates (adapters are lazy, so Lambda pays for them on the first request, not at INIT).
The baseline is a bare process doing only the client part: `import boto3` and the same
`boto3.client(...)` calls. Each function's fresh process runs right after a fresh baseline
process, pair by pair, and its ratio is the median of the pairs' ratios: a machine whose load
drifts during the run (a shared 2-core VM) moves both halves of a pair alike. Tracing is on as
deployed (the environment comes from template.yaml, without the local stack's
POWERTOOLS_TRACE_DISABLED); there is no X-Ray daemon here, so AWS_XRAY_CONTEXT_MISSING=IGNORE_ERROR
keeps the SDK quiet.

A third process, the framework floor, sits in every pair too: what any function written by this
project's rules imports before a line of its own, then the same clients: Powertools' Logger,
Tracer and Metrics as omnihub.observability makes them, plus pydantic (one model built) and
Powertools' validating HTTP resolver when the function's import brings them in. `vs_floor` is
what the hub's own code adds; the floor's own ratio to the bare process is what no handler code
can win back.

    python scripts/bench_cold_start.py [--runs 7] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The clients each function's first request creates (its wiring: stores and the event log on
#: dynamodb, keys and rule sets through the SSM parameter cache, the bus, work queues).
FIRST_REQUEST_CLIENTS: dict[str, tuple[str, ...]] = {
    "CommissionSettlementFunction": ("sqs",),
    "CommissionWorkFunction": ("dynamodb", "sqs", "ssm"),
    "FeedbackConsumerFunction": ("dynamodb", "ssm"),
    "IdentityConsumerFunction": ("dynamodb", "ssm"),
    "InsightsApiFunction": ("dynamodb",),
    "LeaderTiersFunction": ("sqs",),
    "LeadersApiFunction": ("dynamodb",),
    "LeadersConsumerFunction": ("dynamodb", "ssm"),
    "MemberApiFunction": ("dynamodb", "ssm"),
    "OutboxForwarderFunction": ("events",),
    "PayoutsFunction": ("dynamodb", "ssm"),
    "PointsConsumerFunction": ("dynamodb", "ssm"),
    "PointsDailyFunction": ("sqs",),
    "PointsWorkFunction": ("dynamodb", "sqs", "ssm"),
    "SlaEscalationFunction": ("dynamodb",),
    "TicketsApiFunction": ("dynamodb", "ssm"),
    "TicketsConsumerFunction": ("dynamodb", "ssm"),
    "WebhookFunction": ("dynamodb", "ssm"),
}
#: The baseline every ratio in the issue was first stated against.
BASELINE_CLIENTS = ("dynamodb",)

# prints two figures: after the import (INIT), and after the first request's clients as well
PROBE = """
import time, importlib.util, sys
started = time.perf_counter()
{body}
imported = time.perf_counter()
{clients}
done = time.perf_counter()
print(round((imported - started) * 1000, 2), round((done - started) * 1000, 2))
"""
BARE = "import boto3"
BARE_CLIENTS = "[boto3.client(s) for s in {services!r}]"
HANDLER = """
spec = importlib.util.spec_from_file_location("handler", {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules["handler"] = module
spec.loader.exec_module(module)
"""
HANDLER_CLIENTS = "from omnihub.adapters.aws import client; [client(s) for s in {services!r}]"
FRAMEWORKS = """
{body}
print(*(m in sys.modules for m in ("pydantic", "aws_lambda_powertools.event_handler")))
"""
FLOOR = """
from aws_lambda_powertools import Logger, Metrics, Tracer
Logger(); Tracer(patch_modules=("botocore", "httplib")); Metrics()
"""
FLOOR_MODELS = """
from pydantic import BaseModel
class Probe(BaseModel):
    value: int
"""
FLOOR_API = """
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
APIGatewayHttpResolver(enable_validation=True)
"""


def _fresh_ms(body: str, clients: str, env: dict[str, str]) -> tuple[float, float]:
    out = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-c", PROBE.format(body=body, clients=clients)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    imported, done = out.stdout.strip().splitlines()[-1].split()
    return float(imported), float(done)


def _median(body: str, clients: str, env: dict[str, str], runs: int) -> tuple[float, float]:
    figures = [_fresh_ms(body, clients, env) for _ in range(runs)]
    return (
        round(statistics.median(f[0] for f in figures), 1),
        round(statistics.median(f[1] for f in figures), 1),
    )


def _floor(handler: str, env: dict[str, str]) -> tuple[str, str]:
    """The floor's probe for a handler, and its name: Powertools, plus pydantic and the HTTP
    resolver if the handler's import brings them in."""
    out = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-c", "import importlib.util, sys" + FRAMEWORKS.format(body=handler)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    models, api = (word == "True" for word in out.stdout.strip().splitlines()[-1].split())
    body = FLOOR + (FLOOR_MODELS if models else "") + (FLOOR_API if api else "")
    name = "powertools" + (" + pydantic" if models else "") + (" + resolver" if api else "")
    return body, name


def bare_command(services: tuple[str, ...]) -> str:
    """The baseline as a one-liner a reader can time with /usr/bin/time or hyperfine."""
    calls = "; ".join(f'boto3.client("{s}")' for s in services)
    return f"python -c 'import boto3; {calls}'"


def measure(runs: int) -> dict[str, object]:
    from devstack.functions import lambda_environment
    from devstack.template import load_model

    model = load_model(ROOT)
    base_env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'layers/hub'}{os.pathsep}{ROOT}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": model.pseudo.region,
    }
    bare: dict[tuple[str, ...], tuple[float, float]] = {}
    for services in sorted({BASELINE_CLIENTS, *FIRST_REQUEST_CLIENTS.values()}):
        bare[services] = _median(BARE, BARE_CLIENTS.format(services=services), base_env, runs)
    import_boto3_ms, baseline_ms = bare[BASELINE_CLIENTS]
    functions = {}
    for logical_id, spec in sorted(model.functions.items()):
        env = {**base_env, **lambda_environment(spec, model)}
        env.pop("POWERTOOLS_TRACE_DISABLED", None)  # tracing as deployed (Tracing: Active)
        env["AWS_XRAY_CONTEXT_MISSING"] = "IGNORE_ERROR"  # no daemon, no segment outside Lambda
        services = FIRST_REQUEST_CLIENTS.get(logical_id, BASELINE_CLIENTS)
        path = str((ROOT / spec.code_uri / "app.py").resolve())
        floor, floor_name = _floor(HANDLER.format(path=path), env)
        runs_of = [
            (
                _fresh_ms(BARE, BARE_CLIENTS.format(services=services), base_env),
                _fresh_ms(floor, HANDLER_CLIENTS.format(services=services), env),
                _fresh_ms(
                    HANDLER.format(path=path), HANDLER_CLIENTS.format(services=services), env
                ),
            )
            for _ in range(runs)
        ]
        init_ms = round(statistics.median(f[0] for _, _, f in runs_of), 1)
        functions[logical_id] = {
            "init_ms": init_ms,
            "vs_import_boto3": round(init_ms / import_boto3_ms, 2),
            "clients": list(services),
            "with_clients_ms": round(statistics.median(f[1] for _, _, f in runs_of), 1),
            "bare_client_ms": round(statistics.median(b[1] for b, _, _ in runs_of), 1),
            "vs_bare_client": round(statistics.median(f[1] / b[1] for b, _, f in runs_of), 2),
            # the frameworks the function uses and the same clients, nothing of the hub's own
            "floor": floor_name,
            "floor_ms": round(statistics.median(g[1] for _, g, _ in runs_of), 1),
            "floor_vs_bare_client": round(statistics.median(g[1] / b[1] for b, g, _ in runs_of), 2),
            "vs_floor": round(statistics.median(f[1] / g[1] for _, g, f in runs_of), 2),
            # the first request's clients once INIT is done: what SnapStart leaves of a cold
            # start besides Lambda's restore itself (README, "SnapStart")
            "after_restore_ms": round(statistics.median(f[1] - f[0] for _, _, f in runs_of), 1),
        }
    return {
        "runs": runs,
        "tracing": True,
        "goal_vs_bare_client": 1.3,
        "baseline_import_boto3_ms": import_boto3_ms,
        "baseline": {"command": bare_command(BASELINE_CLIENTS), "ms": baseline_ms},
        "bare_clients": {
            ",".join(s): {"command": bare_command(s), "ms": ms[1]} for s, ms in bare.items()
        },
        "functions": functions,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = measure(args.runs)
    base = report["baseline"]
    print(f"cold start with clients and tracing, median of {args.runs} fresh processes")
    print(f"  {base['command']:<52}{base['ms']:>8.1f} ms   1.00x")  # type: ignore[index]
    for name, fig in report["functions"].items():  # type: ignore[attr-defined]
        print(
            f"  {name:<34}{','.join(fig['clients']):<18}{fig['with_clients_ms']:>8.1f} ms"
            f"  {fig['vs_bare_client']:>5.2f}x the same clients bare (goal <= 1.3x);"
            f" framework floor {fig['floor_vs_bare_client']:.2f}x, the hub's code"
            f" {fig['vs_floor']:.2f}x on top"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
