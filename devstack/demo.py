"""`make demo`: replay a day of channel events through the local stack and report.

Minimal frame for now: it posts every event of `events/day/*.json` (each file a JSON list of
`{"channel": ..., "event": {...envelope...}}`, replayed in file-name order), drains, and prints
invocations and DLQ depths. Domain reports (members merged, points, tickets, commissions,
reconciliation) are added as more `Section`s in `SECTIONS`; each gets the running stack.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from devstack.stack import LocalStack

#: Handlers' own logs are for `make dev`; the demo prints a report instead.
QUIET = {"POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"}


@dataclass
class Replay:
    """What the replay did, for the sections to report on."""

    posted: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    seconds: float = 0.0
    drain: dict[str, Any] = field(default_factory=dict)


Section = Callable[[LocalStack, Replay], list[str]]


def load_day(root: Path) -> list[dict[str, Any]]:
    """Every `{"channel", "event"}` entry of events/day/*.json, in file-name order."""
    entries: list[dict[str, Any]] = []
    for path in sorted((root / "events" / "day").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a JSON list of {{channel, event}}")
        entries.extend(data)
    return entries


def day_ends(entries: list[dict[str, Any]]) -> datetime | None:
    """Business time just after the day's last event: the demo's clock starts there, so a day
    recorded on a fixed date tells the same story whenever it runs (activity windows, pending
    periods and SLA clocks are measured from it, not from the real date). None (real now) for
    a day whose events carry no time."""
    times = [
        datetime.fromisoformat(e["event"]["occurred_at"])
        for e in entries
        if isinstance(e.get("event"), dict) and e["event"].get("occurred_at")
    ]
    return max(times) + timedelta(minutes=5) if times else None


def replay(stack: LocalStack, entries: list[dict[str, Any]]) -> Replay:
    """Post each event through the signed webhook, then drain every consumer."""
    result = Replay()
    started = time.perf_counter()
    for entry in entries:
        status, _, _ = stack.post_channel_event(entry["channel"], entry["event"])
        result.statuses[status] += 1
        result.posted += 1
    result.drain = stack.drain(timeout=300).as_dict()
    result.seconds = time.perf_counter() - started
    return result


def section_traffic(stack: LocalStack, run: Replay) -> list[str]:
    """Webhook answers, in words (the HTTP status beside each)."""
    words = {202: "accepted", 200: "already had (a channel re-sent it)", 401: "refused (signature)"}
    answers = ", ".join(
        f"{n} {words.get(code, 'answered')} ({code})" for code, n in sorted(run.statuses.items())
    )
    return [f"events posted: {run.posted}: {answers or 'none'}; in {run.seconds:.1f}s"]


def section_invocations(stack: LocalStack, run: Replay) -> list[str]:
    """Invocations and errors per function."""
    lines = ["invocations:"]
    for name, count in sorted(stack.invocations.items()):
        errors = stack.errors.get(name, 0)
        seconds = stack.runtime.seconds[name]
        lines.append(
            f"  {name:<32} {count:>6}  {seconds:6.1f}s" + (f"  ({errors} failed)" if errors else "")
        )
    return lines


def section_dead_letters(stack: LocalStack, run: Replay) -> list[str]:
    """Every DLQ should be empty after a clean day."""
    depths = run.drain.get("dlq_depths", {})
    parked = {name: n for name, n in depths.items() if n}
    if not parked:
        return ["dead-letter queues: all empty"]
    return ["dead-letter queues:"] + [f"  {name:<32} {n:>6}" for name, n in sorted(parked.items())]


def _domain_sections() -> list[Section]:
    from devstack.demo_feedback import section_feedback
    from devstack.demo_identity import section_one_id
    from devstack.demo_leaders import section_leaders
    from devstack.demo_points import section_points
    from devstack.demo_tickets import section_tickets

    # tickets move the clock half an hour, points a week: their order tells the story
    return [section_one_id, section_feedback, section_tickets, section_points, section_leaders]


#: What any app's replay reports; the product's own sections follow it in SECTIONS.
FRAME_SECTIONS: list[Section] = [section_traffic, section_invocations, section_dead_letters]
SECTIONS: list[Section] = [*FRAME_SECTIONS, *_domain_sections()]


def main(
    root: Path | None = None, sections: list[Section] | None = None, region: str | None = None
) -> int:
    """Run the demo; non-zero when a message ended in a dead-letter queue.

    Handlers' output (JSON logs, EMF metrics) goes to build/demo-handlers.log; the console gets
    the report.
    """
    base = (root or Path(".")).resolve()
    entries = load_day(base)
    log_path = base / "build" / "demo-handlers.log"
    log_path.parent.mkdir(exist_ok=True)
    report: list[str] = []
    with (
        log_path.open("w", encoding="utf-8") as log,
        contextlib.redirect_stdout(log),
        LocalStack.start(base, env_overrides=QUIET, now=day_ends(entries), region=region) as stack,
    ):
        report.append(
            f"local stack up in {stack.startup_s:.1f}s ({stack.model.pseudo.region}); "
            f"replaying {len(entries)} events"
        )
        run = replay(stack, entries)
        for section in SECTIONS if sections is None else sections:
            report.extend(section(stack, run))
    report.append(f"handler logs and metrics: {log_path.relative_to(base)}")
    print("\n".join(report))
    return 1 if any(run.drain.get("dlq_depths", {}).values()) else 0
