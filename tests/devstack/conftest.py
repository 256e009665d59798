"""Fixtures of the local stack's own tests: a mini template with tiny handlers (fixtures/mini)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.stack import LocalStack
from tests.devstack.devstack_support import MINI_ROOT, START


@pytest.fixture(scope="module")
def mini_stack() -> Iterator[LocalStack]:
    """The mini app, shared by one test module (tests use their own keys or compare deltas)."""
    with LocalStack.start(MINI_ROOT, now=START, clock_running=False) as stack:
        yield stack
