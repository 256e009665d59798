"""`python -m devstack serve`: the local stack behind a real HTTP port (loopback by default).

A ThreadingHTTPServer hands each request to the simulated API Gateway; a background pump thread
keeps streams and queues flowing so webhooks reach their consumers without being asked. The
runtime's global lock serialises all of it, and the same thread fires the schedules the running
business clock passes. Local-only helpers (never in the template):

    GET  /_local/clock             -> {"now"}
    POST /_local/clock {"now"}     -> moves business time, firing due schedules (409 backwards)
    POST /_local/schedules/{name}  -> fires a schedule now, then drains
    POST /_local/drain             -> 200 when everything settled, 504 on timeout
    POST /_local/knowledge {"entry"} -> adds or changes a knowledge entry, in force at once
    GET  /_local/status            -> invocations, errors, queue depths, schedules
    POST /_local/parameters {"name", "value"} -> puts an SSM parameter (a rule set validated:
                                      422 naming the field), in force at once
    GET  /_local/parameters?name=  -> {"name", "value"}, 404 when there is none
    GET  /openapi.json, GET /docs  -> the merged OpenAPI document and a Swagger UI page, whose
                                      scripts and styles /docs/* serves from the project
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from devstack.http_api import HttpRequest, HttpResponse, gateway_error
from devstack.openapi import SWAGGER_PAGE, merged_openapi, swagger_asset
from devstack.runtime import DrainTimeout
from devstack.stack import LocalStack

log = logging.getLogger("devstack")
PUMP_IDLE_S = 0.1
SCHEDULE_CHECK_S = 1.0


def _json(status: int, payload: Any) -> HttpResponse:
    body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
    return HttpResponse(status, {"content-type": "application/json"}, body)


class LocalHelpers:
    """The `/_local/*`, `/openapi.json` and `/docs` endpoints."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack

    def handle(self, method: str, path: str, body: bytes, query: str = "") -> HttpResponse | None:
        """An answer for helper paths; None for anything the API itself should route."""
        if path == "/openapi.json" and method == "GET":
            return _json(200, merged_openapi(self.stack.model, self.stack.runtime.functions))
        if path in ("/docs", "/docs/") and method == "GET":
            return HttpResponse(
                200, {"content-type": "text/html; charset=utf-8"}, SWAGGER_PAGE.encode()
            )
        if path.startswith("/docs/") and method in ("GET", "HEAD"):
            asset = swagger_asset(path.removeprefix("/docs/"))
            if asset is None:
                return _json(404, {"message": "Not Found"})
            return HttpResponse(
                200, {"content-type": asset[1], "cache-control": "max-age=3600"}, asset[0]
            )
        if not path.startswith("/_local/"):
            return None
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return _json(400, {"message": "body must be JSON"})
        return self._local(method, path.removeprefix("/_local/"), payload, query)

    def _local(
        self, method: str, action: str, payload: dict[str, Any], query: str = ""
    ) -> HttpResponse:
        from omnihub.clock import iso, parse_iso

        if action == "clock" and method == "GET":
            return _json(200, {"now": iso(self.stack.now())})
        if action == "clock" and method == "POST":
            try:
                target = parse_iso(str(payload["now"]))
            except (KeyError, ValueError) as error:
                return _json(400, {"message": f"expected {{'now': RFC 3339}}: {error}"})
            if target < self.stack.now():
                return _clock_backwards(target, self.stack.now())
            try:
                fired = self.stack.set_clock(target)
            except DrainTimeout as timeout:
                return _json(504, timeout.report.as_dict())
            return _json(200, {"now": iso(self.stack.now()), "fired": fired})
        if action.startswith("schedules/") and method == "POST":
            name = unquote(action.removeprefix("schedules/"))
            if name not in self.stack.model.schedules:
                known = sorted(self.stack.model.schedules)
                return _json(404, {"message": f"no schedule {name}", "schedules": known})
            try:
                return _json(200, self.stack.fire_schedule(name))
            except DrainTimeout as timeout:
                return _json(504, timeout.report.as_dict())
        if action == "drain" and method == "POST":
            try:
                report = self.stack.drain(float(payload.get("timeout", 60)))
            except DrainTimeout as timeout:
                return _json(504, timeout.report.as_dict())
            return _json(200, report.as_dict())
        if action == "knowledge" and method == "POST":
            from devstack.knowledge import KNOWLEDGE_TABLE, put_entry

            table = self.stack.table_name(KNOWLEDGE_TABLE)
            return _json(*put_entry(self.stack.client("dynamodb"), table, payload))
        if action == "parameters" and method in ("GET", "POST"):
            return self._parameters(method, payload, dict(parse_qsl(query)))
        if action == "status" and method == "GET":
            return _json(
                200,
                {
                    "now": iso(self.stack.now()),
                    "invocations": self.stack.invocations,
                    "errors": self.stack.errors,
                    "queues": self.stack.queue_depths(),
                    "schedules": sorted(self.stack.model.schedules),
                    "load_errors": self.stack.load_errors,
                },
            )
        return _json(404, {"message": "Not Found"})

    def _parameters(
        self, method: str, payload: dict[str, Any], query: dict[str, str]
    ) -> HttpResponse:
        """Set or read an SSM parameter; a rule set's value is validated as the loader
        reads it (422 in the contract's error shape, nothing stored) and is in force at once."""
        from omnihub.api.errors import error_body
        from omnihub.rulesets import RuleSetRejected

        def invalid(field: str, message: str, details: list[dict[str, str]]) -> HttpResponse:
            body = json.loads(error_body("validation_failed", message, details))
            body["error"]["field"] = field
            return _json(422, body)

        if method == "GET":
            name = query.get("name", "")
            if not name:
                return invalid(
                    "name", "name is required", [{"field": "name", "message": "required"}]
                )
            value = self.stack.parameter(name)
            if value is None:
                return _json(404, json.loads(error_body("not_found", f"no parameter {name}")))
            return _json(200, {"name": name, "value": value})
        if isinstance(payload.get("value"), dict | list):  # a rule set given as JSON itself
            payload = {**payload, "value": json.dumps(payload["value"], ensure_ascii=False)}
        bad = [
            {"field": key, "message": "required, a non-empty string"}
            for key in ("name", "value")
            if not isinstance(payload.get(key), str) or not payload[key]
        ]
        if bad:
            return invalid(bad[0]["field"], "name and value are required strings", bad)
        name, value = payload["name"], payload["value"]
        try:
            self.stack.set_parameter(name, value)
        except RuleSetRejected as rejected:
            details = [{**d, "field": _in_value(d["field"])} for d in rejected.details]
            return invalid(
                _in_value(rejected.field), f"{name} is invalid; nothing was stored", details
            )
        return _json(200, {"name": name, "value": value})


