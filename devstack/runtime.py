"""The event-source plumbing around the handlers: API Gateway, mappings, schedules, drain.

Everything runs in one process behind ONE global re-entrant lock, so invocations are serialised:
moto's in-memory backends are not safe under concurrent writes, and one event at a time per
function is also what a Lambda instance gives a handler. HTTP threads, the background pump and
the local helpers all take the lock per step, so they interleave but never overlap.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from devstack import moto_patches
from devstack.functions import LoadedFunction, call
from devstack.http_api import HttpGateway, HttpRequest, HttpResponse
from devstack.model import StackModel
from devstack.provision import RelayTarget
from devstack.queues import QueueConsumer, RelayConsumer
from devstack.schedules import due, scheduled_event
from devstack.streams import StreamConsumer
from omnihub.clock import VirtualClock, iso

log = logging.getLogger("devstack")


@dataclass
class DrainReport:
    """What one drain did: invocations and errors per function, and the DLQ depths after it."""

    invocations: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    dlq_depths: dict[str, int] = field(default_factory=dict)
    elapsed_ms: float = 0.0
    passes: int = 0
    complete: bool = True

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the `/_local/drain` answer)."""
        return asdict(self)


class DrainTimeout(TimeoutError):
    """The queues and streams did not settle in time; `report` says what happened meanwhile."""

    def __init__(self, report: DrainReport) -> None:
        super().__init__("drain timed out")
        self.report = report


