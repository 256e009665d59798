"""Classify JSON Lines: `python -m omnihub.feedback.cli < in.jsonl > out.jsonl`.

Each input line is an object with a string "text"; its other keys (an "id", say) are passed
through. Each output line is those keys plus the classification, in input order. A bad line (not
UTF-8, not JSON, no string "text") becomes an error object in its place, so outputs stay aligned
with inputs, and the exit status is 1 at the end if any line was bad. Blank lines are skipped.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from omnihub.feedback.classifier import classify


def _error(line_no: int, message: str, obj: object = None) -> dict[str, Any]:
    error: dict[str, Any] = {
        "error": {"code": "invalid_line", "message": message, "details": [{"line": line_no}]}
    }
    if isinstance(obj, dict) and "id" in obj:
        error["id"] = obj["id"]
    return error


def classify_line(raw: bytes | str, line_no: int) -> tuple[dict[str, Any], bool]:
    """One output object for one input line, and whether the line was valid."""
    try:
        line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        return _error(line_no, f"not UTF-8: {exc.reason} at byte {exc.start}"), False
    try:
        obj = json.loads(line)
    except ValueError as exc:
        return _error(line_no, f"not JSON: {exc}"), False
    if not isinstance(obj, dict):
        return _error(line_no, "expected a JSON object"), False
    text = obj.get("text")
    if not isinstance(text, str):
        return _error(line_no, 'expected a string "text"', obj), False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _error(line_no, '"text" holds a lone surrogate escape', obj), False
    result = {k: v for k, v in obj.items() if k != "text"}
    result.update(classify(text).to_dict())
    return result, True


def run(lines: Iterable[bytes | str], out: TextIO) -> int:
    """Classify every line into `out`; returns the number of bad lines."""
    bad = 0
    for line_no, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        result, ok = classify_line(raw, line_no)
        bad += not ok
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    out.flush()
    return bad


def main() -> int:
    """Read stdin as bytes (a bad line must not stop the others), write UTF-8 to stdout."""
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
    return 1 if run(sys.stdin.buffer, sys.stdout) else 0


if __name__ == "__main__":
    raise SystemExit(main())
