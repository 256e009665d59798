"""`/docs` in a real browser with no network beyond loopback: Debian's chromium,
headless, opens the Swagger UI page of `python -m devstack serve` on the product's template and
must find the operations rendered, so every script and style came from the app itself."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

# the real template served by `python -m devstack serve`, as schemathesis gets it
from tests.e2e.test_schemathesis import api  # noqa: F401 - a fixture

pytestmark = pytest.mark.e2e
RENDER_BUDGET_MS = 20_000  # chromium's virtual time for the page to fetch and render


@pytest.fixture(scope="module")
def browser() -> str:
    """Debian's chromium (or $CHROMIUM); the test skips, saying why, where there is none."""
    found = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not found:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium): /docs untested")
    return found


def test_docs_renders_the_operations_offline(browser, api, tmp_path):  # noqa: F811
    dom = subprocess.run(  # noqa: S603 - fixed arguments
        [
            browser,
            "--headless",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'profile'}",
            # nothing but loopback: a proxy that refuses everything, and no name resolves
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=127.0.0.1",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--virtual-time-budget={RENDER_BUDGET_MS}",
            "--dump-dom",
            f"{api.base}/docs",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert 'id="swagger-ui"' in dom
    # Swagger UI's own markup, one block per operation, drawn from /openapi.json
    assert 'class="opblock-summary-path" data-path="/v1/members/lookup"' in dom
    assert 'data-path="/v1/channels/{channel}/events"' in dom
