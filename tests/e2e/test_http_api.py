"""The issues' acceptance checks over real HTTP against `python -m devstack serve` (make dev)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAY = json.loads((ROOT / "events/day/01-identities.json").read_text(encoding="utf-8"))
pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Api:
    def __init__(self, base: str) -> None:
        self.base = base

    def call(self, method, path, body=None, headers=None, raw: bytes | None = None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(  # noqa: S310 - loopback URL built by the test
            self.base + path, data=data, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            text = error.read()
            try:
                return error.code, json.loads(text or b"null")
            except json.JSONDecodeError:
                return error.code, text.decode(errors="replace")

    def post_event(self, channel, raw: bytes, t: int | None = None, signature: str | None = None):
        stamp = int(time.time()) if t is None else t
        secret = f"local-{channel}-secret".encode()
        digest = hmac.new(secret, f"{stamp}.".encode() + raw, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json"}
        if signature != "":
            headers["X-Omni-Signature"] = signature or f"t={stamp},v1={digest}"
        return self.call("POST", f"/v1/channels/{channel}/events", headers=headers, raw=raw)

    def token(self, role: str) -> dict[str, str]:
        token = subprocess.run(  # noqa: S603 - fixed arguments
            [sys.executable, "-m", "devstack", "token", "--role", role],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=_env(),
        ).stdout.strip()
        return {"Authorization": f"Bearer {token}"}


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{ROOT / 'layers/hub'}{os.pathsep}{ROOT}"}


@pytest.fixture(scope="module")
def api():
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "devstack", "serve", "--port", str(port)],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    client = Api(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 90
    while True:
        try:
            if client.call("GET", "/_local/clock")[0] == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the local stack did not start: " + process.stderr.read().decode()[-2000:])
        time.sleep(0.2)
    yield client
    process.terminate()
    process.wait(timeout=20)


def event(**overrides) -> bytes:
    body = json.loads((ROOT / "events/channel/member-identified.json").read_text(encoding="utf-8"))
    body.update(overrides)
    return json.dumps(body, ensure_ascii=False).encode()


def is_contract_error(payload) -> bool:
    return (
        isinstance(payload, dict)
        and set(payload) == {"error"}
        and {"code", "message", "details"} <= set(payload["error"])
    )


def test_the_webhook_contract_over_http(api):
    raw = event(event_id="e2e-1")
    assert api.post_event("tmall", raw) == (202, {"event_id": "e2e-1", "status": "accepted"})
    assert api.post_event("tmall", raw) == (200, {"event_id": "e2e-1", "status": "duplicate"})
    status, report = api.call("POST", "/_local/drain")
    assert status == 200, report

    no_id = json.loads(event())
    del no_id["event_id"]
    ahead = datetime.now(UTC) + timedelta(hours=1)
    order = json.loads((ROOT / "events/channel/order-paid.json").read_text(encoding="utf-8"))
    order["data"]["amount_fen"] += 1
    cases = {
        "bad signature": (api.post_event("tmall", raw, signature="t=1,v1=beef"), 401),
        "no signature": (api.post_event("tmall", raw, signature=""), 401),
        "10 minutes old": (api.post_event("tmall", raw, t=int(time.time()) - 600), 401),
        "unknown channel": (api.post_event("taobao", raw), 404),
        "not JSON": (api.post_event("tmall", b"<xml/>"), 400),
        "no event_id": (api.post_event("tmall", json.dumps(no_id).encode()), 422),
        "an hour ahead": (api.post_event("tmall", event(occurred_at=ahead.isoformat())), 422),
        "amount not the lines' sum": (api.post_event("tmall", json.dumps(order).encode()), 422),
        "nested too deep": (api.post_event("tmall", b"[" * 50_000 + b"]" * 50_000), 400),
        "300 KiB": (api.post_event("tmall", event(event_id="big", data={"p": "x" * 307200})), 413),
    }
    for name, ((status, payload), expected) in cases.items():
        assert status == expected, (name, payload)
        assert is_contract_error(payload), (name, payload)
    assert cases["no event_id"][0][1]["error"]["details"][0]["field"] == "event_id"
    assert cases["an hour ahead"][0][1]["error"]["details"][0]["field"] == "occurred_at"
    assert cases["amount not the lines' sum"][0][1]["error"]["details"][0]["field"] == (
        "data.amount_fen"
    )


def test_the_same_event_is_delivered_once(api):
    raw = event(event_id="e2e-once", member={"identities": [{"type": "jd_pin", "value": "once"}]})
    assert api.post_event("jd", raw)[0] == 202
    assert api.post_event("jd", raw)[0] == 200
    api.call("POST", "/_local/drain")
    headers = api.token("agent")
    status, found = api.call("GET", "/v1/members/lookup?type=jd_pin&value=once", headers=headers)
    assert status == 200
    status, file = api.call("GET", f"/v1/members/{found['member_id']}", headers=headers)
    assert file["channels"] == ["jd"]


def test_people_from_several_channels_are_one_member_by_each_identity(api):
    for item in DAY:
        raw = json.dumps(item["event"], ensure_ascii=False).encode()
        assert api.post_event(item["channel"], raw)[0] in (200, 202)
    assert api.call("POST", "/_local/drain")[0] == 200
    headers = api.token("agent")

    def member_of(identity_type, value):
        from urllib.parse import urlencode

        query = urlencode({"type": identity_type, "value": value})
        return api.call("GET", f"/v1/members/lookup?{query}", headers=headers)

    zhang = {
        member_of(t, v)[1]["member_id"]
        for t, v in [
            ("phone", "13800000001"),
            ("phone", "13800000002"),
            ("douyin_open_id", "dy-open-zhang"),
            ("wechat_unionid", "union-zhang"),
            ("store_card", "SC-100001"),
            ("tmall_omid", "omid-zhang"),
        ]
    }
    assert len(zhang) == 1
    # the placeholder phone joined nobody, and finds nobody
    assert member_of("jd_pin", "jd-wang")[1] != member_of("jd_pin", "jd-zhao")[1]
    assert member_of("phone", "13800138000")[0] == 404
    # no token, wrong role
    assert api.call("GET", f"/v1/members/{zhang.pop()}")[0] == 401
    assert api.call("GET", "/v1/review-cases", headers=headers)[0] == 403
    assert api.call("GET", "/v1/review-cases", headers=api.token("admin"))[0] == 200
