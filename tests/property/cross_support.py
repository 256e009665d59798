"""The cross-capability harness (issue 11): the real consumers on in-memory stores, one queue per
capability, a virtual clock (imported by the tests, not collected).

A channel event goes through the webhook's intake (identities arrive protected, as in AWS) onto
the bus; the bus routes it, and every domain event a store commits (the fakes' `published`, the
outbox of the real adapters), to the capabilities' queues by the rules of template.yaml, read
here so the routing cannot drift. Each queue is worked by its consumer's `handle`, with
`omnihub.wiring` (and the leaders adapter's factories) pointed at the fakes of tests/fakes.
Moving the clock runs the daily jobs (points daily work, the T+1 commission settlement) through
their handlers on the days they would have found something to do. Staff actions (redemption,
un-merge) go through the member API's handler with an admin's claims.

`Hub` drives one world; `run` replays a `History` in it, either once in time order with each
domain event handled right after its cause (the reference), or delivered as a seeded random
generator says: each queue in its own order, interleaved, with duplicates.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import random
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from hypothesis import strategies as st

from devstack.functions import FakeLambdaContext
from devstack.http_api import HttpRequest, RouteTable, build_event
from devstack.model import StackModel
from devstack.patterns import matches
from devstack.template import load_model
from omnihub import wiring
from omnihub.adapters import aws, work_queue
from omnihub.adapters import leaders_store as leaders_adapter
from omnihub.backbone import BusEvent
from omnihub.channels import CHANNEL_EVENT_SOURCE
from omnihub.clock import SHANGHAI, VirtualClock, iso, parse_iso, set_default_clock, wall_clock
from omnihub.consumer import PERMANENT
from omnihub.events.envelope import Envelope
from omnihub.feedback.knowledge import default_knowledge_base
from omnihub.identity.chain import live_root
from omnihub.leaders.days import ACTIVE_SHARDS
from omnihub.points.daily import SHARDS as POINTS_SHARDS
from omnihub.webhook.intake import Intake, accept
from omnihub.webhook.signature import sign
from tests.fakes.feedback_store import FakeFeedbackStore
from tests.fakes.identities import TEST_KEY, VAULT, ident
from tests.fakes.leaders_store import FakeLeadersStore
from tests.fakes.member_store import FakeMemberStore
from tests.fakes.points_store import FakePointsStore
from tests.fakes.ticket_store import FakeTicketStore

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 on Monday 2026-03-02 in Shanghai
SECRET = b"xcap-channel-secret"
MAX_RECEIVES = 5  # the queues' maxReceiveCount: then SQS parks the message in the DLQ
CONSUMERS = (
    "identity_consumer",
    "points_consumer",
    "leaders_consumer",
    "feedback_consumer",
    "tickets_consumer",
)
FUNCTIONS = (*CONSUMERS, "points_work", "commission_work", "member_api")
STORES = ("members", "points", "leaders", "tickets", "feedback")

Identity = tuple[str, str]  # (type, raw value as a channel sends it)


# -- the template: routing, functions, parameters ---------------------------------------------
@cache
def stack_model() -> StackModel:
    return load_model(ROOT)


def _function_dir(model: StackModel, logical_id: str) -> str:
    return Path(model.functions[logical_id].code_uri).name


@cache
def queue_consumers() -> dict[str, str]:
    """Each capability queue of the template and the function (directory) that works it."""
    model = stack_model()
    found = {m.queue: _function_dir(model, m.function) for m in model.sqs_mappings if m.enabled}
    return {queue: fn for queue, fn in found.items() if fn in CONSUMERS}


@cache
def bus_routes() -> tuple[tuple[dict[str, Any], str], ...]:
    """(event pattern, queue) of every enabled rule that targets a capability queue."""
    model = stack_model()
    queue_by_arn = {q.arn: q.logical_id for q in model.queues.values()}
    consumers = queue_consumers()
    routes = []
    for rule in model.rules.values():
        for target in rule.targets if rule.enabled else ():
            queue = queue_by_arn.get(target.arn)
            if queue in consumers:
                routes.append((rule.pattern, queue))
    return tuple(routes)


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@cache
def function_environment() -> dict[str, str]:
    """What the template sets on the functions driven here (table names, parameter path...),
    with quiet logs and no tracing."""
    model = stack_model()
    env: dict[str, str] = {}
    for spec in model.functions.values():
        if Path(spec.code_uri).name in FUNCTIONS:
            env.update(spec.environment)
    env.pop("POWERTOOLS_SERVICE_NAME", None)
    env.update(
        {
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "OmniHubCrossCapability",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    return env


@cache
def functions() -> dict[str, ModuleType]:
    """The functions' `app` modules, imported once under names of their own."""
    loaded = {}
    with _environment(function_environment()):
        for name in FUNCTIONS:
            source = ROOT / "functions" / name / "app.py"
            spec = importlib.util.spec_from_file_location(f"xcap_{name}_app", source)
            assert spec is not None
            assert spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            loaded[name] = module
    return loaded


class FakeParameters:
    """SSM as the template seeds it (rule sets), plus the test PII key and channel secrets.
    Names are matched below `/omnihub/<stage>/`, whatever stage the settings carry."""

    def __init__(self) -> None:
        self.values = {
            self._below_stage(p.name): p.value for p in stack_model().ssm_parameters.values()
        }

    @staticmethod
    def _below_stage(name: str) -> str:
        return "/".join(name.strip("/").split("/")[2:])

    def get(self, name: str) -> str | None:
        rest = self._below_stage(name)
        if rest in ("pii-key", "member-id-key", "member-code-key"):
            return TEST_KEY
        if rest.startswith("channels/") and rest.endswith("/secret"):
            return SECRET.decode()
        return self.values.get(rest)

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise RuntimeError(f"SSM parameter {name} is missing")
        return value


