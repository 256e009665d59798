"""SLA policies as ordered data (SPEC 4.4): the first that matches a ticket decides its targets.

- P1, risk high (food safety): first response 30 min, initial handling 4 h, closed 48 h; 24x7.
- P2, complaint: first response 2 h, compensation plan 24 h; 24x7.
- P3, inquiry the knowledge base did not answer: 2 h, 24 h; business hours 09:00-21:00.
- P4, suggestion: no targets (the product board).

P1 also notifies quality, supply chain and PR at once; each acknowledges on its own 30-minute
clock. A ticket keeps the targets and the calendar it was given when it opened (or reopened):
a policy changed meanwhile applies from its next opening or reopening (docs/decisions.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from omnihub.tickets.calendar import ALWAYS, BUSINESS_HOURS, Calendar

WARN_AT = 0.75  # a warning at 75% of a target
ESCALATION_LEVELS = ("L1", "L2", "L3")  # agent, supervisor, department head


@dataclass(frozen=True)
class TargetRule:
    name: str
    within: timedelta
    kind: str
    """What meets it: "response" a `respond`, "handling" an `initial_handling` opinion,
    "resolution" a `resolve` (which also meets the other two), "ack" the team's `acknowledge`."""


@dataclass(frozen=True)
class Policy:
    priority: str
    risk: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()
    calendar: Calendar = ALWAYS
    targets: tuple[TargetRule, ...] = ()
    teams: tuple[str, ...] = ()

    def matches(self, risk: str | None, intent: str | None) -> bool:
        return (not self.risk or risk in self.risk) and (not self.intents or intent in self.intents)


POLICIES: tuple[Policy, ...] = (
    Policy(
        priority="P1",
        risk=("high",),
        targets=(
            TargetRule("first_response", timedelta(minutes=30), "response"),
            TargetRule("initial_handling", timedelta(hours=4), "handling"),
            TargetRule("resolution", timedelta(hours=48), "resolution"),
            TargetRule("ack:quality", timedelta(minutes=30), "ack"),
            TargetRule("ack:supply_chain", timedelta(minutes=30), "ack"),
            TargetRule("ack:pr", timedelta(minutes=30), "ack"),
        ),
        teams=("quality", "supply_chain", "pr"),
    ),
    Policy(
        priority="P2",
        intents=("complaint",),
        targets=(
            TargetRule("first_response", timedelta(hours=2), "response"),
            TargetRule("resolution", timedelta(hours=24), "resolution"),
        ),
    ),
    Policy(
        priority="P3",
        intents=("inquiry",),
        calendar=BUSINESS_HOURS,
        targets=(
            TargetRule("first_response", timedelta(hours=2), "response"),
            TargetRule("resolution", timedelta(hours=24), "resolution"),
        ),
    ),
    Policy(priority="P4", intents=("suggestion",)),
)

BY_PRIORITY = {p.priority: p for p in POLICIES}


def policy_for(risk: str | None, intent: str | None, priority: str | None = None) -> Policy:
    """The first matching policy (an explicit priority picks its policy); P3 when none matches."""
    if priority:
        return BY_PRIORITY[priority]
    return next((p for p in POLICIES if p.matches(risk, intent)), BY_PRIORITY["P3"])
