"""Shared fixtures: fake AWS credentials and a pinned region for every test, the local stack
(moto built from template.yaml, real handlers) for integration tests, and events from events/."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"


@pytest.fixture(autouse=True)
def _aws_sandbox(monkeypatch):
    """No test can reach a real account: fake credentials, a pinned region."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "cn-north-1",
        "AWS_REGION": "cn-north-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "OmniHubTest",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def log_everything(caplog) -> None:
    """The root logger and the handlers' own (Powertools) loggers at DEBUG for this test: a
    Powertools logger keeps the level it was made with, and a test that ran earlier in this
    process (the demo runs quiet) may have made it at ERROR."""
    caplog.set_level(logging.DEBUG)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and getattr(logger, "powertools_handler", None):
            caplog.set_level(logging.DEBUG, logger=name)


def load_event(relative: str):
    """An event file from events/ (AWS shapes, channel bodies, the demo day)."""
    return json.loads((EVENTS / relative).read_text(encoding="utf-8"))


@pytest.fixture
def stack():
    """The whole app on moto, handlers loaded from the template, clock virtual."""
    from devstack.stack import LocalStack

    with LocalStack.start(ROOT) as running:
        yield running


def arrive(stack, event, channel="tmall"):
    """One channel event, accepted and handled everywhere, then the clock a minute on (so members
    are created, and orders paid, in the order a test posts them)."""
    status, _, payload = stack.post_channel_event(channel, event)
    assert status == 202, payload
    report = stack.drain()
    assert report.errors == {}, report
    stack.runtime.clock.set(stack.now() + timedelta(minutes=1))


def member_with(stack, identity):
    """The member holding an identity, found as staff find it (the value in the body)."""
    status, _, found = stack.http(
        "POST",
        "/v1/members/lookup",
        body={"type": identity["type"], "value": identity["value"]},
        headers=stack.auth("agent"),
    )
    assert status == 200, found
    return found["member_id"]
