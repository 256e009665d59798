"""SLA policies as ordered data (docs/operations.md): the first that matches a ticket decides its
targets and the calendar they run on.

The value lives in SSM (`/omnihub/<stage>/tickets/policies`, template `TicketPoliciesParameter`)
in the shape docs/operations.md gives, validated by `SlaPolicies`; its defaults are
`policies.json` beside this module (the same value as the template's). Durations are ISO 8601
(`PT2H`); `teams` are the teams a P1 notifies at once, each acknowledging on its own clock. A
ticket keeps the targets and the calendar it was given when it opened (or reopened): a policy
changed meanwhile applies from its next opening or reopening (D63).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from omnihub.tickets.calendar import ALWAYS, Calendar

WARN_AT = 0.75  # a warning at 75% of a target
ESCALATION_LEVELS = ("L1", "L2", "L3")  # agent, supervisor, department head
PRIORITIES = ("P1", "P2", "P3", "P4")
#: target name -> what meets it: "response" a `respond`, "handling" an `initial_handling`
#: opinion, "resolution" a `resolve` (which also meets the other two); "ack" (a team's
#: `acknowledge`) is each of `teams`.
TARGET_KINDS = {
    "first_response": "response",
    "initial_handling": "handling",
    "resolution": "resolution",
}

Priority = Literal["P1", "P2", "P3", "P4"]
TargetName = Literal["first_response", "initial_handling", "resolution"]
Duration = Annotated[timedelta, Field(gt=timedelta(0), le=timedelta(days=366))]


@dataclass(frozen=True)
class TargetRule:
    name: str
    within: timedelta
    kind: str


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


class When(BaseModel):
    """What a ticket must have for the policy to match; an empty list matches anything."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    risk: tuple[Literal["high", "medium", "low"], ...] = ()
    intent: tuple[Literal["complaint", "inquiry", "suggestion", "praise", "other"], ...] = ()


class PolicyValue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    priority: Priority
    when: When = When()
    targets: dict[TargetName, Duration] = {}
    #: team -> its acknowledgement target (P1: quality, supply chain and PR at once)
    teams: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")], Duration] = {}
    calendar: str = "24x7"


class CalendarValue(BaseModel):
    """`hours` are local windows ("09:00"-"21:00"), `weekdays` ISO (Monday 1),
    `holidays` stop the clock, `workdays` (调休) run it whatever their weekday."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "Asia/Shanghai"
    hours: Annotated[tuple[tuple[time, time], ...], Field(min_length=1, max_length=6)]
    weekdays: Annotated[frozenset[Annotated[int, Field(ge=1, le=7)]], Field(min_length=1)] = (
        frozenset(range(1, 8))
    )
    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = ()
    #: for people: where the dates come from and when to update them
    note: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("hours")
    @classmethod
    def _ascending_windows(
        cls, value: tuple[tuple[time, time], ...]
    ) -> tuple[tuple[time, time], ...]:
        previous = time.min
        for index, (opens, closes) in enumerate(value):
            if opens.tzinfo or closes.tzinfo or not (previous <= opens < closes):
                raise ValueError(
                    f"window {index}: local HH:MM, opening before closing, after the window before"
                )
            previous = closes
        return value

    def calendar(self) -> Calendar:
        return Calendar(
            hours=self.hours,
            weekdays=self.weekdays,
            holidays=frozenset(self.holidays),
            workdays=frozenset(self.workdays),
            timezone=self.timezone,
        )


class SlaPolicies(BaseModel):
    """The parameter's value: ordered policies (the first match wins) and named calendars."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policies: Annotated[tuple[PolicyValue, ...], Field(min_length=1)]
    calendars: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")], CalendarValue] = {}
    _built: tuple[Policy, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _one_policy_per_priority_on_known_calendars(self) -> SlaPolicies:
        priorities = [p.priority for p in self.policies]
        if sorted(priorities) != list(PRIORITIES):
            raise ValueError("policies: exactly one policy for each of P1, P2, P3 and P4")
        if "24x7" in self.calendars:
            raise ValueError("calendars: 24x7 is built in (the clock never stops)")
        for index, policy in enumerate(self.policies):
            if policy.calendar != "24x7" and policy.calendar not in self.calendars:
                raise ValueError(f"policies.{index}.calendar: no calendar {policy.calendar!r}")
        return self

    @property
    def built(self) -> tuple[Policy, ...]:
        """The policies with their calendars resolved, in order (built once, on first use:
        pydantic runs `model_post_init` before the checks above)."""
        if not self._built:
            self._built = tuple(self._policy(p) for p in self.policies)
        return self._built

    def _policy(self, value: PolicyValue) -> Policy:
        calendar = ALWAYS if value.calendar == "24x7" else self.calendars[value.calendar].calendar()
        return Policy(
            priority=value.priority,
            risk=value.when.risk,
            intents=value.when.intent,
            calendar=calendar,
            targets=(
                *(
                    TargetRule(name, value.targets[name], kind)
                    for name, kind in TARGET_KINDS.items()
                    if name in value.targets
                ),
                *(TargetRule(f"ack:{team}", within, "ack") for team, within in value.teams.items()),
            ),
            teams=tuple(value.teams),
        )

    def policy(self, priority: str) -> Policy:
        return next(p for p in self.built if p.priority == priority)

    def policy_for(
        self, risk: str | None, intent: str | None, priority: str | None = None
    ) -> Policy:
        """The first matching policy (an explicit priority picks its policy); P3 when none
        matches."""
        if priority:
            return self.policy(priority)
        return next((p for p in self.built if p.matches(risk, intent)), self.policy("P3"))


@cache
def _default_text() -> str:
    return resources.files("omnihub.tickets").joinpath("policies.json").read_text("utf-8")


def default_value() -> dict[str, Any]:
    """The defaults as JSON data (`policies.json`, the template's value too), a fresh copy."""
    value: dict[str, Any] = json.loads(_default_text())
    return value


DEFAULTS = SlaPolicies.model_validate(default_value())
#: The default policies, by priority: tickets without a loaded value (tests, old callers).
BY_PRIORITY = {p.priority: p for p in DEFAULTS.built}


def policy_of(priority: str, policies: SlaPolicies | None = None) -> Policy:
    """A priority's policy in `policies`, or in the defaults."""
    return BY_PRIORITY[priority] if policies is None else policies.policy(priority)


def policy_for(
    risk: str | None,
    intent: str | None,
    priority: str | None = None,
    policies: SlaPolicies | None = None,
) -> Policy:
    """The first matching policy of `policies` (default: the defaults); P3 when none matches."""
    if policies is not None:
        return policies.policy_for(risk, intent, priority)
    if priority:
        return BY_PRIORITY[priority]
    ordered = (BY_PRIORITY[p.priority] for p in DEFAULTS.built)
    return next((p for p in ordered if p.matches(risk, intent)), BY_PRIORITY["P3"])
