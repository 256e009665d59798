"""The dev server's own promises (README): Swagger UI served from the project, business
time that never runs backwards, `--demo` on the command line (the day itself:
test_devstack_dev_demo.py, which needs a stack of its own)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from devstack.openapi import SWAGGER_PAGE
from devstack.server import LocalHelpers
from devstack.stack import LocalStack


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
        ("swagger-ui.css", "text/css; charset=utf-8"),
        ("favicon-32x32.png", "image/png"),
    ],
)
def test_docs_assets_come_from_the_project(
    mini_stack: LocalStack, name: str, content_type: str
) -> None:
    response = LocalHelpers(mini_stack).handle("GET", f"/docs/{name}", b"")
    assert response is not None
    assert (response.status, response.headers["content-type"]) == (200, content_type)
    assert len(response.body) > 1000
    assert f'"/docs/{name}"' in SWAGGER_PAGE


def test_docs_page_names_no_other_host_and_serves_nothing_else(mini_stack: LocalStack) -> None:
    assert "//" not in SWAGGER_PAGE.replace("<!doctype html>", "")  # no CDN, no absolute URL
    helpers = LocalHelpers(mini_stack)
    for path in ("/docs/index.j2", "/docs/../Makefile", "/docs/swagger-editor.js", "/docs/x"):
        response = helpers.handle("GET", path, b"")
        assert response is not None
        assert response.status == 404, path


def _clock(helpers: LocalHelpers, now: str) -> tuple[int, Any]:
    response = helpers.handle("POST", "/_local/clock", json.dumps({"now": now}).encode())
    assert response is not None
    return response.status, json.loads(response.body)


def test_moving_the_clock_backwards_is_refused(mini_stack: LocalStack) -> None:
    from omnihub.clock import iso

    helpers = LocalHelpers(mini_stack)
    now = mini_stack.now()
    status, body = _clock(helpers, iso(now - timedelta(seconds=1)))
    assert status == 409
    assert body["error"]["code"] == "clock_backwards"
    assert body["error"]["details"][0]["field"] == "now"
    assert mini_stack.now() == now  # nothing moved
    assert _clock(helpers, iso(now))[0] == 200  # standing still is not going back
    assert _clock(helpers, iso(now + timedelta(hours=1)))[0] == 200


def test_serve_demo_flag_reaches_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from devstack import __main__ as cli
    from devstack import server

    seen: list[tuple[Any, ...]] = []
    monkeypatch.setattr(server, "serve", lambda *args: seen.append(args))
    assert cli.main(["serve", "--demo", "--port", "3999"]) == 0
    assert cli.main(["serve"]) == 0
    assert [args[-1] for args in seen] == [True, False]  # demo
    assert seen[0][2] == 3999
