"""Cluster and hold counts by reporter marks and bucket counts (docs/decisions.md D89): exact
against a brute-force reference under any order, replays and duplicates; the window is
Shanghai business days (calendar quarters for holds)."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

from hypothesis import given, settings

from omnihub.clock import SHANGHAI, VirtualClock, business_date, to_utc
from omnihub.feedback.clusters import count_changes, hold_tally, keep_until, window
from omnihub.feedback.model import ClusterKey, CountChange, Incoming, Mark, MarkKey, MarkMove, Tally
from omnihub.feedback.service import receive
from tests.fakes.cluster_reference import histories, replay, topics_of
from tests.fakes.feedback_store import FakeFeedbackStore

DAMP = "包装破了，米也受潮了"
#: the topics DAMP counts under (packaging and at least one more)
TOPICS = topics_of(DAMP)
NONE = dict.fromkeys(TOPICS, 0)
ONE = dict.fromkeys(TOPICS, 1)
RANCID = "花生油有哈喇味，怀疑变质了"
SKU = Tally("sku", "S")


def shanghai(day: str, hour: int = 10, minute: int = 0) -> datetime:
    return to_utc(datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}").replace(tzinfo=SHANGHAI))


class Desk:
    """Reports posted at chosen Shanghai times, each from its member."""

    def __init__(self) -> None:
        self.store = FakeFeedbackStore()
        self.clock = VirtualClock(shanghai("2026-12-01"))
        self.n = 0

    def post(
        self,
        when: datetime,
        member: str | None = None,
        text: str = DAMP,
        processed: datetime | None = None,
        **fields: object,
    ):
        self.n += 1
        self.clock.set(processed or when)
        feedback = Incoming(
            "tmall",
            f"FB-{self.n}",
            text,
            "review",
            f"tmall:e-{self.n}",
            when,
            when,
            sku=str(fields.get("sku", "S")),
            batch_no=fields.get("batch_no"),  # type: ignore[arg-type]
        )
        who = member or f"mbr_{self.n}"
        return receive(self.store, feedback, lambda: who, self.clock)

    def clusters(self) -> list[ClusterKey]:
        return sorted(e.key for e in self.store.episodes)


@given(histories())
@settings(max_examples=150, deadline=None)
def test_counts_and_alarms_equal_the_brute_force_reference_in_any_order(history) -> None:
    replay(FakeFeedbackStore(), history)


def test_the_example_text_counts_under_packaging_and_more() -> None:
    assert "packaging" in TOPICS
    assert len(TOPICS) >= 2


def test_the_seventh_business_day_counts_and_the_eighth_does_not() -> None:
    """Seven Shanghai days: the day counted and the six before, whatever the hour."""
    on = Desk()
    on.post(shanghai("2026-12-01", 0, 30))
    on.post(shanghai("2026-12-04"))
    third = on.post(shanghai("2026-12-07", 23, 50))
    assert {e.key.topic for e in third.detection.episodes} == set(TOPICS)

    off = Desk()
    off.post(shanghai("2026-12-01", 23, 0))
    off.post(shanghai("2026-12-04"))
    # 25.5 hours short of 168 after the first: a rolling week would count it; day 8 does not
    late = off.post(shanghai("2026-12-08", 0, 30))
    assert late.detection.episodes == ()
    assert off.store.episodes == []


def test_a_reporter_sending_twice_counts_once_and_its_count_moves_to_its_latest_day() -> None:
    desk = Desk()
    desk.post(shanghai("2026-12-01"), member="mbr_a")
    desk.post(shanghai("2026-12-03"), member="mbr_a")
    assert desk.store.buckets[(SKU, date(2026, 12, 1))] == NONE
    assert desk.store.buckets[(SKU, date(2026, 12, 3))] == ONE
    desk.post(shanghai("2026-12-04"), member="mbr_b")
    assert desk.store.episodes == []  # two reporters
    desk.post(shanghai("2026-12-09"), member="mbr_c")  # mbr_a's first report is out of the window
    assert [k.topic for k in desk.clusters()] == sorted(TOPICS)


def test_an_older_report_arriving_late_changes_nothing() -> None:
    desk = Desk()
    desk.post(shanghai("2026-12-05"), member="mbr_a")
    marks, buckets = dict(desk.store.marks), {k: dict(v) for k, v in desk.store.buckets.items()}
    late = desk.post(shanghai("2026-12-02"), member="mbr_a", processed=shanghai("2026-12-05", 11))
    assert late.recorded  # the feedback itself is kept
    assert desk.store.marks == marks
    assert desk.store.buckets == buckets


def test_a_replay_of_the_same_event_moves_nothing() -> None:
    desk = Desk()
    desk.post(shanghai("2026-12-01"), member="mbr_a")
    feedback = desk.store.records["tmall:FB-1"].incoming
    marks, buckets = dict(desk.store.marks), {k: dict(v) for k, v in desk.store.buckets.items()}
    again = receive(desk.store, feedback, lambda: "mbr_a", desk.clock)
    assert not again.recorded
    assert (desk.store.marks, desk.store.buckets) == (marks, buckets)


def test_a_same_reporter_race_is_read_again_and_counted_once() -> None:
    """Two reports of one reporter racing: the second to write finds its mark moved (the
    condition fails, nothing is half-applied), reads again, and moves it from there."""
    desk = Desk()
    store = desk.store
    fired = threading.Event()

    def racer(_: object) -> None:
        if not fired.is_set():
            fired.set()
            desk.post(shanghai("2026-12-02"), member="mbr_a")  # commits between read and write

    store.before_record = racer
    at = shanghai("2026-12-03")
    first = Incoming("tmall", "FB-0", DAMP, "review", "tmall:e-0", at, at, sku="S")
    receive(store, first, lambda: "mbr_a", VirtualClock(shanghai("2026-12-03")))
    assert len(store.records) == 2
    assert store.marks[MarkKey(ClusterKey("sku", "S", "packaging"), "mbr:mbr_a")].ref == (
        "tmall:FB-0"
    )
    assert store.buckets[(SKU, date(2026, 12, 2))] == NONE
    assert store.buckets[(SKU, date(2026, 12, 3))] == ONE


def test_holds_count_the_quarter_and_the_8_before() -> None:
    """At least 730 days: a food-safety report 8 quarters back still counts (821 days here; a
    rolling 730 days would not), one 9 quarters back does not."""
    desk = Desk()
    desk.post(shanghai("2024-10-01"), text=RANCID, batch_no="B1")
    held = desk.post(shanghai("2026-12-31"), text=RANCID, batch_no="B1")
    assert held.detection.hold is not None
    other = Desk()
    other.post(shanghai("2024-09-30"), text=RANCID, batch_no="B2")
    assert other.post(shanghai("2026-10-01"), text=RANCID, batch_no="B2").detection.hold is None


def test_count_changes_move_one_count_per_topic_and_write_each_bucket_once() -> None:
    key = MarkKey(ClusterKey("sku", "S", "packaging"), "mbr:a")
    also = MarkKey(ClusterKey("sku", "S", "storage"), "mbr:a")
    d1, d3 = shanghai("2026-12-01"), shanghai("2026-12-03")
    moves = [
        MarkMove(key, Mark(d1, "r1"), Mark(d3, "r2"), d3),
        MarkMove(also, None, Mark(d3, "r2"), d3),
    ]
    assert count_changes(moves) == (
        CountChange(
            SKU, date(2026, 12, 1), (("packaging", -1),), keep_until(SKU, date(2026, 12, 1))
        ),
        CountChange(
            SKU,
            date(2026, 12, 3),
            (("packaging", 1), ("storage", 1)),
            keep_until(SKU, date(2026, 12, 3)),
        ),
    )
    same_day = MarkMove(key, Mark(d1, "r1"), Mark(d1 + timedelta(hours=5), "r2"), d3)
    assert count_changes([same_day]) == ()  # the mark moves, the count stays


def test_a_window_is_seven_days_or_nine_quarters_up_to_the_present() -> None:
    now = shanghai("2026-12-08", 0, 30)
    assert window(SKU, now, now) == tuple(date(2026, 12, d) for d in range(2, 9))
    quarters = window(hold_tally("B"), now, now)
    assert quarters == tuple(
        date(y, m, 1)
        for y in (2024, 2025, 2026)
        for m in (1, 4, 7, 10)
        if date(y, m, 1) >= date(2024, 10, 1)
    )
    assert business_date(now) == date(2026, 12, 8)
    # a receipt stamped ahead of this clock still falls inside
    assert window(SKU, now, now + timedelta(days=1))[-1] == date(2026, 12, 9)
