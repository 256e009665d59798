"""One ID through the real handlers: webhooks -> event log -> bus -> identity consumer -> API."""

import json

import pytest

from tests.conftest import load_event

DAY = load_event("day/01-identities.json")


def replay_day(stack):
    for item in DAY:
        status, _, payload = stack.post_channel_event(item["channel"], item["event"])
        assert status in (200, 202), payload
    stack.drain()
    assert stack.dlq_messages("IdentityQueue") == []
    assert stack.errors == {}


def lookup(stack, identity_type, value, role="agent"):
    return stack.http(
        "GET",
        "/v1/members/lookup",
        query={"type": identity_type, "value": value},
        headers=stack.auth(role, store="S-001" if role == "store" else None),
    )


@pytest.fixture
def day(stack):
    replay_day(stack)
    return stack


def test_people_from_several_channels_are_found_as_one_member_by_each_identity(day):
    found = {
        lookup(day, t, v)[2]["member_id"]
        for t, v in [
            ("phone", "13800000001"),
            ("phone", "+86 138-0000-0002"),
            ("douyin_open_id", "dy-open-zhang"),
            ("wechat_unionid", "union-zhang"),
            ("wechat_openid", "wxmini01:o-zhang"),
            ("store_card", "SC-100001"),
            ("tmall_omid", "omid-zhang"),
            ("tmall_ouid", "shop-001:ouid-zhang"),
        ]
    }
    assert len(found) == 1
    (member_id,) = found
    status, _, file = day.http("GET", f"/v1/members/{member_id}", headers=day.auth("agent"))
    assert status == 200
    assert sorted(file["channels"]) == ["douyin", "hotline", "miniprogram", "pos", "tmall"]
    assert {i["value"] for i in file["identities"] if i["type"] == "phone"} == {
        "138****0001",
        "138****0002",
    }
    assert file["profile"]["name"] == "张*"
    assert "13800000001" not in json.dumps(file, ensure_ascii=False)


def test_an_absorbed_members_id_answers_with_the_survivors_file(day):
    survivor = lookup(day, "phone", "13800000001")[2]["member_id"]
    merged = day.client("dynamodb").query(
        TableName=day.table_name("MembersTable"),
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :p",
        ExpressionAttributeValues={":p": {"S": "REVIEW#open"}},
    )
    assert merged["Count"] == 1  # only the three-phone merge was refused
    items = day.client("dynamodb").scan(TableName=day.table_name("MembersTable"))["Items"]
    absorbed = [i["member_id"]["S"] for i in items if i.get("merged_into", {}).get("S") == survivor]
    assert len(absorbed) == 1
    status, _, file = day.http("GET", f"/v1/members/{absorbed[0]}", headers=day.auth("quality"))
    assert status == 200
    assert file["member_id"] == survivor
    assert file["merged_into"] == survivor
    assert file["requested_id"] == absorbed[0]


def test_a_placeholder_phone_never_joins_two_people(day):
    wang = lookup(day, "jd_pin", "jd-wang")[2]["member_id"]
    zhao = lookup(day, "jd_pin", "jd-zhao")[2]["member_id"]
    assert wang != zhao
    status, _, payload = lookup(day, "phone", "13800138000")
    assert status == 404
    assert payload["error"]["code"] == "not_found"


def test_a_merge_past_a_limit_is_a_review_case_for_admins(day):
    li = lookup(day, "phone", "13900000005")[2]["member_id"]
    wife = lookup(day, "wechat_unionid", "union-li-wife")[2]["member_id"]
    assert li != wife
    status, _, cases = day.http("GET", "/v1/review-cases", headers=day.auth("admin"))
    assert status == 200
    (case,) = cases["items"]
    assert case["reason"] == "merge_limit"
    assert set(case["member_ids"]) == {li, wife}
    assert case["causing_event_id"] == "pdd:pdd-id-0001"
    assert day.http("GET", "/v1/review-cases", headers=day.auth("agent"))[0] == 403


def test_erasure_requested_by_a_channel_frees_the_identities(day):
    status, _, _ = lookup(day, "phone", "13700000008")
    assert status == 404
    assert lookup(day, "wechat_unionid", "union-chen")[0] == 404


def test_unmerge_by_an_admin_splits_and_is_announced(day):
    survivor = lookup(day, "phone", "13800000001")[2]["member_id"]
    request = {"identity": {"type": "store_card", "value": "SC-100001"}}
    status, _, payload = day.http(
        "POST", f"/v1/members/{survivor}/unmerge", body=request, headers=day.auth("admin")
    )
    assert status == 200, payload
    new_id = payload["new_member_id"]
    assert lookup(day, "store_card", "SC-100001")[2]["member_id"] == new_id
    assert lookup(day, "phone", "13800000002")[2]["member_id"] == new_id  # came with the card
    assert lookup(day, "phone", "13800000001")[2]["member_id"] == survivor
    again = day.http(
        "POST", f"/v1/members/{survivor}/unmerge", body=request, headers=day.auth("admin")
    )
    assert again[2]["new_member_id"] == new_id


