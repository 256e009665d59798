"""A brute-force reference for cluster and hold counting, and a runner that replays random
report histories through `receive` on any FeedbackStore and checks it against the reference
after every report (tests/unit/feedback/test_cluster_counts.py on the fake,
tests/integration/test_cluster_counts_moto.py on DynamoDB).

The reference keeps every report and counts, for a key, the distinct reporters with any report
under it received in the window: no marks, no buckets, nothing incremental."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache

from hypothesis import strategies as st

from omnihub.clock import VirtualClock, business_date
from omnihub.feedback.classifier import Classification, classify
from omnihub.feedback.clusters import (
    FOOD_SAFETY,
    HOLD_QUARTERS,
    HOLD_REPORTS,
    THRESHOLD,
    WINDOW,
    WINDOW_DAYS,
    cluster_topics,
    counted_keys,
    reporter_of,
    tally_of,
    window,
)
from omnihub.feedback.knowledge import default_knowledge_base
from omnihub.feedback.model import ClusterKey, Incoming
from omnihub.feedback.ports import FeedbackStore
from omnihub.feedback.routing import route
from omnihub.feedback.service import receive

#: 22:00 in Shanghai: a day boundary two hours on.
START = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
TEXTS = (
    "包装破了，米也受潮了",  # packaging and more
    "瓶盖漏油，箱子都湿了",  # packaging, leakage
    "花生油有哈喇味，怀疑变质了",  # food safety
    "米很香，孩子爱吃，下次还买",  # praise: counts nowhere
)


@cache
def reading(text: str) -> tuple[Classification, str]:
    c = classify(text)
    probe = Incoming("tmall", "x", text, "review", "tmall:x", START, START)
    return c, route(c, probe, default_knowledge_base()).outcome


def topics_of(text: str) -> tuple[str, ...]:
    """What a text counts under, as the classifier of the day reads it (tests name no topic
    the classifier decides)."""
    return cluster_topics(*reading(text))


@dataclass(frozen=True)
class Report:
    n: int
    member: str | None
    text: str
    sku: str | None
    batch: str | None
    hours: int

    def incoming(self, prefix: str) -> Incoming:
        at = START + timedelta(hours=self.hours)
        return Incoming(
            channel="tmall",
            feedback_id=f"{prefix}R{self.n}",
            text=self.text,
            kind="review",
            causing_event_id=f"tmall:{prefix}e{self.n}",
            occurred_at=at,
            received_at=at,
            sku=f"{prefix}{self.sku}" if self.sku else None,
            batch_no=f"{prefix}{self.batch}" if self.batch else None,
        )


@st.composite
def histories(draw: st.DrawFn, max_reports: int = 24) -> list[tuple[Report, int]]:
    """Reports over ~20 days from a few reporters (None: no member), delivered in any order,
    some twice; each with the hours its processing lags its receipt."""
    count = draw(st.integers(1, max_reports))
    reports = [
        Report(
            n,
            draw(st.sampled_from(("m0", "m1", "m2", "m3", None))),
            draw(st.sampled_from(TEXTS)),
            draw(st.sampled_from(("S1", "S2", None))),
            draw(st.sampled_from(("B1", None))),
            draw(st.integers(0, 20 * 24)),
        )
        for n in range(count)
    ]
    deliveries = reports + draw(st.lists(st.sampled_from(reports), max_size=count // 3))
    order = draw(st.permutations(deliveries))
    return [(r, draw(st.sampled_from((0, 0, 1, 30, 200)))) for r in order]


@dataclass
class Reference:
    """Every report seen, and the episodes and holds the rules raise over them."""

    seen: dict[str, tuple[datetime, str, list[ClusterKey]]] = field(default_factory=dict)
    open_until: dict[ClusterKey, datetime] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)

    def add(self, feedback: Incoming, member: str | None) -> list[ClusterKey]:
        c, outcome = reading(feedback.text)
        keys = counted_keys(feedback, c, outcome)
        if feedback.ref not in self.seen:
            self.seen[feedback.ref] = (feedback.received_at, reporter_of(feedback, member), keys)
        return keys

    def reporters(self, key: ClusterKey, now: datetime) -> int:
        """Distinct reporters with any report under `key` in the window at `now`."""
        today = business_date(now)
        found = set()
        for at, reporter, keys in self.seen.values():
            day = business_date(at)
            if key not in keys:
                continue
            if key.topic == FOOD_SAFETY:
                quarters = (
                    (today.year - day.year) * 4 + (today.month - 1) // 3 - (day.month - 1) // 3
                )
                inside = quarters < HOLD_QUARTERS
            else:
                inside = (today - day).days < WINDOW_DAYS
            if inside:
                found.add(reporter)
        return len(found)

    def raise_(self, keys: list[ClusterKey], now: datetime) -> tuple[set[ClusterKey], bool]:
        """What the rules raise after a report under `keys` at `now`."""
        raised = set()
        hold = False
        for key in keys:
            if key.topic == FOOD_SAFETY:
                if key.key not in self.held and self.reporters(key, now) >= HOLD_REPORTS:
                    self.held.add(key.key)
                    hold = True
            elif self.open_until.get(key, now) <= now and self.reporters(key, now) >= THRESHOLD:
                self.open_until[key] = now + WINDOW
                raised.add(key)
        return raised, hold


def replay(
    store: FeedbackStore,
    history: list[tuple[Report, int]],
    prefix: str = "",
    member_id: Callable[[str], str] = lambda m: m,
) -> None:
    """Every delivery through `receive` on a monotone clock (a late delivery is processed
    after later ones); after each, the store's counts and what it raised equal the
    reference's."""
    clock = VirtualClock(START)
    reference = Reference()
    for report, lag in history:
        feedback = report.incoming(prefix)
        now = max(clock.now(), feedback.received_at + timedelta(hours=lag))
        clock.set(now)
        member = member_id(report.member) if report.member else None
        received = receive(store, feedback, lambda m=member: m, clock)
        keys = reference.add(feedback, member)
        counts = store.count({tally_of(k): window(tally_of(k), now, now) for k in keys})
        for key in keys:
            got = counts.get(tally_of(key), {}).get(key.topic, 0)
            assert got == reference.reporters(key, now), (key, report, now)
        raised, hold = reference.raise_(keys, now)
        assert {e.key for e in received.detection.episodes} == raised, (report, now)
        assert (received.detection.hold is not None) == hold, (report, now)
