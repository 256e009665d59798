"""The JSON Lines entry point, run as a real subprocess the way `make classify` runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import omnihub

LAYER = Path(omnihub.__file__).resolve().parents[1]
FIELDS = {"intent", "sentiment", "score", "intensity", "topics", "risk", "evidence"}


def run_cli(stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(LAYER)}
    return subprocess.run(
        [sys.executable, "-m", "omnihub.feedback.cli"],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )


def lines(out: bytes) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.decode("utf-8").splitlines()]


def test_one_result_per_line_in_order_with_keys_passed_through() -> None:
    stdin = "\n".join(
        json.dumps({"id": i, "text": t}, ensure_ascii=False)
        for i, t in enumerate(["花生油有哈喇味", "米饭很香，还会再买", "请问保质期多久？"])
    )
    proc = run_cli(stdin.encode("utf-8"))
    assert proc.returncode == 0, proc.stderr
    results = lines(proc.stdout)
    assert [r["id"] for r in results] == [0, 1, 2]
    assert all(set(r) >= FIELDS for r in results)
    assert [r["risk"] for r in results] == ["high", "low", "low"]
    assert results[2]["intent"] == "inquiry"
    assert "哈喇味" in proc.stdout.decode("utf-8")  # ensure_ascii=False
    assert proc.stderr == b""


def test_bad_lines_become_error_objects_and_the_exit_status_is_non_zero() -> None:
    stdin = b"\n".join(
        [
            '{"id": "a", "text": "油桶漏油了"}'.encode(),
            b"not json",
            b'{"id": "c", "text": 5}',
            b"[1, 2]",
            b"\xff\xfe broken utf-8",
            b"",
            '{"id": "f", "text": "米很好吃"}'.encode(),
        ]
    )
    proc = run_cli(stdin)
    assert proc.returncode == 1
    results = lines(proc.stdout)
    assert len(results) == 6  # the blank line is skipped
    assert results[0]["id"] == "a"
    assert results[-1]["id"] == "f"
    assert results[-1]["sentiment"] == "pos"
    errors = [r["error"] for r in results[1:5]]
    assert all(e["code"] == "invalid_line" for e in errors)  # type: ignore[index]
    assert [e["details"] for e in errors] == [  # type: ignore[index]
        [{"line": 2}],
        [{"line": 3}],
        [{"line": 4}],
        [{"line": 5}],
    ]
    assert results[2]["id"] == "c"


def test_empty_input_gives_empty_output() -> None:
    proc = run_cli(b"")
    assert proc.returncode == 0
    assert proc.stdout == b""
