"""Clusters and batch holds on an in-memory store with the adapter's conditions (the counting
itself: test_cluster_counts.py)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from omnihub.clock import VirtualClock, business_date
from omnihub.feedback.classifier import classify
from omnihub.feedback.clusters import (
    FOOD_SAFETY,
    THRESHOLD,
    cluster_keys,
    cluster_topics,
    counted_keys,
    hold_key,
)
from omnihub.feedback.knowledge import default_knowledge_base
from omnihub.feedback.model import ClusterKey, Incoming, Tally
from omnihub.feedback.routing import route
from omnihub.feedback.service import receive
from tests.fakes.feedback_store import FakeFeedbackStore

START = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
DAMP = "包装破了，米也受潮了"
RANCID = "花生油有哈喇味，怀疑变质了"
MOULDY = "米里有霉味，吃了拉肚子"
LEAK = "瓶盖漏油，箱子都湿了"


class Day:
    """Posts feedback one after another on a clock that it moves."""

    def __init__(self, store: FakeFeedbackStore | None = None) -> None:
        self.store = store or FakeFeedbackStore()
        self.clock = VirtualClock(START)
        self.n = 0

    def post(
        self,
        text: str,
        *,
        at: timedelta | None = None,
        member: str | None = None,
        **fields: object,
    ):
        """Each post from a new member unless `member` names one."""
        if at is not None:
            self.clock.set(START + at)
        self.n += 1
        now = self.clock.now()
        feedback = Incoming(
            channel=str(fields.pop("channel", "tmall")),
            feedback_id=f"FB-{self.n}",
            text=text,
            kind="review",
            causing_event_id=f"tmall:ev-{self.n}",
            occurred_at=now,
            received_at=now,
            **fields,  # type: ignore[arg-type]
        )
        who = member or f"mbr_{self.n}"
        return receive(self.store, feedback, lambda: who, self.clock)

    def of(self, kind: str) -> list:
        return self.store.events_of(kind)


def topics_of(text: str, rating: int | None = None) -> tuple[str, ...]:
    """What a report counts under, after routing (as `receive` computes it)."""
    c = classify(text)
    feedback = Incoming("tmall", "FB-0", text, "review", "tmall:e", START, START, rating=rating)
    return cluster_topics(c, route(c, feedback, default_knowledge_base()).outcome)


def test_a_report_counts_under_each_of_its_topics_and_a_leak_also_as_packaging() -> None:
    """Regression (D24 amended): one topic per report hid same-topic clusters."""
    assert topics_of(DAMP) == ("packaging", "storage")
    assert topics_of("漏油了") == ("packaging", "leakage")
    assert topics_of(LEAK) == ("packaging", "leakage")
    assert topics_of("快递太慢了，一个星期才到") == ("logistics",)


def test_three_packaging_complaints_two_also_about_leaks_raise_a_packaging_cluster() -> None:
    """Regression (issue 12, item 11): each report counted under one topic only, so two
    leak reports and one torn pack on one SKU within 3 hours raised nothing."""
    day = Day()
    day.post("包装破了", sku="OIL-PN-5L", at=timedelta(0))
    day.post("漏油了", sku="OIL-PN-5L", at=timedelta(hours=1))
    third = day.post("油桶漏油了，箱子里全是油", sku="OIL-PN-5L", at=timedelta(hours=3))
    (episode,) = third.detection.episodes
    assert (episode.key, episode.count) == (ClusterKey("sku", "OIL-PN-5L", "packaging"), 3)
    (event,) = day.of("cluster.detected")
    assert (event.data["topic"], event.data["count"]) == ("packaging", 3)
    # leakage has two reports so far; a third leak raises the leakage cluster, not packaging again
    fourth = day.post(LEAK, sku="OIL-PN-5L", at=timedelta(hours=4))
    assert [e.key.topic for e in fourth.detection.episodes] == ["leakage"]


def test_praise_questions_and_suggestions_are_not_counted() -> None:
    assert topics_of("米很香，孩子爱吃，下次还买") == ()
    assert topics_of("高油酸花生油的烟点是多少？") == ()
    assert topics_of("希望出个两斤装的小包装大米") == ()


def test_a_complaint_routing_reads_as_a_question_is_not_counted() -> None:
    """ "我的积分能换什么东西" read as a price complaint once; it is a question (issue 15)."""
    assert classify("我的积分能换什么东西").intent == "inquiry"
    assert topics_of("我的积分能换什么东西") == ()


def test_stars_alone_name_no_problem_to_count() -> None:
    """One star on "米很香" makes a P2 ticket (D27) but no taste cluster: the words praise."""
    assert topics_of("米很香，孩子爱吃，下次还买", rating=1) == ()
    assert topics_of("漏油了", rating=1) == ("packaging", "leakage")


def test_a_report_counts_on_its_sku_and_on_its_batch() -> None:
    feedback = Incoming(
        "tmall", "FB-1", RANCID, "review", "tmall:e", START, START, sku="S", batch_no="B"
    )
    keys = cluster_keys(feedback, classify(RANCID), "food_safety")
    assert keys == [
        ClusterKey("sku", "S", "taste_quality"),
        ClusterKey("batch", "B", "taste_quality"),
    ]
    assert counted_keys(feedback, classify(RANCID), "food_safety") == [
        *keys,
        hold_key("B"),
    ]
    assert hold_key("B").topic == FOOD_SAFETY


def test_three_reports_on_one_sku_within_seven_days_raise_one_cluster_per_topic() -> None:
    day = Day()
    day.post(DAMP, sku="RICE-MINI-1KG", at=timedelta(0))
    day.post(DAMP, sku="RICE-MINI-1KG", at=timedelta(days=2))
    assert day.of("cluster.detected") == []
    third = day.post(DAMP, sku="RICE-MINI-1KG", at=timedelta(days=6, hours=13))  # 23:00, day 7
    assert [(e.key, e.count) for e in third.detection.episodes] == [
        (ClusterKey("sku", "RICE-MINI-1KG", "packaging"), 3),
        (ClusterKey("sku", "RICE-MINI-1KG", "storage"), 3),
    ]
    refs = ("tmall:FB-1", "tmall:FB-2", "tmall:FB-3")
    assert {e.feedback_refs for e in third.detection.episodes} == {refs}
    events = day.of("cluster.detected")
    assert sorted(e.data["topic"] for e in events) == ["packaging", "storage"]
    assert {(e.data["sku"], e.data["count"], e.member_id) for e in events} == {
        ("RICE-MINI-1KG", 3, None)
    }

    fourth = day.post(DAMP, sku="RICE-MINI-1KG", at=timedelta(days=7))
    assert fourth.detection.episodes == ()
    assert len(day.of("cluster.detected")) == 2


def test_reports_spread_over_more_than_seven_days_are_no_cluster() -> None:
    day = Day()
    day.post(DAMP, sku="S", at=timedelta(0))
    day.post(DAMP, sku="S", at=timedelta(days=5))
    day.post(DAMP, sku="S", at=timedelta(days=7, hours=1))
    assert day.of("cluster.detected") == []


def test_reports_on_different_skus_or_topics_do_not_add_up() -> None:
    day = Day()
    day.post(DAMP, sku="S1")
    day.post(DAMP, sku="S2")
    day.post("瓶盖漏油，箱子都湿了", sku="S1")
    assert day.of("cluster.detected") == []


def test_a_new_episode_only_after_the_previous_one_has_passed() -> None:
    day = Day()
    for hours in (0, 1, 2):
        day.post(DAMP, sku="S", at=timedelta(hours=hours))
    for days in (3, 5, 6):
        day.post(DAMP, sku="S", at=timedelta(days=days))
    assert len(day.of("cluster.detected")) == 2  # packaging, storage: open until day 7
    day.post(DAMP, sku="S", at=timedelta(days=7, hours=3))
    second = day.of("cluster.detected")
    assert len(second) == 4
    ids = {e.data["cluster_id"] for e in second}
    assert len(ids) == 4


def test_the_same_batch_on_different_skus_is_a_batch_cluster() -> None:
    day = Day()
    for sku in ("OIL-1L", "OIL-5L", "OIL-1L8"):
        day.post(LEAK, sku=sku, batch_no="B7")
    found = sorted(
        (e.data["scope"], e.data["key"], e.data["batch_no"], e.data["topic"])
        for e in day.of("cluster.detected")
    )
    assert found == [("batch", "B7", "B7", "leakage"), ("batch", "B7", "B7", "packaging")]


def test_two_food_safety_reports_on_one_batch_request_one_hold() -> None:
    day = Day()
    first = day.post(RANCID, sku="OIL", batch_no="B20260901")
    assert first.detection.hold is None
    second = day.post(MOULDY, sku="RICE", batch_no="B20260901", at=timedelta(days=30))
    assert second.detection.hold is not None
    (event,) = day.of("batch.hold_requested")
    assert event.data["batch_no"] == "B20260901"
    assert event.data["reports"] == 2
    assert event.data["feedback_refs"] == ["tmall:FB-1", "tmall:FB-2"]
    day.post(RANCID, sku="OIL", batch_no="B20260901", at=timedelta(days=31))
    assert len(day.of("batch.hold_requested")) == 1


def test_complaints_that_are_no_food_safety_matter_never_hold_a_batch() -> None:
    day = Day()
    for _ in range(3):
        day.post(LEAK, batch_no="B1")
    day.post(RANCID)  # no batch: nothing to hold
    day.post(RANCID)
    assert day.of("batch.hold_requested") == []


def test_a_replay_counts_nothing_twice_and_raises_nothing() -> None:
    day = Day()
    for _ in range(2):
        day.post(DAMP, sku="S")
    third = Incoming("tmall", "FB-3", DAMP, "review", "tmall:ev-3", START, START, sku="S")
    receive(day.store, third, lambda: "mbr_3", day.clock)
    published = dict(day.store.published)
    again = receive(day.store, third, lambda: "mbr_3", day.clock)
    assert not again.recorded
    assert day.store.published == published
    assert len(day.store.marks) == 6  # three reporters, packaging and storage
    assert day.store.buckets == {
        (Tally("sku", "S"), business_date(START)): {"packaging": 3, "storage": 3}
    }


def test_a_crash_between_the_record_and_the_detection_is_finished_by_the_redelivery() -> None:
    day = Day()
    for _ in range(2):
        day.post(DAMP, sku="S")
    third = Incoming("tmall", "FB-3", DAMP, "review", "tmall:ev-3", START, START, sku="S")
    store = day.store
    real_open = store.open_episodes

    def dies(*_: object) -> tuple:
        raise TimeoutError("the function timed out after its commit")

    store.open_episodes = dies  # type: ignore[method-assign]
    with pytest.raises(TimeoutError):
        receive(store, third, lambda: "mbr_3", day.clock)
    assert store.events_of("cluster.detected") == []
    store.open_episodes = real_open  # type: ignore[method-assign]
    redelivered = receive(store, third, lambda: "mbr_3", day.clock)
    assert not redelivered.recorded
    assert len(store.events_of("cluster.detected")) == 2  # packaging and storage


def test_reports_racing_to_the_threshold_raise_exactly_one_cluster() -> None:
    """Every writer commits, then counts: the last to commit sees them all, and the marker is
    taken once. Counting before writing would see 1 each here and miss the cluster."""
    racers = THRESHOLD
    barrier = threading.Barrier(racers)
    store = FakeFeedbackStore()
    day = Day(store)
    store.before_record = lambda _: barrier.wait(timeout=5)
    errors: list[BaseException] = []

    def report(n: int) -> None:
        feedback = Incoming("jd", f"R-{n}", DAMP, "review", f"jd:r-{n}", START, START, sku="S")
        try:
            receive(store, feedback, lambda: f"mbr_r{n}", day.clock)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=report, args=(n,)) for n in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(e.data["topic"] for e in store.events_of("cluster.detected")) == [
        "packaging",
        "storage",
    ]


# --- reporters, not reports ----------------------------------------------------------------------


def test_one_customer_reporting_through_two_channels_requests_no_hold() -> None:
    """Decision (docs/decisions.md): a hold needs two reporters. The same rancid oil reported
    on tmall and again on the mini program by one member is one report of it."""
    day = Day()
    day.post(RANCID, sku="OIL", batch_no="B1", member="mbr_a", channel="tmall")
    again = day.post(
        RANCID,
        sku="OIL",
        batch_no="B1",
        member="mbr_a",
        channel="miniprogram",
        at=timedelta(hours=1),
    )
    assert again.detection.hold is None
    assert day.of("batch.hold_requested") == []
    assert len(day.of("alert.food_safety")) == 2  # each report still reaches a person
    other = day.post(MOULDY, sku="OIL", batch_no="B1", member="mbr_b", at=timedelta(days=3))
    assert other.detection.hold is not None
    (event,) = day.of("batch.hold_requested")
    assert event.data["reports"] == 2
    # one reference per reporter: its latest report (the marks carry no history)
    assert event.data["feedback_refs"] == ["miniprogram:FB-2", "tmall:FB-3"]


def test_one_customer_reporting_three_times_is_no_cluster() -> None:
    day = Day()
    for channel in ("tmall", "jd", "miniprogram"):
        day.post(LEAK, sku="S", member="mbr_a", channel=channel)
    assert day.of("cluster.detected") == []
    third = day.post(LEAK, sku="S", member="mbr_b")
    assert third.detection.episodes == ()
    fourth = day.post(LEAK, sku="S", member="mbr_c")
    assert {e.key.topic for e in fourth.detection.episodes} == {"leakage", "packaging"}
    assert {e.count for e in fourth.detection.episodes} == {3}  # reporters: one ref each
    # at one instant the first report stays the reporter's mark
    assert {e.feedback_refs for e in fourth.detection.episodes} == {
        ("tmall:FB-1", "tmall:FB-4", "tmall:FB-5")
    }


def test_reports_without_a_member_each_count_on_their_own() -> None:
    store = FakeFeedbackStore()
    clock = VirtualClock(START)
    for n in range(3):
        feedback = Incoming("jd", f"A-{n}", LEAK, "review", f"jd:a-{n}", START, START, sku="S")
        receive(store, feedback, lambda: None, clock)
    assert len(store.events_of("cluster.detected")) == 2
