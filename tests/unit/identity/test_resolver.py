"""Resolution rules of One ID, against the in-memory store."""

import contextlib
import threading
from datetime import UTC, datetime, timedelta

import pytest

from omnihub.clock import VirtualClock
from omnihub.errors import Conflict, Gone, NotFound
from omnihub.events.envelope import ProtectedField
from omnihub.identity.admin import current, erase, erase_by_identities, lookup, unmerge
from omnihub.identity.chain import lineage
from omnihub.identity.resolver import ResolveRequest, resolve
from tests.fakes.identities import MEMBER_IDS, VAULT, ident, phone
from tests.fakes.member_store import FakeMemberStore

T0 = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)


def no_pause(_: int) -> None:
    return None


@pytest.fixture
def store():
    return FakeMemberStore()


@pytest.fixture
def clock():
    return VirtualClock(T0)


def request(event_id, *identities, channel="tmall", at=T0, profile=None):
    return ResolveRequest(
        causing_event_id=f"{channel}:{event_id}",
        channel=channel,
        occurred_at=at,
        identities=list(identities),
        profile=profile or {},
    )


def run(store, clock, req):
    clock.advance(timedelta(seconds=1))
    return resolve(store, req, clock, ids=MEMBER_IDS, pause=no_pause)


def test_a_new_person_becomes_a_new_member_with_one_created_event(store, clock):
    result = run(store, clock, request("e1", phone("13800000001"), ident("jd_pin", "jd-7")))
    assert result.created
    assert set(result.attached) == {"phone", "jd_pin"}
    member = store.roots()[result.member_id]
    assert {i.masked for i in member.identities} == {"138****0001", "****"}
    assert [e.member_id for e in store.events_of("member.created")] == [result.member_id]


def test_a_known_member_costs_reads_and_no_write(store, clock):
    first = run(store, clock, request("e1", phone("13800000001")))
    commits = store.commits
    again = run(store, clock, request("e2", phone("138 0000 0001")))
    assert again.member_id == first.member_id
    assert not again.created
    assert store.commits == commits


def test_replaying_an_event_changes_nothing(store, clock):
    req = request("e1", phone("13800000001"), ident("wechat_unionid", "u-1"))
    first = run(store, clock, req)
    commits, events = store.commits, dict(store.published)
    assert run(store, clock, req) == type(first)(member_id=first.member_id, via=first.via)
    assert store.commits == commits
    assert store.published == events


def test_two_members_sharing_a_phone_merge_into_the_earliest(store, clock):
    a = run(store, clock, request("e1", phone("13800000001"), channel="douyin"))
    b = run(store, clock, request("e2", ident("wechat_unionid", "u-1"), channel="miniprogram"))
    joined = run(
        store,
        clock,
        request("e3", ident("wechat_unionid", "u-1"), phone("13800000001"), channel="pos"),
    )
    assert joined.member_id == a.member_id
    assert joined.merged == (b.member_id,)
    survivor = store.roots()[a.member_id]
    assert {i.type for i in survivor.identities} == {"phone", "wechat_unionid"}
    assert survivor.channels == {"douyin", "miniprogram", "pos"}
    assert store.member_rows[b.member_id].merged_into == a.member_id
    assert store.member_rows[b.member_id].identities == ()
    assert lookup(store, ("wechat_unionid", ident("wechat_unionid", "u-1").key)) == a.member_id
    merged = store.events_of("member.merged")
    assert [(e.member_id, e.data["absorbed_member_id"]) for e in merged] == [
        (a.member_id, b.member_id)
    ]
    assert current(store, b.member_id).member_id == a.member_id


def test_attach_only_identities_never_merge_members(store, clock):
    a = run(store, clock, request("e1", ident("wechat_openid", "app:o-1")))
    b = run(store, clock, request("e2", phone("13800000002")))
    result = run(
        store, clock, request("e3", ident("wechat_openid", "app:o-1"), phone("13800000002"))
    )
    assert result.member_id == b.member_id
    assert result.merged == ()
    assert set(store.roots()) == {a.member_id, b.member_id}


def test_an_attach_only_identity_finds_its_member_for_other_attach_only_ones(store, clock):
    a = run(store, clock, request("e1", ident("tmall_ouid", "shop1:u-9")))
    result = run(
        store, clock, request("e2", ident("tmall_ouid", "shop1:u-9"), ident("jd_pin", "pin-9"))
    )
    assert result.member_id == a.member_id
    assert result.attached == ("jd_pin",)


