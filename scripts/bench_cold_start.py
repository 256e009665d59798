"""Cold start of every function: a fresh process imports and initialises its handler module.

Measured next to a bare `import boto3` in the same run, median of several fresh processes, so
the figure is a ratio to a baseline rather than a machine-dependent absolute. The handlers'
environment comes from template.yaml (as Lambda would set it); module init creates no AWS client
(adapters are lazy), so this is what Lambda's INIT phase costs before the first request.

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

PROBE = """
import time, importlib.util, sys
started = time.perf_counter()
{body}
print(round((time.perf_counter() - started) * 1000, 2))
"""
HANDLER = """
spec = importlib.util.spec_from_file_location("handler", {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules["handler"] = module
spec.loader.exec_module(module)
"""


def _fresh_ms(body: str, env: dict[str, str]) -> float:
    out = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-c", PROBE.format(body=body)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return float(out.stdout.strip().splitlines()[-1])


def _median(body: str, env: dict[str, str], runs: int) -> float:
    return round(statistics.median(_fresh_ms(body, env) for _ in range(runs)), 1)


def measure(runs: int) -> dict[str, object]:
    from devstack.functions import lambda_environment
    from devstack.template import load_model

    model = load_model(ROOT)
    base_env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'layers/hub'}{os.pathsep}{ROOT}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
    }
    baseline = _median("import boto3", base_env, runs)
    functions = {}
    for logical_id, spec in sorted(model.functions.items()):
        env = {**base_env, **lambda_environment(spec, model)}
        path = str((ROOT / spec.code_uri / "app.py").resolve())
        ms = _median(HANDLER.format(path=path), env, runs)
        functions[logical_id] = {"init_ms": ms, "vs_import_boto3": round(ms / baseline, 2)}
    return {"runs": runs, "baseline_import_boto3_ms": baseline, "functions": functions}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = measure(args.runs)
    print(f"cold start, median of {args.runs} fresh processes ({sys.version.split()[0]})")
    print(f"  {'import boto3 (baseline)':<34}{report['baseline_import_boto3_ms']:>8.1f} ms   1.00x")
    for name, fig in report["functions"].items():  # type: ignore[union-attr]
        print(f"  {name:<34}{fig['init_ms']:>8.1f} ms  {fig['vs_import_boto3']:>5.2f}x")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