class Runtime:
    """Invokes the template's functions for every trigger the template declares."""

    def __init__(
        self,
        model: StackModel,
        relays: list[RelayTarget],
        functions: dict[str, LoadedFunction],
        clients: dict[str, Any],
        clock: VirtualClock,
        clock_running: bool = False,
    ) -> None:
        self.model = model
        self.relays = relays
        self.functions = functions
        self.sqs = clients["sqs"]
        self.clock = clock
        self.clock_running = clock_running
        #: Schedules have fired for every occurrence up to here.
        self.schedule_cursor = clock.now()
        self.lock = threading.RLock()
        self.invocations: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        #: Wall time spent in each function's handler (moto included), for reports.
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.gateway = HttpGateway(model, self.invoke)
        self.streams = self._stream_consumers(clients["dynamodbstreams"])
        self.queues = self._queue_consumers()
        self.consumer_queue_urls = [c.url for c in self.queues]

    # -- construction ----------------------------------------------------------------------------
    def _stream_consumers(self, streams: Any) -> list[StreamConsumer]:
        consumers = []
        for mapping in self.model.stream_mappings:
            if not mapping.enabled or mapping.function not in self.model.functions:
                continue
            destination = self.model.queue_by_arn(mapping.on_failure_arn or "")
            consumers.append(
                StreamConsumer(
                    mapping,
                    function_arn=self.model.functions[mapping.function].arn,
                    region=self.model.pseudo.region,
                    streams=streams,
                    sqs=self.sqs,
                    invoke=self.invoke,
                    on_failure_url=destination.url if destination else None,
                )
            )
        return consumers

    def _queue_consumers(self) -> list[QueueConsumer | RelayConsumer]:
        consumers: list[QueueConsumer | RelayConsumer] = [
            QueueConsumer(
                mapping,
                url=self.model.queues[mapping.queue].url,
                region=self.model.pseudo.region,
                sqs=self.sqs,
                invoke=self.invoke,
            )
            for mapping in self.model.sqs_mappings
            if mapping.enabled and mapping.function in self.model.functions
        ]
        consumers += [RelayConsumer(r, sqs=self.sqs, invoke=self.invoke) for r in self.relays]
        return consumers

    # -- invocation ------------------------------------------------------------------------------
    def invoke(self, function: str, event: Any) -> Any:
        """Run one handler under the global lock. The event and the result go through JSON, as
        they do in Lambda, so a handler returning e.g. a Decimal fails here as it would there."""
        with self.lock:
            fn = self.functions.get(function)
            if fn is None:
                raise RuntimeError(f"{function} is not loaded (see the startup warnings)")
            self.invocations[function] += 1
            started = time.perf_counter()
            try:
                result = call(fn, json.loads(json.dumps(event)))
                return json.loads(json.dumps(result))
            except Exception:
                self.errors[function] += 1
                raise
            finally:
                self.seconds[function] += time.perf_counter() - started

    def http(self, request: HttpRequest) -> HttpResponse:
        """One request through the simulated API Gateway."""
        return self.gateway.handle(request)

    # -- pumping and draining --------------------------------------------------------------------
    def pump_step(self) -> bool:
        """One batch per mapping, under the lock; True when anything was delivered."""
        with self.lock:
            worked = False
            for stream in self.streams:
                worked = stream.pump() or worked
            if self.streams:
                moto_patches.prune_shard_iterators(
                    self.model.pseudo.account_id, self.model.pseudo.region
                )
            for queue in self.queues:
                worked = queue.pump() or worked
            return worked

    def _settled(self) -> bool:
        return not any(any(self._depth(url).values()) for url in self.consumer_queue_urls)

    def drain(self, timeout: float = 60.0) -> DrainReport:
        """Pump until every stream is consumed, every consumer queue (not DLQs) has nothing
        visible, in flight or delayed, and nothing runs; raise DrainTimeout after `timeout` s."""
        started = time.monotonic()
        invocations, errors = Counter(self.invocations), Counter(self.errors)
        report = DrainReport()
        while True:
            with self.lock:
                worked = self.pump_step()
                settled = not worked and self._settled()
            report.passes += 1
            if settled:
                break
            if time.monotonic() - started > timeout:
                report.complete = False
                break
            if not worked:
                time.sleep(0.02)  # only delayed or someone else's in-flight messages remain
        report.invocations = dict(self.invocations - invocations)
        report.errors = dict(self.errors - errors)
        report.dlq_depths = self.dlq_depths()
        report.elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        if not report.complete:
            raise DrainTimeout(report)
        return report

    # -- schedules and the virtual clock ---------------------------------------------------------
    def fire(self, name: str, when: datetime | None = None) -> dict[str, Any]:
        """Invoke a schedule's function as its occurrence at `when` (default: now), then drain."""
        spec = self.model.schedules[name]
        with self.lock:
            if when is not None:
                self.clock.set(when)
            at = when or self.clock.now()
            event = scheduled_event(
                spec, at, self.model.pseudo.account_id, self.model.pseudo.region
            )
            error = None
            try:
                self.invoke(spec.function, event)
            except Exception as failure:  # reported, as a failed async invoke
                log.warning("schedule %s failed", name, exc_info=True)
                error = f"{type(failure).__name__}: {failure}"
            report = self.drain()
        return {"schedule": name, "time": iso(at), "error": error, "drain": report.as_dict()}

    def advance_clock(self, target: datetime) -> list[dict[str, Any]]:
        """Move the virtual clock to `target`, firing every enabled schedule's occurrences since
        the last firing up to `target`, in time order, with the clock set to each and a drain
        after each. Moving back fires nothing. A running clock keeps flowing from `target`."""
        with self.lock:
            started = time.monotonic()
            occurrences = sorted(
                (when, name)
                for name, spec in self.model.schedules.items()
                if spec.enabled and spec.function in self.functions
                for when in due(spec, self.schedule_cursor, target)
            )
            if occurrences:
                self.drain()  # what is already queued happens before the first occurrence
            fired = [self.fire(name, when) for when, name in occurrences]
            self.schedule_cursor = target
            elapsed = time.monotonic() - started if self.clock_running else 0.0
            self.clock.set(target + timedelta(seconds=elapsed))
            return fired

    def catch_up(self) -> list[dict[str, Any]]:
        """Fire what a running clock has passed since the last firing (the dev server calls this
        in the background, so e.g. a per-minute sweep runs every minute of `make dev`)."""
        with self.lock:
            return self.advance_clock(self.clock.now())

    # -- inspection ------------------------------------------------------------------------------
    def _depth(self, url: str) -> dict[str, int]:
        names = {
            "visible": "ApproximateNumberOfMessages",
            "in_flight": "ApproximateNumberOfMessagesNotVisible",
            "delayed": "ApproximateNumberOfMessagesDelayed",
        }
        got = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names.values()))
        return {key: int(got["Attributes"][name]) for key, name in names.items()}

    def queue_depths(self) -> dict[str, dict[str, int]]:
        """Visible, in-flight and delayed messages of every template queue."""
        return {logical_id: self._depth(q.url) for logical_id, q in self.model.queues.items()}

    def dlq_depths(self) -> dict[str, int]:
        """Messages parked in each dead-letter queue."""
        depths = self.queue_depths()
        return {
            logical_id: depths[logical_id]["visible"] + depths[logical_id]["in_flight"]
            for logical_id in self.model.dead_letter_queues()
        }
