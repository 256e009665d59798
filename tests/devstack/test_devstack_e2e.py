"""`python -m devstack serve` as a real process on a free loopback port, and the CLI around it."""

from __future__ import annotations

import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from devstack import local_jwt
from tests.devstack.devstack_support import MINI_ROOT, PROJECT_ROOT

READY_TIMEOUT_S = 90


def _env() -> dict[str, str]:
    path = os.pathsep.join([str(PROJECT_ROOT / "layers" / "hub"), str(PROJECT_ROOT)])
    return {**os.environ, "PYTHONPATH": path}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _call(
    base: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - a loopback URL built by the test
        base + path, data=data, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The mini app served by a subprocess; yields its base URL."""
    port = _free_port()
    command = [sys.executable, "-m", "devstack", "--root", str(MINI_ROOT), "serve"]
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [*command, "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: [lines.put(x) for x in process.stdout], daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            assert process.poll() is None, "devstack serve exited before it was ready"
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail("devstack serve did not print its ready line in time")
            if "ready on" in line:
                break
        assert f"http://127.0.0.1:{port}" in line
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.e2e
def test_local_helpers_and_gateway_answers(server: str) -> None:
    from omnihub.clock import iso, parse_iso

    status, body = _call(server, "GET", "/_local/clock")
    assert status == 200
    now = parse_iso(body["now"])
    target = now + timedelta(days=1)
    status, body = _call(server, "POST", "/_local/clock", {"now": iso(target)})
    assert status == 200
    assert {f["schedule"] for f in body["fired"]} >= {"mini-nightly", "mini-sweep"}
    assert parse_iso(body["now"]) >= target
    assert _call(server, "POST", "/_local/clock", {"now": "yesterday"})[0] == 400
    status, body = _call(server, "POST", "/_local/drain")
    assert (status, body["complete"]) == (200, True)
    assert _call(server, "GET", "/nope") == (404, {"message": "Not Found"})
    assert _call(server, "GET", "/items/1") == (401, {"message": "Unauthorized"})
    status, body = _call(server, "POST", "/_local/schedules/mini-sweep")
    assert (status, body["schedule"], body["error"]) == (200, "mini-sweep", None)
    assert _call(server, "POST", "/_local/schedules/none")[0] == 404


def _post_at_once(base: str, clients: int) -> list[str]:
    """`clients` connections opened at the same instant, each posting once; the status line each
    got, or the error it met (a reset when the listen backlog overflows)."""
    host, port = base.removeprefix("http://").split(":")
    start = threading.Barrier(clients)

    def post(i: int) -> str:
        body = json.dumps({"pk": f"burst-{i}"}).encode()
        request = (
            f"POST /hooks/burst HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode() + body
        start.wait()
        try:
            # the kernel completes a handshake at once while the backlog has room; past it the
            # SYN is dropped (or reset) and the client waits a second to retry
            with socket.create_connection((host, int(port)), timeout=0.5) as connection:
                connection.settimeout(60)
                connection.sendall(request)
                return connection.makefile("rb").readline().decode().strip()
        except OSError as error:
            return f"{type(error).__name__}: {error}"

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(post, range(clients)))


@pytest.mark.e2e
def test_fifty_clients_posting_at_once_each_get_an_answer(server: str) -> None:
    answers = _post_at_once(server, 50)
    assert all(a.startswith("HTTP/1.") for a in answers), [a for a in answers if "HTTP" not in a]
    assert {a.split()[1] for a in answers} == {"202"}


@pytest.mark.e2e
def test_background_pump_delivers_without_being_asked(server: str) -> None:
    status, _ = _call(server, "POST", "/hooks/e2e", {"pk": "e2e-1", "publish": True})
    assert status == 202
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        _, body = _call(server, "GET", "/_local/status")
        if body["invocations"].get("ConsumerFunction"):
            break
        time.sleep(0.2)
    else:
        pytest.fail("the webhook's event never reached the consumer")
    assert body["queues"]["ConsumerQueue"]["visible"] == 0


@pytest.mark.e2e
def test_token_command_and_openapi(server: str) -> None:
    printed = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "devstack", "--root", str(MINI_ROOT), "token", "--role", "agent"],
        cwd=PROJECT_ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    token = printed.strip()
    assert printed == token + "\n"
    assert local_jwt.verify(token, ["mini-staff"])["cognito:groups"] == ["agent"]
    status, body = _call(server, "GET", "/items/9", headers={"Authorization": f"Bearer {token}"})
    assert status == 200
    claims = body["event"]["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["cognito:groups"] == "[agent]"
    status, document = _call(server, "GET", "/openapi.json")
    assert status == 200
    paths = document["paths"]
    assert {"/items/{item_id}", "/items/special", "/hooks/{name}", "/files/{proxy+}"} <= set(paths)
    assert "/items/{id}" not in paths  # documented by the handler as /items/{item_id}
    assert paths["/items/{item_id}"]["get"]["operationId"].startswith("get_item")
    assert paths["/items/special"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in paths["/hooks/{name}"]["post"]


def test_demo_replays_a_day(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from devstack import demo

    root = tmp_path / "app"
    shutil.copytree(MINI_ROOT, root)
    day = root / "events" / "day"
    day.mkdir(parents=True)
    entries = [
        {"channel": "tmall", "event": {"event_id": "d1"}},
        {"channel": "pos", "event": {"event_id": "d2"}},
    ]
    (day / "01-morning.json").write_text(json.dumps(entries))
    assert demo.main(root, sections=demo.FRAME_SECTIONS) == 0
    out = capsys.readouterr().out
    assert "events posted: 2: 2 accepted (202)" in out
    assert "dead-letter queues: all empty" in out
