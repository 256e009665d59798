"""What a handler's import must not pull in: every module here is cold-start time for a call the
first request does not make (docs/performance.md, "Cold start").

A property of every function in the template, each imported in a fresh process with the
environment Lambda gives it (tracing on, as deployed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devstack.functions import lambda_environment
from devstack.template import load_model

ROOT = Path(__file__).resolve().parents[2]
MODEL = load_model(ROOT)

#: Never at cold start: boto3 and s3transfer (clients come from botocore, omnihub.adapters.aws),
#: cryptography (only sealing or unsealing PII needs it, omnihub.identity.vault), requests (the
#: tracer patches botocore and http.client only, omnihub.observability).
NEVER = frozenset({"boto3", "s3transfer", "cryptography", "requests"})
#: Never any of these packages either: Powertools' batch utility (asyncio and every event
#: source's data classes, for a loop omnihub.consumer runs itself).
NEVER_PACKAGES = ("aws_lambda_powertools.utilities.batch",)
#: Functions whose first request parses no model (the stream forwarder and the scheduled
#: fan-outs, omnihub.adapters.work_queue): no pydantic and no store either.
NO_MODELS = frozenset(
    {
        "CommissionSettlementFunction",
        "LeaderTiersFunction",
        "OutboxForwarderFunction",
        "PointsDailyFunction",
    }
)

#: Modules only these functions' first request needs: the webhook's intake and channel rules
#: (a store's port type is no reason to import them), and the channel events' models, which
#: only the webhook and the consumers that parse channel data build (an API takes its field
#: types from omnihub.events.fields).
ONLY_IN = {
    "omnihub.webhook.intake": frozenset({"WebhookFunction"}),
    "omnihub.channel_rules": frozenset({"WebhookFunction"}),
    "omnihub.events.channel": frozenset(
        {
            "WebhookFunction",
            "FeedbackConsumerFunction",
            "LeadersConsumerFunction",
            "PointsConsumerFunction",
        }
    ),
}

PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["handler"] = module
spec.loader.exec_module(module)
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after_import(logical_id: str) -> set[str]:
    spec = MODEL.functions[logical_id]
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'layers/hub'}{os.pathsep}{ROOT}",
        "AWS_DEFAULT_REGION": MODEL.pseudo.region,
        **lambda_environment(spec, MODEL),
    }
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    out = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-c", PROBE, str(ROOT / spec.code_uri / "app.py")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("logical_id", sorted(MODEL.functions))
def test_a_handler_imports_nothing_its_first_request_does_not_need(logical_id: str) -> None:
    modules = _modules_after_import(logical_id)
    imported = {name.split(".")[0] for name in modules}
    assert imported & NEVER == set()
    assert [m for m in modules if m.startswith(NEVER_PACKAGES)] == []
    assert [m for m, only in ONLY_IN.items() if m in modules and logical_id not in only] == []
    if logical_id in NO_MODELS:
        assert "pydantic" not in imported
        assert [m for m in modules if m.endswith("_store")] == []