def _clock_backwards(target: Any, now: Any) -> HttpResponse:
    """409 for an earlier time: what already happened (pending periods that ended,
    schedules that fired, SLA clocks that ran) cannot be unwound, so business time only moves
    forward."""
    from omnihub.api.errors import error_body
    from omnihub.clock import iso

    message = f"the clock cannot move backwards: {iso(target)} is before {iso(now)}"
    body = error_body("clock_backwards", message, [{"field": "now", "message": message}])
    return HttpResponse(409, {"content-type": "application/json"}, body.encode("utf-8"))


def _in_value(field: str) -> str:
    """A field of the rule set as a field of the request body (`value.<path>`)."""
    return f"value.{field}" if field else "value"


def loggable_target(target: str) -> str:
    """A request target fit for a log line: the query keeps its names, never its values, and
    a phone or ID number typed into the path is masked (no log line carries an
    identity value from a path or query)."""
    from omnihub.privacy import mask_text

    split = urlsplit(target)
    names = "&".join(f"{name}=" for name, _ in parse_qsl(split.query, keep_blank_values=True))
    path = mask_text(unquote(split.path))
    return f"{path}?{names}" if names else path


class _RequestHandler(BaseHTTPRequestHandler):
    server: DevServer
    protocol_version = "HTTP/1.1"

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        try:
            response = self.server.helpers.handle(self.command, split.path, body, split.query)
            if response is None:
                request = HttpRequest(
                    method=self.command,
                    path=split.path,
                    query=split.query,
                    headers=tuple(self.headers.items()),
                    body=body,
                    source_ip=self.client_address[0],
                    protocol=self.request_version,
                )
                response = self.server.stack.http_request(request)
        except Exception:  # the dev server must keep serving
            log.exception("devstack failed on %s %s", self.command, loggable_target(self.path))
            response = gateway_error(500, "Internal Server Error")
        self._send(response)

    def _send(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        for cookie in response.cookies:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _dispatch

    def __getattr__(self, name: str) -> Any:
        """Any other method (TRACE, CONNECT, a made-up one) goes to the gateway too, which
        answers in JSON, instead of http.server's HTML 501 page."""
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """The access line: method, the target without identity values, status."""
        target = loggable_target(self.path)
        log.info("%s %s %s %s", self.address_string(), self.command, target, code)

    def log_message(self, format: str, *args: Any) -> None:
        """Errors the base class reports (bad request lines): their text may quote the raw
        request line, so only the client and the fact are logged."""
        log.info("%s request refused by the HTTP parser", self.address_string())


class DevServer(ThreadingHTTPServer):
    """The HTTP server plus the stack it fronts."""

    daemon_threads = True
    #: listen() backlog: the standard library's 5 resets bursts of clients (50 at once must wait)
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], stack: LocalStack) -> None:
        super().__init__(address, _RequestHandler)
        self.stack = stack
        self.helpers = LocalHelpers(stack)


