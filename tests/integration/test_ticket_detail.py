"""`GET /v1/tickets/{id}` shows what the ticket is about and what was done, masked (issue 15,
notes and subject masked); a ticket for a member that does not exist is refused on `member_id`."""

from __future__ import annotations

from tests.conftest import arrive, load_event, member_with

PHONE = {"type": "phone", "value": "13800000091"}


def test_a_ticket_answers_its_subject_and_history_with_phone_numbers_masked(stack):
    arrive(
        stack, {**load_event("channel/member-identified.json"), "member": {"identities": [PHONE]}}
    )
    member = member_with(stack, PHONE)
    agent = stack.auth("agent")
    status, _, opened = stack.http(
        "POST",
        "/v1/tickets",
        headers=agent,
        body={
            "member_id": member,
            "channel": "tmall",
            "subject": "顾客来电13800000091，米袋破损",
            "intent": "complaint",
        },
    )
    assert status == 201, opened
    path = f"/v1/tickets/{opened['ticket_id']}"
    note = "已致电18612345678，约定明天补发"
    assert (
        stack.http(
            "POST", f"{path}/actions", headers=agent, body={"action": "respond", "note": note}
        )[0]
        == 200
    )

    status, _, ticket = stack.http("GET", path, headers=agent)
    assert status == 200, ticket
    assert ticket["subject"] == "顾客来电138****0091，米袋破损"
    assert [(h["action"], h["note"]) for h in ticket["history"]] == [
        ("open", ""),
        ("respond", "已致电186****5678，约定明天补发"),
    ]
    assert all(h["at"] and h["actor"].startswith("agent:") for h in ticket["history"])


def test_a_ticket_for_a_member_that_does_not_exist_is_refused_naming_member_id(stack):
    status, _, body = stack.http(
        "POST",
        "/v1/tickets",
        headers=stack.auth("agent"),
        body={
            "member_id": "mbr_0badc0de",
            "channel": "tmall",
            "subject": "投诉",
            "intent": "complaint",
        },
    )
    assert status == 422, body
    assert [d["field"] for d in body["error"]["details"]] == ["member_id"]
    assert (
        stack.http(
            "GET", "/v1/tickets", query={"member_id": "mbr_0badc0de"}, headers=stack.auth("agent")
        )[2]["items"]
        == []
    )


def test_the_openapi_document_shows_the_subject_and_the_history(stack):
    from devstack.server import LocalHelpers

    answer = LocalHelpers(stack).handle("GET", "/openapi.json", b"")
    assert answer is not None
    import json

    schemas = json.loads(answer.body)["components"]["schemas"]
    view = schemas["TicketView"]["properties"]
    assert {"subject", "history"} <= set(view)
    assert {"at", "action", "actor", "note"} <= set(schemas["ActionView"]["properties"])
