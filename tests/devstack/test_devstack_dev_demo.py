"""`make dev DEMO=1` (README): the dev server starts with the demo day loaded, so the README's
examples answer. In a module of its own: moto holds one stack per process at a time."""

from __future__ import annotations

from devstack.server import dev_stack
from tests.devstack.devstack_support import PROJECT_ROOT


def test_dev_stack_with_demo_answers_the_readme_lookup() -> None:
    """`make dev DEMO=1`: the demo day replayed into the served stack, so the README's lookup
    example (13800000001, a member of the day) finds its member."""
    with dev_stack(PROJECT_ROOT, {}, demo=True) as stack:
        status, _, found = stack.http(
            "POST",
            "/v1/members/lookup",
            body={"type": "phone", "value": "13800000001"},
            headers=stack.auth("agent"),
        )
        assert status == 200, found
        assert found["member_id"]
        assert stack.errors == {}
