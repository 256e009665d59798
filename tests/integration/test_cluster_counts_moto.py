"""Cluster and hold counts on DynamoDB (moto, the template's FeedbackTable): the adapter's marks
and count items give the brute-force reference's counts and alarms, and a day item does not grow
with the reports counted in it (docs/decisions.md D89)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings

from omnihub.adapters.dynamo import from_attributes
from omnihub.adapters.feedback_store import COUNT_SHARDS, DynamoFeedbackStore, count_key
from omnihub.adapters.member_store import DynamoMemberStore
from omnihub.clock import VirtualClock, business_date
from omnihub.feedback.clusters import window
from omnihub.feedback.model import ClusterKey, Incoming, Mark, MarkKey, Seen, Tally
from omnihub.feedback.service import receive
from omnihub.identity.model import IdentityChange, Member
from tests.fakes.cluster_reference import START, histories, replay, topics_of

_RUN = itertools.count()
DAMP = "包装破了，米也受潮了"
TOPICS = topics_of(DAMP)
STORE_FIELDS = ("client", "table", "event_log_table", "members_table")


def stores(stack) -> tuple[DynamoFeedbackStore, DynamoMemberStore]:
    client = stack.client("dynamodb")
    events = stack.table_name("EventLogTable")
    members = stack.table_name("MembersTable")
    return (
        DynamoFeedbackStore(client, stack.table_name("FeedbackTable"), events, members),
        DynamoMemberStore(client, members, events),
    )


@given(history=histories(max_reports=10))
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_counts_and_alarms_on_dynamodb_equal_the_brute_force_reference(stack, history) -> None:
    feedback, members = stores(stack)
    prefix = f"x{next(_RUN)}-"  # each example its own SKUs, batches and members
    ids = {m: f"mbr_{prefix}{m}" for m in ("m0", "m1", "m2", "m3")}
    created = [Member(member_id=i, created_at="2026-11-01T00:00:00.000Z") for i in ids.values()]
    members.commit(IdentityChange(create=created))
    replay(feedback, history, prefix, member_id=ids.__getitem__)


def test_a_day_item_stays_the_same_size_after_1000_reports(stack) -> None:
    """The rejected design kept a day's reporters in a set: 400 KB past ~16,000 reports. Here
    the day's items hold one number per topic whatever the traffic."""
    feedback, _ = stores(stack)
    clock = VirtualClock(START)
    day = business_date(START)

    def items() -> list[dict]:
        found = []
        for shard in range(COUNT_SHARDS):
            key = count_key(Tally("sku", "BUSY"), day, shard)
            got = stack.client("dynamodb").get_item(
                TableName=stack.table_name("FeedbackTable"),
                Key={"pk": {"S": key["pk"]}, "sk": {"S": key["sk"]}},
            )
            if "Item" in got:
                found.append(got["Item"])
        return found

    def size(item: dict) -> int:
        return sum(len(name) + len(str(next(iter(v.values())))) for name, v in item.items())

    sizes = []
    for n in range(1000):
        at = START + timedelta(seconds=n)
        report = Incoming("jd", f"B-{n}", DAMP, "review", f"jd:b-{n}", at, at, sku="BUSY")
        receive(feedback, report, lambda: None, clock)  # no member: each report its own reporter
        if n in (19, 999):
            sizes.append(max(size(i) for i in items()))
    counted = [from_attributes(i) for i in items()]
    assert {t: sum(i[t] for i in counted) for t in TOPICS} == dict.fromkeys(TOPICS, 1000)
    assert {frozenset(i) for i in counted} == {frozenset({"pk", "sk", "expires_at", *TOPICS})}
    assert sizes[1] <= sizes[0] + 2 * len(TOPICS)  # two more digits in each count at most
    assert sizes[1] < 100


class StaleOnce(DynamoFeedbackStore):
    """Answers its first look with what a racer's commit has since changed."""

    stale: Seen | None = None

    def look(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        stale, self.stale = self.stale, None
        return stale if stale is not None else super().look(*args, **kwargs)


def test_a_mark_moved_since_it_was_read_cancels_the_write_and_it_is_read_again(stack) -> None:
    feedback, members = stores(stack)
    members.commit(IdentityChange(create=[Member("mbr_r", "2026-11-01T00:00:00.000Z")]))
    store = StaleOnce(*(getattr(feedback, f"_{n}") for n in STORE_FIELDS))
    clock = VirtualClock(START)

    def post(n: int, day: int) -> None:
        at = START + timedelta(days=day)
        clock.set(at)
        report = Incoming("jd", f"R-{n}", DAMP, "review", f"jd:r-{n}", at, at, sku="RACE")
        receive(store, report, lambda: "mbr_r", clock)

    post(1, 0)
    post(2, 1)
    marks = [MarkKey(ClusterKey("sku", "RACE", t), "mbr:mbr_r") for t in TOPICS]
    # the third report read the marks as they were before the second moved them
    store.stale = Seen(marks={m: Mark(START, "jd:R-1") for m in marks})
    post(3, 2)
    tally = Tally("sku", "RACE")
    assert store.count({tally: window(tally, clock.now(), START)})[tally] == dict.fromkeys(
        TOPICS, 1
    )
    # and day by day: the count left the second report's day, not the first's again
    days = [business_date(START + timedelta(days=d)) for d in range(3)]
    by_day = [store.count({tally: [d]})[tally].get(TOPICS[0], 0) for d in days]
    assert by_day == [0, 0, 1]
    assert store.refs(marks[0].key, START, 10) == ("jd:R-3",)
