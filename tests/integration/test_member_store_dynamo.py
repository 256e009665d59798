"""The DynamoDB MemberStore keeps the conditions the domain relies on (against moto)."""

import pytest

from omnihub.adapters.member_store import DynamoMemberStore
from omnihub.errors import ConcurrentChange
from omnihub.identity.model import Claim, IdentityChange, Member, ReviewCase


@pytest.fixture
def store(stack):
    return DynamoMemberStore(
        stack.client("dynamodb"),
        stack.table_name("MembersTable"),
        stack.table_name("EventLogTable"),
    )


def member(member_id, version=1):
    return Member(member_id=member_id, created_at="2026-11-11T00:00:00.000Z", version=version)


def test_members_and_claims_round_trip(store):
    store.commit(IdentityChange(create=[member("mbr_a")], claim=[Claim("phone", "k1", "mbr_a")]))
    assert store.claims([("phone", "k1"), ("phone", "k2")]) == {("phone", "k1"): "mbr_a"}
    assert store.members(["mbr_a", "mbr_b"]) == {"mbr_a": member("mbr_a")}


def test_a_failed_condition_is_a_concurrent_change_and_writes_nothing(store):
    store.commit(IdentityChange(create=[member("mbr_a")], claim=[Claim("phone", "k1", "mbr_a")]))
    stale = IdentityChange(
        update=[(member("mbr_a", version=3), 2)],  # the stored version is 1
        claim=[Claim("phone", "k2", "mbr_a")],
    )
    with pytest.raises(ConcurrentChange):
        store.commit(stale)
    assert store.claims([("phone", "k2")]) == {}
    with pytest.raises(ConcurrentChange):
        store.commit(IdentityChange(claim=[Claim("phone", "k1", "mbr_b")]))  # already claimed
    with pytest.raises(ConcurrentChange):
        store.commit(IdentityChange(move=[(Claim("phone", "k1", "mbr_c"), "mbr_b")]))


def test_review_cases_open_once_and_are_listed_newest_first(store):
    def case(n, at):
        return ReviewCase(f"rc_{n}", "merge_limit", ("mbr_a", "mbr_b"), ("phone",), "jd:e", at)

    store.commit(IdentityChange(review_cases=[case(1, "2026-11-11T01:00:00.000Z")]))
    store.commit(IdentityChange(review_cases=[case(2, "2026-11-11T02:00:00.000Z")]))
    store.commit(IdentityChange(review_cases=[case(1, "2026-11-11T09:00:00.000Z")]))  # replay
    listed = store.open_review_cases(10)
    assert [c.case_id for c in listed] == ["rc_2", "rc_1"]
    assert listed[1].opened_at == "2026-11-11T01:00:00.000Z"
