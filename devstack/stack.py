"""`LocalStack`: the whole app in process, for tests, the demo and `python -m devstack serve`.

    with LocalStack.start(Path(".")) as stack:
        stack.post_channel_event("tmall", {...})
        stack.drain()
        status, headers, body = stack.http("GET", "/v1/members/lookup",
                                           query={"type": "phone", "value": "13800000001"},
                                           headers=stack.auth("agent"))

Starting it: moto's mock, the moto patches, the template's resources, the seeded secrets, a
virtual business clock set to real now, and every function's handler imported in its environment.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
from moto import mock_aws

from devstack import local_jwt, moto_patches
from devstack.functions import LoadedFunction, load_function, unload
from devstack.http_api import HttpRequest, HttpResponse
from devstack.model import StackModel
from devstack.moto_cfn import session_for
from devstack.provision import RelayTarget, local_channel_secret, provision
from devstack.runtime import DrainReport, Runtime
from devstack.template import load_model

log = logging.getLogger("devstack")

#: The webhook route (a contract, not a template detail).
CHANNEL_EVENTS_PATH = "/v1/channels/{channel}/events"
SIGNATURE_HEADER = "X-Omni-Signature"

Body = bytes | str | Mapping[str, Any] | list[Any] | None


def sign(secret: str, raw_body: bytes, t: int) -> str:
    """The X-Omni-Signature value: `t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`."""
    digest = hmac.new(secret.encode(), f"{t}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def streams_client(session: boto3.Session, region: str) -> Any:
    """A DynamoDB Streams client moto answers: moto 5.2.5 does not intercept the China endpoint
    (`streams.dynamodb.<region>.amazonaws.com.cn` answers 404), so use the `.com` form."""
    endpoint = f"https://streams.dynamodb.{region}.amazonaws.com"
    return session.client("dynamodbstreams", region_name=region, endpoint_url=endpoint)


@contextmanager
def _process_settings(model: StackModel) -> Iterator[None]:
    """Region variables and the layer directories on sys.path for the stack's lifetime."""
    saved = {key: os.environ.get(key) for key in ("AWS_DEFAULT_REGION", "AWS_REGION")}
    os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"] = model.pseudo.region
    added = []
    for layer in model.layer_dirs:
        for candidate in (layer / "python", layer):
            if candidate.is_dir() and str(candidate) not in sys.path:
                sys.path.append(str(candidate))
                added.append(str(candidate))
                break
    try:
        yield
    finally:
        for path in added:
            if path in sys.path:
                sys.path.remove(path)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class LocalStack:
    """The template's app running in moto, driven in process."""

    def __init__(
        self,
        model: StackModel,
        relays: list[RelayTarget],
        runtime: Runtime,
        session: boto3.Session,
        load_errors: dict[str, str],
        startup_s: float,
    ) -> None:
        self.model = model
        self.relays = relays
        self.runtime = runtime
        self.session = session
        self.load_errors = load_errors
        self.startup_s = startup_s
        self._clients: dict[str, Any] = {}

    @classmethod
    @contextmanager
    def start(
        cls,
        root: Path | str = ".",
        *,
        template: Path | None = None,
        parameters: Mapping[str, str] | None = None,
        env_overrides: Mapping[str, str] | None = None,
        now: datetime | None = None,
        clock_running: bool = True,
        strict: bool = True,
        region: str | None = None,
    ) -> Iterator[LocalStack]:
        """Stand the stack up, yield it, tear it down.

        The business clock starts at `now` (default: real now) and flows like real time unless
        `clock_running=False` (tests freeze it). `strict=False` keeps going when a handler fails
        to import (its routes then answer 500) and lists it in `load_errors`."""
        from omnihub.clock import VirtualClock, set_default_clock

        started = time.perf_counter()
        functions: dict[str, LoadedFunction] = {}
        with mock_aws(), moto_patches.patched():
            model = load_model(Path(root), template=template, parameters=parameters, region=region)
            with _process_settings(model):
                log.info("no local meaning: %s", model.no_local_meaning)
                session = session_for(model.pseudo.region)
                relays = provision(model)
                clock = VirtualClock(now or datetime.now(UTC), running=clock_running)
                set_default_clock(clock)
                try:
                    load_errors: dict[str, str] = {}
                    for logical_id, spec in model.functions.items():
                        try:
                            functions[logical_id] = load_function(spec, model, env_overrides)
                        except Exception as error:
                            if strict:
                                raise
                            log.warning("cannot load %s", logical_id, exc_info=True)
                            load_errors[logical_id] = f"{type(error).__name__}: {error}"
                    clients = {
                        "sqs": session.client("sqs"),
                        "dynamodbstreams": streams_client(session, model.pseudo.region),
                    }
                    runtime = Runtime(model, relays, functions, clients, clock, clock_running)
                    stack = cls(
                        model,
                        relays,
                        runtime,
                        session,
                        load_errors,
                        time.perf_counter() - started,
                    )
                    yield stack
                finally:
                    for fn in functions.values():
                        unload(fn)
                    set_default_clock(None)

    # -- AWS access ------------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        """A boto3 client on the mocked account (cached per service)."""
        if service not in self._clients:
            self._clients[service] = self.session.client(service)
        return self._clients[service]

    def table_name(self, logical_id: str) -> str:
        """Physical name of a template table."""
        return self.model.tables[logical_id].name

    def queue_url(self, logical_id: str) -> str:
        """The URL of a template queue."""
        return self.model.queues[logical_id].url

    def set_parameter(self, name: str, value: str) -> None:
        """Put an SSM parameter as `aws ssm put-parameter --overwrite` would, in force at once.

        A rule set's value (omnihub.rulesets) is validated as the loader would read it first:
        RuleSetRejected (naming the field) and nothing stored when it is broken. Any other name
        is stored as given (an existing parameter keeps its type). Then every process cache of
        parameters and rule sets is dropped: no restart, no data lost."""
        from omnihub import rulesets, wiring

        rulesets.validate(name, value)
        with self.runtime.lock:
            kind = (self._parameter(name) or {}).get("Type", "String")
            self.client("ssm").put_parameter(Name=name, Value=value, Type=kind, Overwrite=True)
            wiring.forget_cached()

    def parameter(self, name: str) -> str | None:
        """An SSM parameter's value (decrypted), or None when there is none."""
        found = self._parameter(name)
        return None if found is None else str(found["Value"])

    def _parameter(self, name: str) -> dict[str, Any] | None:
        ssm = self.client("ssm")
        try:
            return dict(ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"])
        except ssm.exceptions.ParameterNotFound:
            return None

    # -- HTTP ------------------------------------------------------------------------------------
    def http_request(self, request: HttpRequest) -> HttpResponse:
        """A raw request through the simulated API Gateway (the server uses this)."""
        return self.runtime.http(request)

    def http(
        self,
        method: str,
        path: str,
        *,
        body: Body = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | str | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """Call the API; answers (status, headers, body as JSON, text or None)."""
        all_headers = dict(headers or {})
        raw = _encode_body(body, all_headers)
        path, _, inline_query = path.partition("?")
        if query is None:
            query_text = inline_query
        elif isinstance(query, str):
            query_text = query
        else:
            query_text = urlencode(query, doseq=True)
        all_headers.setdefault("User-Agent", "devstack")
        request = HttpRequest(
            method=method.upper(),
            path=path,
            query=query_text,
            headers=tuple(all_headers.items()),
            body=raw,
        )
        response = self.http_request(request)
        return response.status, response.headers, response.json()

    # -- webhooks --------------------------------------------------------------------------------
    def channel_secret(self, channel: str) -> str:
        """The seeded webhook secret of a channel (devstack.provision seeds it for every path)."""
        return local_channel_secret(channel)

    def sign_channel_event(
        self, channel: str, raw_body: bytes, t: int | None = None
    ) -> dict[str, str]:
        """Headers a channel sends: the signature (timestamp from REAL time) and the type."""
        stamp = int(time.time()) if t is None else t
        return {
            SIGNATURE_HEADER: sign(self.channel_secret(channel), raw_body, stamp),
            "Content-Type": "application/json",
        }

    def post_channel_event(
        self, channel: str, event: Mapping[str, Any]
    ) -> tuple[int, dict[str, str], Any]:
        """Sign and post one channel event to the webhook."""
        raw = json.dumps(event, ensure_ascii=False).encode("utf-8")
        path = CHANNEL_EVENTS_PATH.format(channel=channel)
        return self.http("POST", path, body=raw, headers=self.sign_channel_event(channel, raw))

    # -- tokens ----------------------------------------------------------------------------------
    def token(
        self,
        role: str | Sequence[str],
        leader: str | None = None,
        store: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """A bearer token the local JWT authorizer accepts, claims placed as the template says."""
        return local_jwt.issue(
            role,
            self.model.jwt_audience(),
            leader=leader,
            store=store,
            claim_names=self.model.claim_names(),
            extra=extra,
        )

    def auth(
        self,
        role: str | Sequence[str],
        leader: str | None = None,
        store: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, str]:
        """An Authorization header for `role` (a list: a token in several groups)."""
        return {"Authorization": f"Bearer {self.token(role, leader, store, extra)}"}

    # -- plumbing --------------------------------------------------------------------------------
    def drain(self, timeout: float = 60.0) -> DrainReport:
        """Run every consumer until queues and streams are empty (see Runtime.drain)."""
        return self.runtime.drain(timeout)

    def now(self) -> datetime:
        """The virtual business time."""
        now: datetime = self.runtime.clock.now()
        return now

    def set_clock(self, when: datetime) -> list[dict[str, Any]]:
        """Move business time, firing the schedules due on the way; returns what fired."""
        return self.runtime.advance_clock(when)

    def fire_schedule(self, name: str) -> dict[str, Any]:
        """Fire a schedule now (by its template Name), then drain."""
        return self.runtime.fire(name)

    def queue_depths(self) -> dict[str, dict[str, int]]:
        """Visible / in-flight / delayed messages per template queue."""
        return self.runtime.queue_depths()

    def dlq_messages(self, queue_logical_id: str) -> list[dict[str, Any]]:
        """The messages parked in a DLQ (or in the DLQ of the named consumer queue), left in
        place."""
        spec = self.model.queues[queue_logical_id]
        spec = self.model.queue_by_arn(spec.dead_letter_arn or "") or spec
        sqs = self.client("sqs")
        url = spec.url
        seen: dict[str, dict[str, Any]] = {}
        with self.runtime.lock:
            while True:
                got = sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=10,
                    VisibilityTimeout=30,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
                if not got:
                    break
                for message in got:
                    seen[message["MessageId"]] = message
            for message in seen.values():
                sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
        return [
            {
                "message_id": m["MessageId"],
                "body": _maybe_json(m["Body"]),
                "attributes": m.get("Attributes", {}),
                "message_attributes": m.get("MessageAttributes", {}),
            }
            for m in seen.values()
        ]

    @property
    def invocations(self) -> dict[str, int]:
        """Invocations per function logical id since start."""
        return dict(self.runtime.invocations)

    @property
    def errors(self) -> dict[str, int]:
        """Failed invocations per function logical id since start."""
        return dict(self.runtime.errors)


def _encode_body(body: Body, headers: dict[str, str]) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json"
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _maybe_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