def test_a_new_phone_never_joins_a_member_through_an_attach_only_identity(store, clock):
    """Regression: a new phone joined whoever held a known device or openid."""
    a = run(store, clock, request("e1", ident("tmall_ouid", "shop1:u-9")))
    result = run(
        store, clock, request("e2", ident("tmall_ouid", "shop1:u-9"), phone("13800000003"))
    )
    assert result.created
    assert result.member_id != a.member_id
    assert result.attached == ("phone",)
    assert result.via == lineage(("phone", phone("13800000003").key))
    assert lookup(store, ("tmall_ouid", ident("tmall_ouid", "shop1:u-9").key)) == a.member_id


def test_a_shared_device_neither_glues_nor_moves_two_people(store, clock):
    """Regression: C's family tablet brought D's new phone (and D's openid) onto C."""
    tablet = ident("device_id", "ipad-family")
    c = run(store, clock, request("e1", phone("13800000001"), tablet, channel="app"))
    d = run(
        store,
        clock,
        request(
            "e2", phone("13800000002"), tablet, ident("wechat_openid", "wx1:o-d"), channel="app"
        ),
    )
    assert d.created
    assert d.member_id != c.member_id
    assert set(d.attached) == {"phone", "wechat_openid"}
    assert lookup(store, ("device_id", tablet.key)) == c.member_id  # the device stays
    assert {i.type for i in store.roots()[d.member_id].identities} == {"phone", "wechat_openid"}
    # later events of either person find their own member, whatever the tablet says
    again = run(store, clock, request("e3", phone("13800000002"), tablet, channel="app"))
    assert (again.member_id, again.merged, again.attached) == (d.member_id, (), ())
    assert len(store.roots()) == 2


def test_attach_only_identities_that_find_two_members_attach_nothing_new(store, clock):
    """Regression: with no merge-capable identity, a new attach-only one (and the profile)
    joined the earliest of two attach-only holders: a guess. Now nothing new is attached."""
    a = run(store, clock, request("e1", phone("13800000001"), ident("device_id", "dev-a")))
    b = run(store, clock, request("e2", phone("13800000002"), ident("jd_pin", "pin-b")))
    commits = store.commits
    name = {"name": ProtectedField(masked="王*", sealed=VAULT.seal("王五", "profile.name"))}
    weak = (ident("jd_pin", "pin-b"), ident("device_id", "dev-a"), ident("jd_pin", "pin-z"))
    result = run(store, clock, request("e3", *weak, profile=name))
    assert result.member_id == a.member_id  # the earliest, so replays land the same way
    assert (result.created, result.merged, result.attached) == (False, (), ())
    assert result.via == lineage(("device_id", ident("device_id", "dev-a").key))
    assert store.claims([("jd_pin", ident("jd_pin", "pin-z").key)]) == {}
    assert store.commits == commits  # nor anyone's profile
    assert set(store.roots()) == {a.member_id, b.member_id}


def test_placeholders_match_nobody(store, clock):
    a = run(store, clock, request("e1", phone("13800138000"), ident("jd_pin", "alice")))
    b = run(store, clock, request("e2", phone("13800138000"), ident("jd_pin", "bob")))
    assert a.member_id != b.member_id
    assert a.placeholders == b.placeholders == 1
    assert run(store, clock, request("e3", phone("null"))).member_id is None


def test_a_merge_that_breaks_a_limit_opens_a_review_case_instead(store, clock):
    a = run(store, clock, request("e1", phone("13800000001"), phone("13800000002")))
    b = run(store, clock, request("e2", phone("13800000003"), ident("store_card", "C-1")))
    result = run(store, clock, request("e3", phone("13800000001"), ident("store_card", "C-1")))
    assert result.merged == ()
    assert len(result.review_cases) == 1
    case = store.cases[result.review_cases[0]]
    assert case.reason == "merge_limit"
    assert set(case.member_ids) == {a.member_id, b.member_id}
    assert set(store.roots()) == {a.member_id, b.member_id}
    run(store, clock, request("e3", phone("13800000001"), ident("store_card", "C-1")))
    assert len(store.cases) == 1  # a replay does not open a second case


