"""schemathesis (pinned in requirements-tools.txt) against `python -m devstack serve`, as a
user's security team would run it (issue 13): every check, an admin token, zero failures, so no
server error and no answered status the OpenAPI document does not declare. Settings and the few
documented exceptions: tests/e2e/schemathesis.toml. `make test` sets SCHEMATHESIS so a missing
tool fails instead of skipping."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.test_http_api import ROOT, Api, _env, _free_port

pytestmark = pytest.mark.e2e
CONFIG = Path(__file__).with_name("schemathesis.toml")
HANG_GUARD_S = 900  # a stalled server fails the test instead of CI's clock; not a speed check


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """`devstack serve` on a free port; its log goes to a file (thousands of requests would
    fill a pipe nobody reads and stall the server)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("devstack") / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [sys.executable, "-m", "devstack", "serve", "--port", str(port)],
            cwd=ROOT,
            env=_env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
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
            pytest.fail("the local stack did not start: " + log.read_text()[-2000:])
        time.sleep(0.2)
    yield client
    process.terminate()
    process.wait(timeout=20)


def _st() -> str:
    wanted = os.environ.get("SCHEMATHESIS")
    found = Path(wanted) if wanted else ROOT / ".tools/bin/st"
    if not found.exists():
        if wanted:
            pytest.fail(f"SCHEMATHESIS={wanted} does not exist (make install)")
        pytest.skip("schemathesis is not installed in .tools (make install)")
    return str(found)


def _raw(base: str, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_undeclared_methods_get_the_contract_body_not_an_html_501(api):
    """http.server answered TRACE (and any verb it has no `do_` method for) with an HTML 501."""
    for method in ("TRACE", "QUERY", "BREW"):
        status, headers, body = _raw(api.base, method, "/v1/tickets")
        assert status == 405, (method, body[:200])
        assert headers.get("allow") == "GET, POST"
        assert json.loads(body)["error"]["code"] == "method_not_allowed"


def test_schemathesis_finds_nothing(api, tmp_path):
    st = _st()
    token = api.token("admin")["Authorization"]
    command = [st, "--config-file", str(CONFIG), "run", f"{api.base}/openapi.json", "--no-color"]
    run = subprocess.run(  # noqa: S603 - fixed arguments
        [*command, "--checks", "all", "-H", f"Authorization: {token}"],
        cwd=tmp_path,  # its caches stay out of the work tree
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
        check=False,
    )
    summary = run.stdout[-6000:]
    assert run.returncode == 0, summary
    assert re.search(r"\d+ generated, \d+ passed", summary), summary
