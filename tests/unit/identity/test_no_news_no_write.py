"""No news, no write: an event whose identities, channel and profile the member already has (or
has newer) costs reads only; a value that is newer, even an equal one, is news."""

from datetime import UTC, datetime, timedelta
from itertools import permutations

import pytest

from omnihub.clock import VirtualClock
from omnihub.events.envelope import ProtectedField
from omnihub.identity.resolver import ResolveRequest, resolve
from tests.fakes.identities import MEMBER_IDS, VAULT, ident, phone
from tests.fakes.member_store import FakeMemberStore

T0 = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def no_pause(_: int) -> None:
    return None


@pytest.fixture
def clock():
    return VirtualClock(T0)


def name(value):
    """Sealed afresh each time, as the webhook does: equal values never share a ciphertext."""
    return {"name": ProtectedField(masked=value[0] + "*", sealed=VAULT.seal(value, "profile.name"))}


def request(event_id, at=T0, profile=None, channel="tmall"):
    return ResolveRequest(
        causing_event_id=f"{channel}:{event_id}",
        channel=channel,
        occurred_at=at,
        identities=[phone("13800000001"), ident("tmall_ouid", "shop-001:ouid-88")],
        profile=profile or {},
    )


def run(store, clock, req):
    clock.advance(timedelta(seconds=1))
    return resolve(store, req, clock, ids=MEMBER_IDS, pause=no_pause)


def test_a_redelivered_event_writes_nothing(clock):
    store = FakeMemberStore()
    first = request("e1", profile=name("王五"))
    run(store, clock, first)
    before, commits = dict(store.member_rows), store.commits
    run(store, clock, first)
    assert store.commits == commits
    assert store.member_rows == before


def test_an_older_value_arriving_late_writes_nothing_and_overwrites_nothing(clock):
    store = FakeMemberStore()
    member_id = run(store, clock, request("e2", at=T0 + HOUR, profile=name("李四"))).member_id
    commits = store.commits
    for late in (name("王五"), name("李四")):  # a different older value, and the same one
        run(store, clock, request(f"late-{late['name'].masked}", at=T0, profile=late))
    assert store.commits == commits
    assert store.roots()[member_id].profile["name"].masked == "李*"
    assert store.roots()[member_id].profile["name"].by == "tmall:e2"


def test_an_event_naming_a_known_member_without_profile_writes_nothing(clock):
    store = FakeMemberStore()
    run(store, clock, request("e1", profile=name("王五")))
    commits = store.commits
    run(store, clock, request("order", at=T0 + HOUR))  # an order.paid that brings no profile
    assert store.commits == commits


def test_a_new_channel_is_news(clock):
    store = FakeMemberStore()
    member_id = run(store, clock, request("e1")).member_id
    commits = store.commits
    run(store, clock, request("e2", channel="jd"))
    assert store.commits == commits + 1
    assert store.roots()[member_id].channels == {"tmall", "jd"}


def test_an_equal_value_stated_later_is_news_or_arrival_order_would_decide(clock):
    """X at 10:00, Y at 11:00, X again at 12:00: the member's name is X. Had the second X been
    skipped as 'nothing changed', the order X, X(12:00), Y(11:00) would end with Y. So a newer
    statement of an equal value moves the field's time (one write), and every order agrees."""
    events = [
        request("x1", at=T0, profile=name("王五")),
        request("y", at=T0 + HOUR, profile=name("李四")),
        request("x2", at=T0 + 2 * HOUR, profile=name("王五")),
    ]
    outcomes = set()
    for order in permutations(events):
        store = FakeMemberStore()
        for req in order:
            member_id = run(store, clock, req).member_id
        value = store.roots()[member_id].profile["name"]
        outcomes.add((value.masked, value.by))
    assert outcomes == {("王*", "tmall:x2")}
    store = FakeMemberStore()
    run(store, clock, events[0])
    commits = store.commits
    run(store, clock, events[2])
    assert store.commits == commits + 1