def test_a_new_identity_past_its_limit_opens_a_review_case(store, clock):
    a = run(store, clock, request("e1", ident("wechat_unionid", "u-1")))
    result = run(
        store, clock, request("e2", ident("wechat_unionid", "u-1"), ident("tmall_omid", "o-1"))
    )
    assert result.attached == ("tmall_omid",)
    # a second unionid cannot join the same member (limit 1): it would need a merge-capable match
    result = run(
        store, clock, request("e3", ident("tmall_omid", "o-1"), ident("wechat_unionid", "u-2"))
    )
    assert result.member_id == a.member_id
    assert result.attached == ()
    assert [store.cases[c].reason for c in result.review_cases] == ["identity_limit"]


def test_several_identities_past_one_limit_open_one_case(store, clock):
    a = run(store, clock, request("e1", phone("13800000001"), phone("13800000002")))
    result = run(
        store,
        clock,
        request("e2", phone("13800000001"), phone("13800000003"), phone("13800000004")),
    )
    assert result.member_id == a.member_id
    assert len(result.review_cases) == 1
    assert store.cases[result.review_cases[0]].reason == "identity_limit"


def test_profile_fields_take_the_newest_value_whatever_the_arrival_order(clock):
    def name(value):
        return {
            "name": ProtectedField(masked=value[0] + "*", sealed=VAULT.seal(value, "profile.name"))
        }

    older = request("e1", phone("13800000001"), at=T0, profile=name("王五"))
    newer = request("e2", phone("13800000001"), at=T0 + timedelta(hours=1), profile=name("李四"))
    outcomes = []
    for order in ([older, newer], [newer, older]):
        store = FakeMemberStore()
        for req in order:
            member_id = run(store, clock, req).member_id
        outcomes.append(store.roots()[member_id].profile["name"].masked)
    assert outcomes == ["李*", "李*"]


def test_twenty_racing_events_with_one_new_phone_create_one_member(clock):
    store = FakeMemberStore()
    barrier = threading.Barrier(20)
    original_claims = store.claims

    def claims_then_wait(refs):
        found = original_claims(refs)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=0.5)  # everyone has read "nobody holds this phone"
        return found

    store.claims = claims_then_wait
    results = []

    def worker(n):
        req = request(
            f"race-{n}", phone("13900000000"), ident("device_id", f"dev-{n}"), channel="app"
        )
        results.append(resolve(store, req, clock, ids=MEMBER_IDS, pause=no_pause))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r.member_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert len(store.roots()) == 1
    assert store.conflicts >= 19  # they really raced
    assert len(store.roots()[results[0].member_id].identities) == 11  # phone + 10 devices


def test_unmerge_splits_the_identity_and_what_came_with_it(store, clock):
    a = run(store, clock, request("e1", phone("13800000001")))
    b = run(store, clock, request("e2", ident("wechat_unionid", "u-1"), ident("jd_pin", "pin-1")))
    run(store, clock, request("e3", phone("13800000001"), ident("wechat_unionid", "u-1")))
    unionid = ident("wechat_unionid", "u-1")
    new_id = unmerge(store, a.member_id, ("wechat_unionid", unionid.key), "unmerge:1", clock)
    assert new_id not in (a.member_id, b.member_id)
    split = store.roots()[new_id]
    assert {i.type for i in split.identities} == {"wechat_unionid", "jd_pin"}
    assert {i.type for i in store.roots()[a.member_id].identities} == {"phone"}
    assert lookup(store, ("wechat_unionid", unionid.key)) == new_id
    assert [e.data["new_member_id"] for e in store.events_of("member.unmerged")] == [new_id]
    # repeating the request answers the same member
    assert (
        unmerge(store, a.member_id, ("wechat_unionid", unionid.key), "unmerge:1", clock) == new_id
    )
    # and the next event that joins them opens a review case rather than merging again
    again = run(store, clock, request("e4", phone("13800000001"), ident("wechat_unionid", "u-1")))
    assert again.merged == ()
    assert [store.cases[c].reason for c in again.review_cases] == ["merge_blocked"]


def test_unmerge_refuses_to_leave_a_member_empty(store, clock):
    a = run(store, clock, request("e1", phone("13800000001")))
    with pytest.raises(Conflict):
        unmerge(store, a.member_id, ("phone", phone("13800000001").key), "u", clock)
    with pytest.raises(NotFound):
        unmerge(store, a.member_id, ("phone", phone("13800000009").key), "u", clock)


