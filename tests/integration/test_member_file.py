"""The one-person file across capabilities, and who may read it."""

from tests.conftest import load_event


def test_the_file_names_the_leader_and_a_leader_reads_only_their_bound_members(stack):
    leader = load_event("channel/leader-registered.json")
    assert stack.post_channel_event("groupbuy", leader)[0] == 202
    paid = load_event("channel/order-paid.json")  # through ldr-001's link
    paid["member"] = {"identities": [{"type": "phone", "value": "13800000001"}]}
    paid["data"]["leader_id"] = "ldr-001"  # a leader link: groupbuy carries them
    assert stack.post_channel_event("groupbuy", paid)[0] == 202
    stack.drain()
    member = stack.http(
        "GET",
        "/v1/members/lookup",
        query={"type": "phone", "value": "13800000001"},
        headers=stack.auth("agent"),
    )[2]["member_id"]

    status, _, file = stack.http("GET", f"/v1/members/{member}", headers=stack.auth("agent"))
    assert (status, file["leader_id"]) == (200, "ldr-001")
    assert file["points"]["pending"] > 0
    assert {"feedback", "tickets", "tier", "identities"} <= set(file)

    own = stack.http("GET", f"/v1/members/{member}", headers=stack.auth("leader", leader="ldr-001"))
    assert own[0] == 200
    assert all("*" in i["value"] for i in own[2]["identities"])  # masked for leaders too
    other = stack.http("GET", f"/v1/members/{member}", headers=stack.auth("leader", leader="ldr-9"))
    assert other[0] == 403
