"""The leaders section of `make demo` on the demo day: it reports reconciled statements."""

from devstack import demo_leaders as demo
from devstack.stack import LocalStack
from tests.conftest import ROOT
from tests.integration.test_leaders_flow import COMPLETION_DAY, replay


def test_the_demo_section_reports_reconciled_statements():
    with LocalStack.start(ROOT, now=COMPLETION_DAY, clock_running=False) as stack:
        replay(stack, "01-identities.json", "04-leaders.json")
        report = "\n".join(demo.section_leaders(stack, None))
    assert "reconciliation: 5 statements chain and add up; earned 34243 fen" in report
    assert ": ok" in report
    assert "ldr-001 reading ldr-002's statements: 403" in report
    assert "dead-letter queues after the runs: all empty" in report