def test_erasure_frees_identities_and_cannot_be_undone(store, clock):
    a = run(store, clock, request("e1", phone("13800000001"), ident("jd_pin", "p")))
    erasure = erase_by_identities(store, [("phone", phone("13800000001").key)], "jd:x", clock)
    assert (erasure.erased, erasure.review_case) == (a.member_id, None)
    erased = store.member_rows[a.member_id]
    assert erased.identities == ()
    assert erased.profile == {}
    assert erased.erased_at
    with pytest.raises(Gone):
        current(store, a.member_id)
    assert store.claim_rows == {}
    assert erase(store, a.member_id, "again", clock) is None
    assert len(store.events_of("member.erased")) == 1
    # the phone is free: the same person coming back is a new member
    back = run(store, clock, request("e2", phone("13800000001")))
    assert back.created
    assert back.member_id != a.member_id


def refs(*identities):
    return [(i.type, i.key) for i in identities]


def test_an_erasure_request_erases_only_the_member_its_phone_names(store, clock):
    """Regression: D's phone plus a device C also uses erased C as well as D."""
    tablet = ident("device_id", "ipad-family")
    c = run(store, clock, request("e1", phone("13800000001"), tablet, channel="app"))
    d = run(store, clock, request("e2", phone("13800000002"), channel="app"))
    erasure = erase_by_identities(store, refs(phone("13800000002"), tablet), "app:er-1", clock)
    assert (erasure.erased, erasure.review_case) == (d.member_id, None)
    assert store.member_rows[d.member_id].erased_at
    assert set(store.roots()) == {c.member_id}
    assert lookup(store, ("device_id", tablet.key)) == c.member_id
    assert [e.member_id for e in store.events_of("member.erased")] == [d.member_id]


def test_an_erasure_request_naming_two_members_erases_nobody_and_opens_a_case(store, clock):
    c = run(store, clock, request("e1", phone("13800000001")))
    d = run(store, clock, request("e2", ident("wechat_unionid", "u-d")))
    asked = refs(phone("13800000001"), ident("wechat_unionid", "u-d"))
    erasure = erase_by_identities(store, asked, "app:er-2", clock)
    assert erasure.erased is None
    case = store.cases[erasure.review_case]
    assert case.reason == "erasure_ambiguous"
    assert set(case.member_ids) == {c.member_id, d.member_id}
    assert case.identity_types == ("phone", "wechat_unionid")
    assert case.causing_event_id == "app:er-2"
    assert set(store.roots()) == {c.member_id, d.member_id}
    assert store.events_of("member.erased") == []
    erase_by_identities(store, asked, "app:er-2", clock)  # a redelivery
    assert len(store.cases) == 1


def test_attach_only_identities_alone_never_choose_whom_to_erase(store, clock):
    """D41: nothing is erased; a case asks an admin to confirm who made the request."""
    tablet = ident("device_id", "ipad-family")
    c = run(store, clock, request("e1", phone("13800000001"), tablet))
    asked = refs(phone("13800000009"), tablet)  # a phone nobody holds, C's tablet
    erasure = erase_by_identities(store, asked, "app:er-3", clock)
    assert erasure.erased is None
    case = store.cases[erasure.review_case]
    assert (case.reason, case.member_ids) == ("erasure_unconfirmed", (c.member_id,))
    assert set(store.roots()) == {c.member_id}


def test_an_erasure_request_naming_nobody_known_erases_nothing_and_opens_nothing(store, clock):
    run(store, clock, request("e1", phone("13800000001")))
    erasure = erase_by_identities(store, refs(phone("13800000009")), "app:er-4", clock)
    assert (erasure.erased, erasure.review_case) == (None, None)
    assert store.cases == {}
    assert erase_by_identities(store, [], "app:er-5", clock).erased is None


def test_an_erasure_request_follows_the_member_its_identities_merged_into(store, clock):
    a = run(store, clock, request("e1", phone("13800000001")))
    run(store, clock, request("e2", ident("wechat_unionid", "u-1")))
    run(store, clock, request("e3", phone("13800000001"), ident("wechat_unionid", "u-1")))
    asked = refs(phone("13800000001"), ident("wechat_unionid", "u-1"))
    erasure = erase_by_identities(store, asked, "app:er-6", clock)
    assert erasure.erased == a.member_id
    assert store.roots() == {}
