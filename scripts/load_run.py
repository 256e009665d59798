"""A bounded load run on loopback against the local stack (`make dev`), with its own checks.

    python scripts/load_run.py [--events 2000] [--clients 8] [--json PATH]

Starts `python -m devstack serve` on a free 127.0.0.1 port, and `--clients` threads post
`--events` signed events (order.paid for distinct people, one in ten posted twice on purpose),
then waits for /_local/drain. It checks that every distinct event was accepted once and every
repeat answered duplicate, that each person became exactly one member and earned exactly once,
and that no dead-letter queue holds anything. Traffic goes only to the loopback server it
started, and the run stops by itself (bounded count, per-request timeouts).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _call(
    base: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 - a loopback URL we built
        base + path, data=body, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _event(n: int) -> bytes:
    return json.dumps(
        {
            "event_id": f"load-{n}",
            "type": "order.paid",
            "occurred_at": "2026-11-11T10:00:00+08:00",
            "member": {"identities": [{"type": "phone", "value": f"137{n:08d}"}]},
            "data": {
                "order_id": f"LOAD-{n}",
                "amount_fen": 10_000,
                "items": [
                    {
                        "line_id": "L1",
                        "sku": "RICE",
                        "category": "rice",
                        "qty": 1,
                        "paid_fen": 10_000,
                    }
                ],
            },
        }
    ).encode()


def _signed(body: bytes) -> dict[str, str]:
    t = int(time.time())
    digest = hmac.new(b"local-tmall-secret", f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Omni-Signature": f"t={t},v1={digest}", "Content-Type": "application/json"}


def run(events: int, clients: int) -> dict[str, Any]:
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'layers/hub'}{os.pathsep}{ROOT}",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    server = subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", "devstack", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if _call(base, "GET", "/_local/clock")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the local stack did not start") from None
                time.sleep(0.2)
        work = [n for n in range(events)] + [n for n in range(0, events, 10)]  # 10% repeats
        statuses: Counter[int] = Counter()
        lock = threading.Lock()

        def client(share: list[int]) -> None:
            for n in share:
                body = _event(n)
                status, _ = _call(base, "POST", "/v1/channels/tmall/events", body, _signed(body))
                with lock:
                    statuses[status] += 1

        started = time.perf_counter()
        threads = [
            threading.Thread(target=client, args=(work[i::clients],)) for i in range(clients)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        posted = time.perf_counter() - started
        status, drained = _call(base, "POST", "/_local/drain")
        total = time.perf_counter() - started
        token = subprocess.run(
            [sys.executable, "-m", "devstack", "token", "--role", "agent"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        auth = {"Authorization": f"Bearer {token}"}
        sample = range(0, events, max(1, events // 50))
        earned_once = 0
        for n in sample:
            _, found = _call(
                base, "GET", f"/v1/members/lookup?type=phone&value=137{n:08d}", headers=auth
            )
            _, balance = _call(
                base, "GET", f"/v1/members/{found['member_id']}/points", headers=auth
            )
            earned_once += balance["pending"] == 100 and len(balance["ledger"]) == 1
        return {
            "events": events,
            "repeats": len(work) - events,
            "clients": clients,
            "statuses": dict(statuses),
            "webhook_requests_per_second": round(len(work) / posted, 1),
            "end_to_end_events_per_second": round(events / total, 1),
            "drained": status == 200,
            "dead_letters": sum(drained.get("dlq_depths", {}).values()),
            "sampled_members_earned_exactly_once": f"{earned_once}/{len(sample)}",
            "ok": statuses == Counter({202: events, 200: len(work) - events})
            and earned_once == len(sample)
            and not sum(drained.get("dlq_depths", {}).values()),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = run(args.events, args.clients)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
