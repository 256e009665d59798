"""One ID through the local stack: sixty people reach the hub from several channels, two of
them share a family tablet, and sixty members come out (a new merge-capable identity
never joins a member through an attach-only one)."""

from datetime import UTC, datetime

PEOPLE = 60
TABLET = "tablet-family"  # people 0 and 1 both use it in the app


def person(p):
    return {
        "phone": f"139{p:08d}",
        "wechat_unionid": f"union-{p:02d}",
        "wechat_openid": f"wxmini01:o-{p:02d}",
        "tmall_omid": f"omid-{p:02d}",
        "tmall_ouid": f"shop-001:ouid-{p:02d}",
        "store_card": f"SC-{p:06d}",
        "device_id": TABLET if p < 2 else f"ios-{p:02d}",
    }


def identities(p, *types):
    ids = person(p)
    return [{"type": t, "value": ids[t]} for t in types]


#: one round per channel; each person's events are linked by a phone or a unionid only.
#: The app round comes first, so person 1's phone is new when the tablet is already person 0's.
ROUNDS = [
    ("app", ("phone", "device_id")),
    ("miniprogram", ("wechat_unionid", "wechat_openid", "phone")),
    ("tmall", ("tmall_omid", "tmall_ouid", "phone")),
    ("pos", ("store_card", "wechat_unionid")),
]


def event(channel, p, types):
    return {
        "event_id": f"{channel}-id-{p:03d}",
        "type": "member.identified",
        "occurred_at": datetime(2026, 11, 11, 2, p, tzinfo=UTC).isoformat(),
        "member": {"identities": identities(p, *types)},
    }


def live_members(stack):
    items = stack.client("dynamodb").scan(TableName=stack.table_name("MembersTable"))["Items"]
    return [
        i
        for i in items
        if i["sk"]["S"] == "MEMBER" and "merged_into" not in i and "erased_at" not in i
    ]


def member_of(stack, identity_type, value):
    status, _, payload = stack.http(
        "GET",
        "/v1/members/lookup",
        query={"type": identity_type, "value": value},
        headers=stack.auth("agent"),
    )
    assert status == 200, (identity_type, value, payload)
    return payload["member_id"]


def test_sixty_people_and_one_shared_tablet_end_as_sixty_members(stack):
    """Regression: person 1's new phone joined person 0 through the tablet they share, and every
    later event of person 1 merged into person 0 (59 members)."""
    for channel, types in ROUNDS:
        for p in range(PEOPLE):
            status, _, payload = stack.post_channel_event(channel, event(channel, p, types))
            assert status == 202, payload
        stack.drain()  # one channel after another, as a day of traffic would bring them
    assert stack.dlq_messages("IdentityQueue") == []
    assert stack.errors == {}

    assert len(live_members(stack)) == PEOPLE
    found = {}
    for p in range(PEOPLE):
        ids = person(p)
        types = [t for t in ids if t != "device_id" or p >= 2]
        owners = {member_of(stack, t, ids[t]) for t in types}
        assert len(owners) == 1, (p, owners)
        found[p] = owners.pop()
    assert len(set(found.values())) == PEOPLE  # each person one member, no two glued
    assert member_of(stack, "device_id", TABLET) == found[0]  # the tablet stays with its holder
    status, _, cases = stack.http("GET", "/v1/review-cases", headers=stack.auth("admin"))
    assert (status, cases["items"]) == (200, [])