def _no_aws(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the cross-capability harness reached for AWS: wire a fake instead")


def _once(factory: Callable[[], Any]) -> Callable[[], Any]:
    """The factory's first answer, kept (for rule sets: parsed once per world)."""
    kept: list[Any] = []

    def first() -> Any:
        if not kept:
            kept.append(factory())
        return kept[0]

    return first


class _QuietMetrics:
    """Metrics that count nothing: EMF output is not what these tests look at."""

    def add_metric(self, *args: Any, **kwargs: Any) -> None:
        return None


_QUIET_METRICS = _QuietMetrics()


@cache
def _routes_by_type() -> dict[tuple[str, str], tuple[str, ...]] | None:
    """Queues by (source, detail-type) when every rule lists plain values of just those two
    fields (routing is then a lookup); None: every event goes through the pattern matcher."""
    routes = bus_routes()
    plain = all(
        set(pattern) == {"source", "detail-type"}
        and all(isinstance(v, str) for values in pattern.values() for v in values)
        for pattern, _ in routes
    )
    if not plain:
        return None
    table: dict[tuple[str, str], list[str]] = {}
    for pattern, queue in routes:
        for source in pattern["source"]:
            for detail_type in pattern["detail-type"]:
                table.setdefault((source, detail_type), []).append(queue)
    return {key: tuple(queues) for key, queues in table.items()}


def _queues_for(event: dict[str, Any]) -> tuple[str, ...]:
    table = _routes_by_type()
    if table is None:
        return tuple(q for pattern, q in bus_routes() if matches(pattern, event))
    return table.get((event["source"], event["detail-type"]), ())


# -- channel events ----------------------------------------------------------------------------
def body(
    event_id: str,
    event_type: str,
    at: datetime,
    identities: Sequence[Identity],
    data: dict[str, Any] | None = None,
) -> str:
    """A channel's webhook body as JSON text."""
    return json.dumps(
        {
            "event_id": event_id,
            "type": event_type,
            "occurred_at": at.astimezone(SHANGHAI).isoformat(),
            "member": {"identities": [{"type": t, "value": v} for t, v in identities]},
            "data": data or {},
        },
        ensure_ascii=False,
        sort_keys=True,
    )


class _Capture:
    """The event log's inbound half: what the webhook accepted."""

    def __init__(self) -> None:
        self.envelope: Envelope | None = None

    def append_inbound(self, envelope: Envelope, body_sha256: str) -> str:
        self.envelope = envelope
        return "accepted"


# Envelopes are made once per body (both runs of a history replay the same ones) and kept, so
# their ids stay valid keys of the bus details made from them.
_ENVELOPES: dict[tuple[str, str, datetime], Envelope] = {}
_ENVELOPE_DETAILS: dict[int, dict[str, Any]] = {}


def protect(channel: str, raw: str, received_at: datetime) -> Envelope:
    """What the webhook logs for this body: validated, identities keyed, sealed and masked."""
    key = (channel, raw, received_at)
    if key not in _ENVELOPES:
        log = _Capture()
        intake = Intake(
            secret_for=lambda _channel: SECRET,
            vault=lambda: VAULT,
            log=log,
            clock=VirtualClock(received_at),
            wall_clock=wall_clock(),
        )
        data = raw.encode()
        accept(intake, channel, sign(SECRET, data, int(time.time())), data)
        assert log.envelope is not None
        _ENVELOPES[key] = log.envelope
    return _ENVELOPES[key]


def identity_key(identity: Identity) -> tuple[str, str]:
    """The claim key (type, keyed lookup hash) the webhook makes of an identity."""
    protected = ident(*identity)
    assert protected.key is not None, identity
    return identity[0], protected.key


def label(identity: Identity) -> str:
    return f"{identity[0]}:{identity[1]}"


# -- what the end state is, by person -----------------------------------------------------------
@dataclass(frozen=True)
class Person:
    """What the hub holds for a person, read at the live member behind one of their identities."""

    available: int
    pending: int
    debt: int
    tier: str
    leader: str | None
    tickets: int
    feedback: int


@dataclass(frozen=True)
class State:
    people: dict[str, Person | None]  # identity label -> its live member's state (None: nobody)
    together: tuple[tuple[str, ...], ...]  # identities held by one live member
    leaders: dict[str, tuple[Any, ...]]  # leader -> (available, pending, statements)
    parked: tuple[tuple[str, str, str], ...] = field(compare=False)  # (queue, type, cause)

    def differences(self, other: State) -> list[str]:
        out = []
        for name in sorted(set(self.people) | set(other.people)):
            mine, theirs = self.people.get(name), other.people.get(name)
            if mine != theirs:
                out.append(f"{name}: {mine} != {theirs}")
        if self.together != other.together:
            out.append(f"members: {self.together} != {other.together}")
        for leader in sorted(set(self.leaders) | set(other.leaders)):
            if self.leaders.get(leader) != other.leaders.get(leader):
                out.append(f"{leader}: {self.leaders.get(leader)} != {other.leaders.get(leader)}")
        return out


# -- one world ---------------------------------------------------------------------------------
@dataclass
class Message:
    queue: str
    body: str
    kind: str
    cause: str
    seq: int
    copies: int = 0
    receives: int = 0


def _fake(cls: type, **candidates: Any) -> Any:
    """A fake built with those of `candidates` it takes (fakes grow fields as ports grow)."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in candidates.items() if k in names})


class Hub:
    """The hub on fakes. `rnd` None: every queue is worked oldest message first across all
    queues (a message's domain events come right after it); otherwise `rnd` picks the queue
    and the message each time, and copies a handled message back with `duplicate_rate`."""

    def __init__(
        self,
        start: datetime = T0,
        rnd: random.Random | None = None,
        duplicate_rate: float = 0.0,
    ) -> None:
        self.clock = VirtualClock(start)
        self.rnd = rnd
        self.duplicate_rate = duplicate_rate
        self.members = FakeMemberStore()
        self.points = FakePointsStore()
        self.leaders = FakeLeadersStore()
        self.tickets = _fake(FakeTicketStore, members=self.members)
        self.feedback = _fake(FakeFeedbackStore, member_is_live=self._live, members=self.members)
        self.queues: dict[str, list[Message]] = {q: [] for q in queue_consumers()}
        self.parked: list[tuple[str, str, str]] = []  # (queue, event type, cause)
        self.failures: list[str] = []  # every receive that raised a retryable error
        self.lost: list[str] = []  # messages parked after MAX_RECEIVES retryable failures
        self.commission_work: list[dict[str, Any]] = []
        self.first_request: dict[str, str] = {}  # redemption id -> member id it was sent for
        self.first_answer: dict[str, int] = {}  # redemption id -> the status first answered
        self._seq = 0
        self._forwarded = dict.fromkeys(STORES, 0)
        self._points_ran: datetime | None = None
        self._parameters = FakeParameters()

    # -- wiring --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def installed(self) -> Iterator[Hub]:
        """Point the wiring (and every module that imported a factory by name) at this hub."""
        swaps: list[tuple[Any, str, Any]] = [
            (wiring, "member_store", lambda: self.members),
            (wiring, "points_store", lambda: self.points),
            (wiring, "ticket_store", lambda: self.tickets),
            (wiring, "feedback_store", lambda: self.feedback),
            (wiring, "parameters", lambda: self._parameters),
            # the vault the envelopes were protected with (tests.fakes.identities)
            (wiring, "vault", lambda: VAULT),
            (wiring, "lookup_vault", lambda: VAULT),
            # the knowledge table's content is the seed (tests/integration reads the table)
            (wiring, "knowledge_base", default_knowledge_base),
            (leaders_adapter, "leaders_store", lambda: self.leaders),
            (work_queue, "queue_work", self.commission_work.extend),
            (aws, "client", _no_aws),
            # rule sets are parsed once per world, not once per message (they do not change here)
            (wiring, "points_rules", _once(wiring.points_rules)),
            (leaders_adapter, "commission_scheme", _once(leaders_adapter.commission_scheme)),
        ]
        swaps += [(fn, "metrics", _QUIET_METRICS) for fn in functions().values()]
        new_of = {id(getattr(module, name)): new for module, name, new in swaps}
        old_of = {id(getattr(module, name)): getattr(module, name) for module, name, _ in swaps}
        scope = [m for n, m in list(sys.modules.items()) if n.startswith("omnihub") and m]
        scope += functions().values()
        undo: list[tuple[ModuleType, str, Any]] = []
        for module in scope:
            for name, value in list(vars(module).items()):
                if id(value) in new_of and old_of[id(value)] is value:
                    undo.append((module, name, value))
                    setattr(module, name, new_of[id(value)])
        set_default_clock(self.clock)
        try:
            with _environment(function_environment()):
                yield self
        finally:
            set_default_clock(None)
            for module, name, value in reversed(undo):
                setattr(module, name, value)
            functions()["member_api"].metrics.clear_metrics()

    def _live(self, member_id: str) -> bool:
        row = self.members.member_rows.get(member_id)
        return row is not None and row.merged_into is None and row.erased_at is None

    # -- the bus and the queues ----------------------------------------------------------------
    def publish(self, source: str, detail_type: str, detail: dict[str, Any], cause: str) -> None:
        """EventBridge: the event goes to the queue of every rule whose pattern it matches."""
        event = {"source": source, "detail-type": detail_type, "detail": detail}
        queues = _queues_for(event)
        if queues:
            text = json.dumps(event, ensure_ascii=False, sort_keys=True)
            for queue in queues:
                self._seq += 1
                self.queues[queue].append(Message(queue, text, detail_type, cause, self._seq))

    def publish_envelope(self, envelope: Envelope) -> None:
        detail = _ENVELOPE_DETAILS.get(id(envelope))
        if detail is None:
            detail = _ENVELOPE_DETAILS[id(envelope)] = json.loads(envelope.model_dump_json())
        self.publish(CHANNEL_EVENT_SOURCE, envelope.type, detail, envelope.causing_event_id)

    def post(self, channel: str, raw: str) -> Envelope:
        """A channel posts a webhook now: accepted and on the bus (not yet handled)."""
        envelope = protect(channel, raw, self.clock.now())
        self.publish_envelope(envelope)
        return envelope

    def forward(self) -> None:
        """Publish what the stores committed since the last look (the outbox forwarder)."""
        for name in STORES:
            store = getattr(self, name)
            if len(store.published) == self._forwarded[name]:
                continue
            published = list(store.published.values())
            for event in published[self._forwarded[name] :]:
                detail = json.loads(json.dumps(event.detail(), ensure_ascii=False, default=str))
                self.publish(event.source, event.type, detail, event.causing_event_id)
            self._forwarded[name] = len(published)

    def deliver(self, message: Message) -> None:
        """One receive of a message by its queue's consumer, as the SQS consumer does it."""
        consumer = functions()[queue_consumers()[message.queue]]
        message.receives += 1
        try:
            consumer.handle(BusEvent.from_sqs_body(message.body))
        except PERMANENT:
            self.parked.append((message.queue, message.kind, message.cause))
        except Exception as error:  # retried by SQS, then parked
            failure = f"{message.queue} {message.kind} {message.cause}: {error!r}"
            self.failures.append(failure)
            if message.receives >= MAX_RECEIVES:
                self.parked.append((message.queue, message.kind, message.cause))
                self.lost.append(failure)
            else:
                self._again(message)
        else:
            if (
                self.rnd is not None
                and message.copies < 2
                and self.rnd.random() < self.duplicate_rate
            ):
                message.copies += 1
                self._again(message)
        self.forward()

    def _again(self, message: Message) -> None:
        self._seq += 1
        message.seq = self._seq
        self.queues[message.queue].append(message)

    def drain(self, hold: Sequence[str] = ()) -> None:
        """Work every queue (but the held ones) until they are empty. Delivered at random, each
        queue keeps a pace of its own for the drain: a slow consumer's queue fills up, and its
        messages (a merge and the merge of its survivor, say) are then handled in any order."""
        pace = {q: self.rnd.choice((1, 4, 16)) for q in self.queues} if self.rnd else {}
        while True:
            ready = [q for q, pending in self.queues.items() if pending and q not in hold]
            if not ready:
                return
            if self.rnd is None:
                queue = min(ready, key=lambda q: self.queues[q][0].seq)
                message = self.queues[queue].pop(0)
            else:
                queue = self.rnd.choices(ready, [pace[q] for q in ready])[0]
                pending = self.queues[queue]
                message = pending.pop(self.rnd.randrange(len(pending)))
            self.deliver(message)

    def deliver_newest_first(self, queue: str) -> None:
        """Hand a queue's waiting messages to its consumer newest first, then drain."""
        waiting, self.queues[queue] = self.queues[queue], []
        for message in reversed(waiting):
            self.deliver(message)
        self.drain()

    def waiting(self, queue: str) -> list[str]:
        return [m.kind for m in self.queues[queue]]

    # -- time and the daily jobs ---------------------------------------------------------------
    def advance(self, target: datetime) -> None:
        """Move the clock to `target`, running the daily jobs on every day they find work."""
        while True:
            jobs: list[tuple[datetime, Callable[[datetime], None]]] = []
            due = self._points_due()
            if due is not None:
                jobs.append((self._next_points_run(due), self._run_points))
            day = self._first_open_day()
            if day is not None:
                run_at = _local(day, 2) + timedelta(days=1)
                jobs.append((max(run_at, self.clock.now()), self._settle))
            if not jobs:
                break
            when, job = min(jobs, key=lambda j: j[0])
            if when > target:
                break
            self.clock.set(when)
            job(when)
            self.forward()
            self.drain()
        if target > self.clock.now():
            self.clock.set(target)

    def _points_due(self) -> datetime | None:
        times = [
            o.matures_at
            for o in self.points.orders.values()
            if getattr(o, "matures_at", None) and not getattr(o, "matured", False)
        ]
        times += [
            a.due_at
            for a in self.points.accounts.values()
            if getattr(a, "due_at", None) and not getattr(a, "merged_into", None)
        ]
        return parse_iso(min(times)) if times else None

    def _next_points_run(self, due: datetime) -> datetime:
        """points-daily runs at 00:30 Shanghai: the first run at or after `due`, once a day."""
        earliest = max(due, self.clock.now())
        if self._points_ran is not None:
            earliest = max(earliest, self._points_ran + timedelta(hours=1))
        local = earliest.astimezone(SHANGHAI)
        run = local.replace(hour=0, minute=30, second=0, microsecond=0)
        if run < local:
            run += timedelta(days=1)
        return run.astimezone(UTC)

    def _run_points(self, at: datetime) -> None:
        """points-daily's fan-out, each message handled by points-work."""
        self._points_ran = at
        work = functions()["points_work"]
        for kind in ("order", "account"):
            for shard in range(POINTS_SHARDS):
                work.handle(
                    work.WorkItem.model_validate({"kind": kind, "shard": shard, "until": iso(at)})
                )

    def _first_open_day(self) -> str | None:
        days = [d.day for d in self.leaders.leader_days.values() if d.status == "open"]
        return min(days) if days else None

    def _settle(self, at: datetime) -> None:
        """commission-settlement's work for the earliest open day, each shard by commission-work."""
        day = self._first_open_day()
        assert day is not None
        work = functions()["commission_work"]
        self.commission_work.extend(
            {"kind": "settle", "day": day, "shard": s} for s in range(ACTIVE_SHARDS)
        )
        while self.commission_work:
            work.handle(work.WorkItem.model_validate(self.commission_work.pop(0)))
        if self._first_open_day() == day:
            raise AssertionError(f"the T+1 run left {day} open")

    # -- staff actions through the member API ------------------------------------------------
    def api(self, method: str, path: str, payload: dict[str, Any] | None = None) -> tuple[int, Any]:
        model = stack_model()
        matched = _route_table().match(method, path)
        assert matched is not None, path
        route, params = matched
        request = HttpRequest(
            method=method,
            path=path,
            headers=(("content-type", "application/json"),),
            body=json.dumps(payload).encode() if payload is not None else b"",
        )
        claims = {"sub": "admin-1", "cognito:groups": "[admin]"}  # as API Gateway hands it over
        event = build_event(request, route, model.apis[route.api], params, claims, "123456789012")
        handler = functions()["member_api"].lambda_handler
        with warnings.catch_warnings():  # metrics are off here: nothing to flush is expected
            warnings.filterwarnings("ignore", "No application metrics to publish")
            answer = handler(event, FakeLambdaContext(model.functions[route.function]))
        self.forward()
        return answer["statusCode"], json.loads(answer["body"]) if answer.get("body") else None

    def redeem(
        self, identity: Identity, redemption_id: str, points: int, retry: bool = False
    ) -> int | None:
        """An admin redeems for the member holding `identity`. A retry repeats a request that
        was answered 201 (its answer lost on the way back), for the member id it named; a
        request refused (409) may succeed later, so it is not repeated."""
        if retry:
            if self.first_answer.get(redemption_id) != 201:
                return None
            member_id: str | None = self.first_request[redemption_id]
        else:
            member_id = self.member_of(identity)
        if member_id is None:
            return None  # nobody holds the identity yet: there is no one to redeem for
        self.first_request.setdefault(redemption_id, member_id)
        status, _ = self.api(
            "POST",
            f"/v1/members/{member_id}/redemptions",
            {"redemption_id": redemption_id, "points": points, "reward": "oil-1L"},
        )
        assert status in (201, 409), status
        self.first_answer.setdefault(redemption_id, status)
        self.drain()
        return status

    def unmerge(self, identity: Identity) -> str:
        """An admin splits `identity` (and what came with it) out of its member."""
        member_id = self.member_of(identity)
        assert member_id is not None, identity
        status, answer = self.api(
            "POST",
            f"/v1/members/{member_id}/unmerge",
            {"identity": {"type": identity[0], "value": identity[1]}},
        )
        assert status == 200, answer
        self.drain()
        return str(answer["new_member_id"])

    # -- reading -------------------------------------------------------------------------------
    def member_of(self, identity: Identity) -> str | None:
        """The live member holding an identity now (None: nobody)."""
        ref = identity_key(identity)
        holder = self.members.claims([ref]).get(ref)
        return live_root(self.members, holder)[0] if holder else None

    def person(self, identity: Identity) -> Person | None:
        root = self.member_of(identity)
        if root is None:
            return None
        account = self.points.account(root)
        binding = self.leaders.binding(root)
        return Person(
            available=account.available,
            pending=account.pending,
            debt=account.debt,
            tier=account.tier,
            leader=binding.leader_id if binding and binding.moved_to is None else None,
            tickets=sum(1 for t in self.tickets.tickets.values() if t.member_id == root),
            feedback=sum(1 for r in self.feedback.records.values() if r.member_id == root),
        )

    def leader_books(self, leader_id: str) -> tuple[Any, ...]:
        days = self.leaders.days(leader_id, "0001-01-01", "9999-12-31")
        statements = tuple(
            (s.date, s.opening_fen, s.earned_fen, s.reversed_fen, s.withdrawn_fen, s.closing_fen)
            for s in (d.statement for d in days)
            if s is not None
        )
        account = self.leaders.account(leader_id)
        return account.available_fen, self.leaders.pending_fen(leader_id), statements

    def state(self, identities: Sequence[Identity], leaders: Sequence[str]) -> State:
        people = {label(i): self.person(i) for i in identities}
        groups: dict[str, list[str]] = {}
        for i in identities:
            root = self.member_of(i)
            if root is not None:
                groups.setdefault(root, []).append(label(i))
        return State(
            people=people,
            together=tuple(sorted(tuple(sorted(g)) for g in groups.values())),
            leaders={leader: self.leader_books(leader) for leader in leaders},
            parked=tuple(sorted(self.parked)),
        )

    def orphans(self) -> list[str]:
        """What sits on a member that is not live (merged away): nothing may."""
        rows = self.members.member_rows
        absorbed = {m for m, row in rows.items() if row.merged_into is not None}
        found = [
            f"ticket {t.ticket_id} on absorbed {t.member_id}"
            for t in self.tickets.tickets.values()
            if t.member_id in absorbed
        ]
        found += [
            f"feedback {ref} on absorbed {r.member_id}"
            for ref, r in self.feedback.records.items()
            if r.member_id in absorbed
        ]
        found += [
            f"points {(a.available, a.pending, a.debt)} on absorbed {a.member_id}"
            for a in self.points.accounts.values()
            if a.member_id in absorbed and (a.available or a.pending or a.debt)
        ]
        found += [
            f"binding to {b.leader_id} on absorbed {b.member_id}"
            for b in self.leaders.bindings.values()
            if b.member_id in absorbed and b.moved_to is None
        ]
        return found


@cache
def _route_table() -> RouteTable:
    return RouteTable(stack_model().routes)


def _local(day: str, hour: int) -> datetime:
    """`hour` o'clock of a Shanghai day, in UTC."""
    local = datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=SHANGHAI)
    return local.astimezone(UTC)


# -- histories ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Post:
    """A channel event posted to the webhook at `at` (the clock shows `received` by then)."""

    at: datetime
    channel: str
    raw: str
    received: datetime
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Redeem:
    identity: Identity
    redemption_id: str
    points: int
    retry: bool = False  # a repeat of an earlier request: the reference sends each request once
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Unmerge:
    identity: Identity
    tags: frozenset[str] = frozenset()


Action = Redeem | Unmerge


@dataclass(frozen=True)
class Epoch:
    """Staff actions at `base` (queues empty), then channel events within the next hours."""

    base: datetime
    actions: tuple[Action, ...] = ()
    posts: tuple[Post, ...] = ()

    @property
    def now(self) -> datetime:
        """When the epoch's events are handled: after every one of them happened."""
        return self.base + timedelta(hours=6)


@dataclass(frozen=True)
class History:
    epochs: tuple[Epoch, ...]
    identities: tuple[Identity, ...]
    leaders: tuple[str, ...]
    notes: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def end(self) -> datetime:
        """Late enough for the last completions to mature and their days to be settled."""
        return self.epochs[-1].base + timedelta(days=9)

    def without(self, tag: str) -> History:
        """The history with every post and action tagged `tag` left out."""
        epochs = tuple(
            Epoch(
                e.base,
                tuple(a for a in e.actions if tag not in a.tags),
                tuple(p for p in e.posts if tag not in p.tags),
            )
            for e in self.epochs
        )
        return History(epochs, self.identities, self.leaders, self.notes)

    def __repr__(self) -> str:
        return f"History(\n{self.describe()}\n)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How Hypothesis shows a falsifying history: one line per event."""
        printer.text(repr(self))

    def tagged(self, tag: str) -> list[Post]:
        return [p for e in self.epochs for p in e.posts if tag in p.tags]

    def describe(self) -> str:
        lines = []
        for n, e in enumerate(self.epochs):
            lines.append(f"epoch {n} at {iso(e.base)}")
            lines += [f"  action {a}" for a in e.actions]
            for p in e.posts:
                b = json.loads(p.raw)
                ids = ",".join(f"{i['type']}:{i['value']}" for i in b["member"]["identities"])
                tags = f" {sorted(p.tags)}" if p.tags else ""
                data = json.dumps(b["data"], ensure_ascii=False)
                lines.append(f"  {p.channel:11} {b['type']:18} {ids} {data}{tags}")
        return "\n".join(lines)


def run(
    history: History,
    rnd: random.Random | None = None,
    duplicate_rate: float = 0.0,
) -> tuple[Hub, State]:
    """Replay a history. rnd None: in time order, each request once, each domain event handled
    right after its cause. Otherwise every epoch's events arrive at once and `rnd` delivers
    them (and what they cause) queue by queue in any order, with duplicates and retries."""
    hub = Hub(
        start=history.epochs[0].base - timedelta(hours=1), rnd=rnd, duplicate_rate=duplicate_rate
    )
    with hub.installed():
        for epoch in history.epochs:
            hub.advance(epoch.base)
            for action in epoch.actions:
                if isinstance(action, Unmerge):
                    hub.unmerge(action.identity)
                elif not (action.retry and rnd is None):
                    hub.redeem(action.identity, action.redemption_id, action.points, action.retry)
            hub.advance(epoch.now)
            for post in sorted(epoch.posts, key=lambda p: p.at):
                hub.publish_envelope(protect(post.channel, post.raw, post.received))
                if rnd is None:
                    hub.drain()
            hub.drain()
        hub.advance(history.end)
        state = hub.state(history.identities, history.leaders)
    return hub, state


# -- the world histories are drawn from --------------------------------------------------------
#: A person's accounts: what each channel knows of them. Accounts of one person are joined by
#: link events (an identity of each), so a person ends as one member whatever the order.
CHANNEL_OF = {"mp": "miniprogram", "gb": "groupbuy", "app": "app", "tm": "tmall", "pos": "pos"}
FEEDBACK_TEXTS = (
    "油桶漏油了，箱子里全是油",  # a complaint: a P2 ticket
    "花生油有哈喇味，怀疑变质了",  # food safety: a P1 ticket and an alert
    "米很香，孩子爱吃，下次还买",  # praise: thanked, no ticket
    "你们周末门店几点关门？",  # an inquiry nobody answers yet: a P3 ticket
)
CATEGORIES = ("rice", "oil", "flour")
FLAVORS = ("plain", "plain", "unmerge", "expiry")
EVENT_MINUTES = {
    "leader.registered": 0,
    "member.identified": 10,
    "link": 20,
    "wrong_link": 25,
    "points.activity": 40,
    "order.paid": 60,  # one instant for every payment of an epoch (see Buyer)
    "order.completed": 120,
    "order.refunded": 180,
    "feedback.received": 240,
}


def phone_of(n: int) -> Identity:
    return ("phone", f"1391234{n:04d}")


def account_identities(n: int, account: str) -> list[Identity]:
    return {
        "mp": [phone_of(n), ("wechat_unionid", f"union-{n}"), ("wechat_openid", f"wxapp01:op-{n}")],
        "gb": [phone_of(n)],
        "app": [phone_of(n)],
        "tm": [("tmall_omid", f"omid-{n}")],
        "pos": [("store_card", f"SC-9{n:05d}")],
    }[account]


def leader_identity(k: int) -> Identity:
    return ("phone", f"1375555{k:04d}")


@dataclass
class Buyer:
    """A person who buys. A person with a leader buys only through the leader's link (group
    buying): who an order counts for is decided when its payment is handled (decision D36), so
    an order without the link could count or not by delivery order alone."""

    n: int
    accounts: list[str]
    leader: str | None = None
    links: dict[str, int] = field(default_factory=dict)  # account -> epoch it is linked in
    born: dict[str, int] = field(default_factory=dict)  # account -> first epoch it may appear
    quiet: set[int] = field(default_factory=set)  # epochs with no event of this person
    small: bool = False
    redeems: bool = True
    activity: bool = True

    @property
    def anchor(self) -> str:
        phones = [a for a in self.accounts if a in ("mp", "gb", "app")]
        return phones[0] if phones else self.accounts[0]

    def rep(self, account: str) -> Identity:
        return account_identities(self.n, account)[0]

    @property
    def identities(self) -> list[Identity]:
        return list(dict.fromkeys(i for a in self.accounts for i in account_identities(self.n, a)))

    def may_trade(self, epoch: int) -> bool:
        """Orders, completions and refunds never share an epoch with the person's links: a
        payment handled before or after a merge would be priced at either account's tier."""
        return epoch not in self.links.values() and epoch not in self.quiet

    def linked_before(self, epoch: int) -> bool:
        return len(self.links) == len(self.accounts) - 1 and all(
            e < epoch for e in self.links.values()
        )

    @property
    def order_accounts(self) -> list[str]:
        if self.leader:
            return ["gb"]
        return [a for a in self.accounts if a != "gb"]


class _Builder:
    """Draws one history. Its constraints keep "the history in time order" well defined, so a
    difference between the runs is a defect, not a legitimate dependence on delivery order:
    - a person's identities stay within the per-type limits, so no merge is ever refused;
    - every payment of an epoch happens at one instant, and a person with a leader pays only
      through the leader's link (who an order counts for is decided when it is handled, D36);
    - a person has no payment, completion or refund in an epoch where their accounts are
      linked (an order freezes the multiplier of the tier of the member it finds);
    - at most one activity a person a day, never near the daily cap;
    - a refund is wrong by itself (a line the order lacks, more than the line) or fits what is
      left of its lines with every other refund of the order: never wrong only in sum;
    - staff actions happen between epochs, with every queue empty; only then the clock moves.
    Flavors: plain; unmerge (a phone glued to another person's, split by an admin an epoch
    later; judged against the history without the glue); expiry (a last epoch 430 days on,
    refunding orders whose points have expired).
    """

    def __init__(self, draw: Callable[[Any], Any], flavor: str) -> None:
        self.draw = draw
        self.flavor = flavor
        self.count = 0
        self.orders = 0
        self.posts: dict[int, list[Post]] = {}
        self.actions: dict[int, list[Action]] = {}
        self.notes: dict[str, Any] = {"flavor": flavor}
        self.glued = 0

    def shape(self, name: str) -> None:
        """Note a shape the history has (the property reports how often each was drawn)."""
        self.notes.setdefault("shapes", set()).add(name)

    def pick(self, options: Sequence[Any]) -> Any:
        return self.draw(st.sampled_from(list(options)))

    def chance(self, p: float) -> bool:
        """True with probability p; shrinks to False (a smaller history)."""
        return self.draw(st.integers(0, 99)) >= 100 - int(p * 100)

    def emit(
        self,
        epoch: int,
        channel: str,
        kind: str,
        identities: Sequence[Identity],
        data: dict[str, Any] | None = None,
        tags: Sequence[str] = (),
        event_type: str | None = None,
    ) -> None:
        self.count += 1
        base = self.bases[epoch]
        at = base + timedelta(minutes=EVENT_MINUTES[kind], seconds=self.count)
        if kind == "order.paid":
            at = base + timedelta(minutes=EVENT_MINUTES[kind])
        raw = body(f"ev-{self.count:04d}", event_type or kind, at, identities, data)
        post = Post(at, channel, raw, base + timedelta(hours=6), frozenset(tags))
        self.posts.setdefault(epoch, []).append(post)

    # -- the shape ---------------------------------------------------------------------------
    def build(self) -> History:
        draw = self.draw
        gaps = [1, 2, 8, 31]
        if self.flavor == "expiry":
            count = draw(st.integers(2, 3))
            offsets = [0]
            for _ in range(count - 1):
                offsets.append(offsets[-1] + self.pick(gaps))
            offsets.append(offsets[-1] + 430)  # past the end of the points' 12th month
        else:
            count = draw(st.integers(3, 5))
            offsets = [0]
            for _ in range(count - 1):
                offsets.append(offsets[-1] + self.pick(gaps))
        self.bases = [T0 + timedelta(days=d) for d in offsets]
        self.epochs = len(self.bases)
        self.leaders = [f"ldr-{k}" for k in range(draw(st.integers(1, 2)))]
        for k, leader in enumerate(self.leaders):
            self.emit(
                0,
                "groupbuy",
                "leader.registered",
                [leader_identity(k)],
                {"leader_id": leader, "name": f"团长{k}", "community": "阳光小区"},
            )
        self.buyers = [self.buyer(n) for n in range(draw(st.integers(2, 4)))]
        if self.flavor == "unmerge":
            self.wrong_link()
        for buyer in self.buyers:
            self.links_and_logins(buyer)
        for epoch in range(self.epochs):
            for buyer in self.buyers:
                self.life(buyer, epoch)
        if self.flavor == "expiry":
            self.refunds_after_expiry()
        identities = [i for b in self.buyers for i in b.identities]
        identities += [leader_identity(k) for k in range(len(self.leaders))]
        epochs = tuple(
            Epoch(
                self.bases[e],
                tuple(self.actions.get(e, ())),
                tuple(self.posts.get(e, ())),
            )
            for e in range(self.epochs)
        )
        return History(epochs, tuple(identities), tuple(self.leaders), self.notes)

    def buyer(self, n: int) -> Buyer:
        draw = self.draw
        leader = self.pick([None, *self.leaders]) if self.flavor != "unmerge" or n else None
        kinds = list(draw(st.permutations(["mp", "tm", "pos"])))
        many = self.pick([1, 2, 3, 3])  # three accounts often: the shape of a merge chain
        if leader:
            accounts = ["gb", *kinds[: many - 1]]
        else:
            accounts = kinds[:many]
            if self.flavor == "unmerge" and n == 0 and "mp" not in accounts:
                accounts = ["mp", *accounts[:2]]
        return Buyer(
            n,
            accounts,
            leader,
            small=self.flavor == "unmerge",
            redeems=self.flavor == "plain",
        )

    def wrong_link(self) -> None:
        """Un-merge: a victim's phone typed into another person's account glues the two; an
        admin splits it out at the next epoch. Both stay quiet meanwhile (apart from what the
        victim does), so the split can be judged against the history without the glue."""
        draw = self.draw
        glued = draw(st.integers(1, self.epochs - 2))
        holder = self.buyers[0]
        holder.quiet.add(glued)
        holder.redeems = False
        victim = Buyer(90, ["app"], self.pick([None, *self.leaders]), small=True, redeems=False)
        if victim.leader:
            victim.accounts.append("gb")
        victim.activity = False
        self.buyers.append(victim)
        self.notes.update(holder=holder.n, victim=victim.n, glued=glued)
        self.shape("a phone glued to another person's, split by an admin")
        self.emit(draw(st.integers(0, glued - 1)), "app", "member.identified", [victim.rep("app")])
        self.emit(
            draw(st.integers(0, glued - 1)),
            "miniprogram",
            "member.identified",
            account_identities(holder.n, "mp"),
        )
        self.emit(
            glued,
            "app",
            "wrong_link",
            [phone_of(holder.n), phone_of(victim.n)],
            tags=["wrong_link"],
            event_type="member.identified",
        )
        self.actions.setdefault(glued + 1, []).append(
            Unmerge(phone_of(victim.n), tags=frozenset({"wrong_link"}))
        )
        self.glued = glued

    def links_and_logins(self, buyer: Buyer) -> None:
        """Accounts appear (a login, or any event naming them) and get linked. A person with
        three accounts is often linked twice in one epoch with the phone account the middle
        one by age, so that one merge absorbs into a member that another merge absorbs: the
        chain A<-B, C<-A whose merges the capabilities may handle in either order."""
        draw = self.draw
        if buyer.n == 90:
            return
        last = self.epochs - 1 if self.flavor == "expiry" else self.epochs
        limit = self.glued if self.flavor == "unmerge" and buyer.n == 0 else last
        others = [
            a for a in buyer.accounts if a != buyer.anchor and not {a, buyer.anchor} <= {"gb", "mp"}
        ]
        if len(others) == 2 and limit >= 3 and self.chance(0.6):
            linked = draw(st.integers(2, limit - 1))
            first, newest = draw(st.permutations(others))
            ages = sorted(
                draw(
                    st.lists(st.integers(0, linked - 1), min_size=3, max_size=3, unique=linked >= 3)
                )
            )
            buyer.born = {first: ages[0], buyer.anchor: ages[1], newest: ages[2]}
            self.count += 1
            self.emit(  # points on the member absorbed first (it is not linked that day)
                ages[2],
                CHANNEL_OF[newest],
                "points.activity",
                account_identities(buyer.n, newest),
                {"activity_id": f"act-{self.count}", "kind": "survey"},
            )
            if "mp" in buyer.accounts and "gb" in buyer.accounts:
                buyer.born["mp" if buyer.anchor == "gb" else "gb"] = ages[1]
            for account in others:
                buyer.links[account] = linked
            self.shape("three accounts linked in one epoch: a merge chain")
        elif others and self.chance(0.8):
            # the anchor is the oldest account: each linked account is absorbed into it
            buyer.born[buyer.anchor] = 0
            for account in others:
                linked = draw(st.integers(0, limit - 1))
                buyer.links[account] = linked
                buyer.born[account] = draw(st.integers(min(1, linked), linked))
        for account, epoch in sorted(buyer.links.items(), key=lambda kv: kv[1]):
            self.emit(
                epoch,
                CHANNEL_OF[account],
                "link",
                [buyer.rep(account), buyer.rep(buyer.anchor)],
                event_type="member.identified",
            )
        for account in buyer.accounts:
            born = buyer.born.get(account)
            if born is not None or self.chance(0.5):
                epoch = born if born is not None else draw(st.integers(0, self.epochs - 1))
                if epoch not in buyer.quiet:
                    self.emit(
                        epoch,
                        CHANNEL_OF[account],
                        "member.identified",
                        account_identities(buyer.n, account),
                    )

    # -- what a person does in an epoch ------------------------------------------------------
    def life(self, buyer: Buyer, epoch: int) -> None:
        draw = self.draw
        if epoch in buyer.quiet:
            return
        live = [a for a in buyer.accounts if buyer.born.get(a, 0) <= epoch]
        if buyer.may_trade(epoch):
            for _ in range(draw(st.integers(0, 1 if buyer.small else 2))):
                self.order(buyer, epoch, live)
        if buyer.activity and live and self.chance(0.5):  # one a day: never near the cap
            account = self.pick(live)
            self.count += 1
            self.emit(
                epoch,
                CHANNEL_OF[account],
                "points.activity",
                account_identities(buyer.n, account),
                {
                    "activity_id": f"act-{self.count}",
                    "kind": self.pick(["checkin", "survey", "review"]),
                },
            )
        linked_now = [a for a, e in buyer.links.items() if e == epoch]
        if live and self.chance(0.6 if linked_now else 0.4):
            # in an epoch of links, often from an account being linked: a ticket requested for
            # a member that a merge absorbs meanwhile
            account = self.pick(linked_now if linked_now and self.chance(0.7) else live)
            self.count += 1
            data: dict[str, Any] = {
                "feedback_id": f"fb-{self.count}",
                "text": self.pick(FEEDBACK_TEXTS),
                "kind": "review",
            }
            if self.chance(0.3):
                data["rating"] = draw(st.integers(1, 5))
            self.emit(
                epoch,
                CHANNEL_OF[account],
                "feedback.received",
                account_identities(buyer.n, account),
                data,
            )
        if buyer.redeems and epoch > 0 and self.chance(0.4):
            self.redemption(buyer, epoch)

    def order(self, buyer: Buyer, epoch: int, live: Sequence[str]) -> None:
        draw = self.draw
        accounts = [a for a in buyer.order_accounts if a in live]
        if not accounts:
            return
        self.orders += 1
        order_id = f"SO{self.orders:04d}"
        account = self.pick(accounts)
        # small: two people's spend together stays below gold, so a glued member's tier (and
        # the multiplier it freezes on an order) is the one either person would have alone
        ceiling = 4_000 if buyer.small else self.pick([990, 60_000])
        items = [
            {
                "line_id": f"L{k + 1}",
                "sku": f"SKU-{k}",
                "category": self.pick(CATEGORIES),
                "qty": 1,
                "paid_fen": draw(st.integers(1, ceiling)),
            }
            for k in range(draw(st.integers(1, 2 if buyer.small else 3)))
        ]
        data: dict[str, Any] = {
            "order_id": order_id,
            "amount_fen": sum(i["paid_fen"] for i in items),
            "items": items,
        }
        if buyer.leader:
            data["leader_id"] = buyer.leader
        ids = account_identities(buyer.n, account)
        self.emit(epoch, CHANNEL_OF[account], "order.paid", ids, data)
        others = [a for a in accounts if a != account]
        if others and buyer.linked_before(epoch) and self.chance(0.3):
            second = self.pick(others)  # one order, reported by two channels
            self.shape("one order reported by two channels")
            self.emit(
                epoch, CHANNEL_OF[second], "order.paid", account_identities(buyer.n, second), data
            )
        later = [e for e in range(epoch, self.epochs) if buyer.may_trade(e)]
        if self.flavor == "expiry":
            later = [e for e in later if e < self.epochs - 1] or later
        completed = self.pick([None, *later])
        if completed is not None:
            self.emit(
                completed, CHANNEL_OF[account], "order.completed", ids, {"order_id": order_id}
            )
        left = {i["line_id"]: i["paid_fen"] for i in items}
        for _ in range(draw(st.integers(0, 2))):
            self.refund(buyer, order_id, account, self.pick(later), left, items)
        self.notes.setdefault("orders", []).append(
            (buyer.n, order_id, epoch, completed, account, left)
        )

    def refund(
        self,
        buyer: Buyer,
        order_id: str,
        account: str,
        epoch: int,
        left: dict[str, int],
        items: list[dict[str, Any]],
        tags: Sequence[str] = (),
        bad: bool = True,
    ) -> None:
        """A refund within what is left of its lines, or (sometimes) one that is wrong by
        itself: a line the order lacks, or more than the line was paid."""
        draw = self.draw
        kind = self.pick(["good", "good", "good", "unknown_line", "too_much"]) if bad else "good"
        if kind != "good":
            self.shape("a refund wrong by itself")
        if kind == "unknown_line":
            lines = [{"line_id": "L9", "amount_fen": draw(st.integers(1, 500))}]
        elif kind == "too_much":
            item = self.pick(items)
            lines = [
                {
                    "line_id": item["line_id"],
                    "amount_fen": item["paid_fen"] + draw(st.integers(1, 500)),
                }
            ]
        else:
            open_lines = [line for line, fen in left.items() if fen > 0]
            if not open_lines:
                return
            chosen = draw(st.lists(st.sampled_from(open_lines), unique=True, min_size=1))
            lines = []
            for line in sorted(chosen):
                amount = draw(st.integers(1, left[line]))
                left[line] -= amount
                lines.append({"line_id": line, "amount_fen": amount})
        self.count += 1
        data = {"order_id": order_id, "refund_id": f"rf-{self.count}", "lines": lines}
        ids = account_identities(buyer.n, account)
        self.emit(epoch, CHANNEL_OF[account], "order.refunded", ids, data, tags)

    def redemption(self, buyer: Buyer, epoch: int) -> None:
        """A redemption at the epoch's start; often for an account linked later on, with the
        request repeated after the link (a lost answer retried once its member merged)."""
        draw = self.draw
        linked_later = [
            (a, e)
            for a, e in sorted(buyer.links.items())
            if e >= epoch and buyer.born.get(a, 0) < epoch
        ]
        if linked_later and self.chance(0.8):
            account, linked = self.pick(linked_later)
            again = list(range(linked + 1, self.epochs))
            # points to spend, on the account's own member (it is not linked that day)
            self.count += 1
            self.emit(
                epoch - 1,
                CHANNEL_OF[account],
                "points.activity",
                account_identities(buyer.n, account),
                {"activity_id": f"act-{self.count}", "kind": "survey"},
            )
            if again:
                self.shape("a redemption repeated after its account was linked")
        else:
            account = self.pick(buyer.accounts)
            again = list(range(epoch + 1, self.epochs))
        self.count += 1
        request = Redeem(buyer.rep(account), f"rd-{self.count}", draw(st.integers(5, 15)))
        self.actions.setdefault(epoch, []).append(request)
        if again and self.chance(0.7):
            retry = Redeem(request.identity, request.redemption_id, request.points, retry=True)
            self.actions.setdefault(self.pick(again), []).append(retry)

    def refunds_after_expiry(self) -> None:
        """Refunds, after the long gap, of orders whose points matured and then expired."""
        last = self.epochs - 1
        for n, order_id, _paid, completed, account, left in self.notes.get("orders", []):
            if completed is None or completed >= last or not any(left.values()):
                continue
            if self.chance(0.7):
                buyer = next(b for b in self.buyers if b.n == n)
                items = [{"line_id": k, "paid_fen": v} for k, v in left.items()]
                self.refund(
                    buyer, order_id, account, last, left, items, ["expired_refund"], bad=False
                )
                self.shape("a refund after the order's points expired")


def histories() -> Any:
    """Histories of identity, order, activity, feedback and ticket events (see `_Builder`)."""

    @st.composite
    def build(draw: Callable[[Any], Any]) -> History:
        flavor = draw(st.sampled_from(FLAVORS))
        return _Builder(draw, flavor).build()

    return build()