def _pump_forever(stack: LocalStack, stop: threading.Event) -> None:
    """Keep streams and queues moving in the background (one batch per mapping per step), and
    fire the schedules the running business clock passes."""
    next_catch_up = time.monotonic()
    while not stop.is_set():
        try:
            worked = stack.runtime.pump_step()
            if time.monotonic() >= next_catch_up:
                next_catch_up = time.monotonic() + SCHEDULE_CHECK_S
                stack.runtime.catch_up()
        except Exception:  # a bad batch must not stop the pump
            log.exception("background pump failed")
            worked = False
        if not worked:
            stop.wait(PUMP_IDLE_S)


@contextmanager
def dev_stack(
    root: Path, parameters: dict[str, str], region: str | None = None, demo: bool = False
) -> Iterator[LocalStack]:
    """The stack `make dev` serves; with `demo` (`make dev DEMO=1`) the demo day is replayed into
    it first, its clock starting where the day ends (as `make demo`), so the README's examples
    (a lookup of 13800000001, a member file, tickets) answer."""
    from devstack.demo import day_ends, load_day, replay

    entries = load_day(root) if demo else []
    start = day_ends(entries) if entries else None
    with LocalStack.start(
        root, parameters=parameters, strict=False, region=region, now=start
    ) as stack:
        if entries:
            run = replay(stack, entries)
            statuses = ", ".join(f"{code}: {n}" for code, n in sorted(run.statuses.items()))
            print(
                f"devstack: demo day loaded, {run.posted} events ({statuses}) "
                f"in {run.seconds:.1f}s",
                flush=True,
            )
        yield stack


def serve(
    root: Path,
    host: str,
    port: int,
    parameters: dict[str, str],
    region: str | None = None,
    demo: bool = False,
) -> None:
    """Run until SIGINT or SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with dev_stack(root, parameters, region, demo) as stack:
        server = DevServer((host, port), stack)
        stop = threading.Event()
        pump = threading.Thread(target=_pump_forever, args=(stack, stop), daemon=True)
        pump.start()

        def shutdown(*_: Any) -> None:
            stop.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, shutdown)
        signal.signal(signal.SIGINT, shutdown)
        url = f"http://{host}:{server.server_address[1]}"
        if host not in ("127.0.0.1", "localhost", "::1"):
            print(f"devstack: WARNING serving on {host}, not loopback", file=sys.stderr)
        for logical_id, error in stack.load_errors.items():
            print(f"devstack: {logical_id} not loaded: {error}", file=sys.stderr, flush=True)
        print(
            f"devstack: ready on {url} ({len(stack.model.routes)} routes, "
            f"{len(stack.model.functions)} functions, {stack.model.pseudo.region}, "
            f"started in {stack.startup_s:.1f}s; "
            f"docs {url}/docs)",
            flush=True,
        )
        try:
            server.serve_forever(poll_interval=0.2)
        finally:
            stop.set()
            pump.join(timeout=5)
            server.server_close()