def test_delete_erases_and_the_member_is_gone(day):
    member = lookup(day, "jd_pin", "jd-wang")[2]["member_id"]
    status, _, payload = day.http("DELETE", f"/v1/members/{member}", headers=day.auth("admin"))
    assert (status, payload["status"]) == (200, "erased")
    status, _, payload = day.http("GET", f"/v1/members/{member}", headers=day.auth("agent"))
    assert (status, payload["error"]["code"]) == (410, "gone")
    assert lookup(day, "jd_pin", "jd-wang")[0] == 404


@pytest.mark.parametrize(
    ("role", "method", "path", "body"),
    [
        ("agent", "POST", "/v1/members/mbr_00/unmerge", {"bad": "body"}),
        ("quality", "DELETE", "/v1/members/mbr_00", None),
        ("leader", "GET", "/v1/members/mbr_00", None),
        ("store", "GET", "/v1/members/mbr_00", None),
    ],
)
def test_authorisation_comes_before_validation(stack, role, method, path, body):
    status, _, payload = stack.http(method, path, body=body, headers=stack.auth(role))
    assert status == 403
    assert payload["error"]["code"] == "forbidden"


def test_without_a_token_the_gateway_answers_401(stack):
    status, _, _ = stack.http("GET", "/v1/members/mbr_00")
    assert status == 401
    status, _, _ = stack.http("GET", "/v1/members/mbr_00", headers={"Authorization": "Bearer x"})
    assert status == 401


def test_a_store_looks_up_only_by_the_card_it_holds(day):
    assert lookup(day, "store_card", "SC-100001", role="store")[0] == 200
    assert lookup(day, "phone", "13800000001", role="store")[0] == 403


def test_bad_queries_name_the_field(stack):
    status, _, payload = stack.http(
        "GET",
        "/v1/members/lookup",
        query={"type": "email", "value": "x"},
        headers=stack.auth("agent"),
    )
    assert status == 422
    assert payload["error"]["details"][0]["field"] == "query.type"
    status, _, payload = lookup(stack, "phone", "12345")
    assert (status, payload["error"]["details"][0]["field"]) == (422, "value")


def identified(event_id, *identities, kind="member.identified"):
    return {
        "event_id": event_id,
        "type": kind,
        "occurred_at": "2026-11-11T10:00:00+08:00",
        "member": {"identities": [{"type": t, "value": v} for t, v in identities]},
    }


def test_an_erasure_request_erases_only_the_person_its_phone_names(stack):
    """Regression: D's phone plus the tablet C also uses erased C as well."""
    for event in (
        identified("c-1", ("phone", "13600000001"), ("device_id", "tablet-family")),
        identified("d-1", ("phone", "13600000002"), ("wechat_unionid", "union-d")),
        identified("e-1", ("wechat_unionid", "union-e")),
    ):
        assert stack.post_channel_event("app", event)[0] == 202
    stack.drain()
    c = lookup(stack, "phone", "13600000001")[2]["member_id"]
    erase_d = identified(
        "er-1",
        ("phone", "13600000002"),
        ("device_id", "tablet-family"),
        kind="member.erasure_requested",
    )
    # and one that names two people by merge-capable identities: nobody is erased
    erase_two = identified(
        "er-2",
        ("phone", "13600000001"),
        ("wechat_unionid", "union-e"),
        kind="member.erasure_requested",
    )
    for event in (erase_d, erase_two):
        assert stack.post_channel_event("app", event)[0] == 202
    stack.drain()
    assert stack.dlq_messages("IdentityQueue") == []

    assert lookup(stack, "phone", "13600000002")[0] == 404
    assert lookup(stack, "wechat_unionid", "union-d")[0] == 404
    assert lookup(stack, "phone", "13600000001")[2]["member_id"] == c
    assert lookup(stack, "device_id", "tablet-family")[2]["member_id"] == c
    e = lookup(stack, "wechat_unionid", "union-e")[2]["member_id"]
    status, _, cases = stack.http("GET", "/v1/review-cases", headers=stack.auth("admin"))
    assert status == 200
    (case,) = cases["items"]
    assert (case["reason"], set(case["member_ids"])) == ("erasure_ambiguous", {c, e})
    assert case["causing_event_id"] == "app:er-2"
