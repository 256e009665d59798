"""docs/api.md and docs/events.md say what the code says: regenerated in memory, compared.

A change to a route, a response, a model or an event type must rerun `make docs`."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _gen_docs() -> Any:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_docs", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated() -> dict[Path, str]:
    return dict(_gen_docs().generate())


@pytest.mark.parametrize("name", ["api.md", "events.md"])
def test_reference_is_fresh(generated: dict[Path, str], name: str) -> None:
    path = ROOT / "docs" / name
    assert path.exists(), f"docs/{name} is missing: run `make docs`"
    assert path.read_text(encoding="utf-8") == generated[path], (
        f"docs/{name} is stale: run `make docs`"
    )


def test_every_operation_and_event_type_is_listed(generated: dict[Path, str]) -> None:
    """The renderers drop nothing: each documented operation and each webhook type appears."""
    from omnihub.events.channel import EVENT_TYPES

    gen = _gen_docs()
    api = generated[gen.API_MD]
    for path, ops in gen.openapi_document()["paths"].items():
        for method in ops:
            assert f"### {method.upper()} {path}\n" in api
    events = generated[gen.EVENTS_MD]
    for event_type in EVENT_TYPES:
        assert f"| `{event_type}` |" in events
    for out_type in ("ticket.created", "commission.settled", "points.changed", "member.merged"):
        assert f"| `{out_type}` |" in events
