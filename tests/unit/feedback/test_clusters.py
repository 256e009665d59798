"""Clusters and batch holds (SPEC 4.3) on an in-memory store with the adapter's conditions, and
the adapter's key design (no hot item)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from omnihub.adapters.feedback_store import (
    SHARDS,
    observation_pk,
    observation_row,
    shard_of,
)
from omnihub.clock import VirtualClock
from omnihub.feedback.classifier import classify
from omnihub.feedback.clusters import (
    FOOD_SAFETY,
    THRESHOLD,
    WINDOW,
    cluster_keys,
    cluster_topic,
    observations,
)
from omnihub.feedback.model import ClusterKey, Incoming
from omnihub.feedback.service import receive
from tests.fakes.feedback_store import FakeFeedbackStore

START = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
DAMP = "小包装米易受潮"
RANCID = "花生油有哈喇味，怀疑变质了"
MOULDY = "米里有霉味，吃了拉肚子"


class Day:
    """Posts feedback one after another on a clock that it moves."""

    def __init__(self, store: FakeFeedbackStore | None = None) -> None:
        self.store = store or FakeFeedbackStore()
        self.clock = VirtualClock(START)
        self.n = 0

    def post(self, text: str, *, at: timedelta | None = None, **fields: object):
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
        return receive(self.store, feedback, lambda: f"mbr_{self.n}", self.clock)

    def of(self, kind: str) -> list:
        return self.store.events_of(kind)


def test_a_report_counts_under_the_thing_that_went_wrong() -> None:
    assert classify(DAMP).topics == ["packaging", "storage"]
    assert cluster_topic(classify(DAMP)) == "storage"
    assert cluster_topic(classify("瓶盖漏油，箱子都湿了")) == "leakage"
    assert cluster_topic(classify("快递太慢了，一个星期才到")) == "logistics"


def test_praise_questions_and_suggestions_are_not_counted() -> None:
    assert cluster_topic(classify("米很香，孩子爱吃，下次还买")) is None
    assert cluster_topic(classify("高油酸花生油的烟点是多少？")) is None
    assert cluster_topic(classify("希望出个两斤装的小包装大米")) is None


def test_a_report_counts_on_its_sku_and_on_its_batch() -> None:
    feedback = Incoming(
        "tmall", "FB-1", RANCID, "review", "tmall:e", START, START, sku="S", batch_no="B"
    )
    keys = cluster_keys(feedback, classify(RANCID))
    assert keys == [
        ClusterKey("sku", "S", "taste_quality"),
        ClusterKey("batch", "B", "taste_quality"),
    ]
    counted = {o.key for o in observations(feedback, classify(RANCID))}
    assert ClusterKey("batch", "B", FOOD_SAFETY) in counted


def test_three_reports_on_one_sku_within_seven_days_raise_one_cluster() -> None:
    day = Day()
    day.post(DAMP, sku="RICE-MINI-1KG", at=timedelta(0))
    day.post(DAMP, sku="RICE-MINI-1KG", at=timedelta(days=2))
    assert day.of("cluster.detected") == []
    third = day.post(DAMP, sku="RICE-MINI-1KG", at=timedelta(days=6, hours=23))
    (episode,) = third.detection.episodes
    assert (episode.key, episode.count) == (ClusterKey("sku", "RICE-MINI-1KG", "storage"), 3)
    assert episode.feedback_refs == ("tmall:FB-1", "tmall:FB-2", "tmall:FB-3")
    (event,) = day.of("cluster.detected")
    assert event.data["topic"] == "storage"
    assert event.data["sku"] == "RICE-MINI-1KG"
    assert event.data["count"] == 3
    assert event.member_id is None

    fourth = day.post(DAMP, sku="RICE-MINI-1KG", at=timedelta(days=7))
    assert fourth.detection.episodes == ()
    assert len(day.of("cluster.detected")) == 1


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
    assert len(day.of("cluster.detected")) == 1  # the first episode is open until day 7
    day.post(DAMP, sku="S", at=timedelta(days=7, hours=3))
    second = day.of("cluster.detected")
    assert len(second) == 2
    ids = {e.data["cluster_id"] for e in second}
    assert len(ids) == 2


def test_the_same_batch_on_different_skus_is_a_batch_cluster() -> None:
    day = Day()
    for sku in ("OIL-1L", "OIL-5L", "OIL-1L8"):
        day.post("瓶盖漏油，箱子都湿了", sku=sku, batch_no="B7")
    (event,) = day.of("cluster.detected")
    assert (event.data["scope"], event.data["key"], event.data["batch_no"]) == ("batch", "B7", "B7")


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
        day.post("瓶盖漏油，箱子都湿了", batch_no="B1")
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
    assert len(day.store.observations) == 3


def test_a_crash_between_the_record_and_the_detection_is_finished_by_the_redelivery() -> None:
    day = Day()
    for _ in range(2):
        day.post(DAMP, sku="S")
    third = Incoming("tmall", "FB-3", DAMP, "review", "tmall:ev-3", START, START, sku="S")
    store = day.store
    real_open = store.open_episode

    def dies(*_: object) -> bool:
        raise TimeoutError("the function timed out after its commit")

    store.open_episode = dies  # type: ignore[method-assign]
    with pytest.raises(TimeoutError):
        receive(store, third, lambda: "mbr_3", day.clock)
    assert store.events_of("cluster.detected") == []
    store.open_episode = real_open  # type: ignore[method-assign]
    redelivered = receive(store, third, lambda: "mbr_3", day.clock)
    assert not redelivered.recorded
    assert len(store.events_of("cluster.detected")) == 1


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
    assert len(store.events_of("cluster.detected")) == 1


# --- the adapter's key design ------------------------------------------------------------------


def test_observations_of_one_busy_sku_spread_evenly_over_the_shards() -> None:
    spread = Counter(shard_of(f"tmall:FB-{n}") for n in range(8000))
    assert set(spread) == set(range(SHARDS))
    assert max(spread.values()) < 1.15 * 8000 / SHARDS
    assert min(spread.values()) > 0.85 * 8000 / SHARDS


def test_an_observation_row_is_keyed_by_shard_and_time_and_expires_after_the_window() -> None:
    feedback = Incoming("tmall", "FB-1", DAMP, "review", "tmall:e", START, START, sku="S")
    (observation,) = observations(feedback, classify(DAMP))
    row = observation_row(observation)
    assert row["pk"] == observation_pk(ClusterKey("sku", "S", "storage"), shard_of("tmall:FB-1"))
    assert row["pk"].startswith("CL#sku#S#storage#")
    assert row["sk"] == "2026-11-11T02:00:00.000Z#tmall:FB-1"
    assert row["expires_at"] > int((START + WINDOW).timestamp())
    assert THRESHOLD == 3
