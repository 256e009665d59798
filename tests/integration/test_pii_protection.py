"""Personal data at rest and in answers, over HTTP through the local stack (issue 13 findings 3,
4, 5, 11 and 14). The whole-stack sweep is test_pii_sweep.py."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from devstack.sam import read_template
from devstack.server import DevServer

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
PHONE = "13900000021"
TEXT = "电话13912345678…我叫李四…住阳光小区3栋，身份证11010519491231002X，建议出个两斤装的小包装"


def _event(event_id, type_, data, phone=PHONE):
    return {
        "event_id": event_id,
        "type": type_,
        "occurred_at": "2026-11-20T09:00:00+08:00",
        "member": {"identities": [{"type": "phone", "value": phone}]},
        "data": data,
    }


def _post(stack, channel, event):
    raw = json.dumps(event, ensure_ascii=False).encode()
    path = f"/v1/channels/{channel}/events"
    status, _, body = stack.http(
        "POST", path, body=raw, headers=stack.sign_channel_event(channel, raw)
    )
    assert status in (200, 202), body
    return raw


def _rows(stack, logical_id):
    return stack.client("dynamodb").scan(TableName=stack.table_name(logical_id))["Items"]


def _member(stack, phone=PHONE):
    status, _, found = stack.http(
        "POST",
        "/v1/members/lookup",
        body={"type": "phone", "value": phone},
        headers=stack.auth("agent"),
    )
    assert status == 200, found
    return found["member_id"]


# --- finding 3: no unkeyed hash of a body beside its masked phone --------------------------------


def test_the_event_log_keeps_a_keyed_body_digest_not_a_sha256_of_the_body(stack):
    raw = _post(stack, "app", _event("app-id-3", "member.identified", {}))
    (row,) = [r for r in _rows(stack, "EventLogTable") if r["pk"]["S"] == "IN#app#app-id-3"]
    unkeyed = hashlib.sha256(raw).hexdigest()
    assert unkeyed not in json.dumps(row)
    assert "body_sha256" not in row
    assert len(row["body_hmac"]["S"]) == 64
    status, _, body = stack.http(  # the keyed digest still tells a repeat from a conflict
        "POST", "/v1/channels/app/events", body=raw, headers=stack.sign_channel_event("app", raw)
    )
    assert (status, body["status"]) == (200, "duplicate")


# --- finding 4: free text masked at intake and in every answer -----------------------------------


def test_a_suggestion_holding_a_phone_and_an_id_number_reaches_an_agent_masked(stack):
    _post(
        stack,
        "wecom",
        _event(
            "wc-fb-4", "feedback.received", {"feedback_id": "fb-4", "kind": "chat", "text": TEXT}
        ),
    )
    stack.drain()
    status, _, board = stack.http("GET", "/v1/insights/suggestions", headers=stack.auth("agent"))
    assert status == 200
    (item,) = [i for i in board["items"] if i["feedback_id"] == "fb-4"]
    assert "139****5678" in item["text"]
    assert "110***********002X" in item["text"]
    everywhere = json.dumps([_rows(stack, t) for t in stack.model.tables], ensure_ascii=False)
    assert "13912345678" not in everywhere
    assert "11010519491231002X" not in everywhere


def test_ticket_subjects_notes_and_root_causes_are_masked_when_written(stack):
    _post(stack, "app", _event("app-id-4", "member.identified", {}))
    stack.drain()
    agent = stack.auth("agent")
    status, _, ticket = stack.http(
        "POST",
        "/v1/tickets",
        headers=agent,
        body={
            "member_id": _member(stack),
            "channel": "hotline",
            "intent": "complaint",
            "subject": "客户来电 ＋８６ １３９１２３４５６７８ 反映漏油",
        },
    )
    assert status == 201, ticket
    path = f"/v1/tickets/{ticket['ticket_id']}/actions"
    stack.http("POST", path, headers=agent, body={"action": "respond", "note": "回电139-1234-5678"})
    status, _, done = stack.http(
        "POST",
        path,
        headers=agent,
        body={
            "action": "resolve",
            "root_cause": "客户 13912345678 的瓶盖",
            "corrective_action": "换货",
        },
    )
    assert status == 200, done
    assert done["root_cause"] == "客户 139****5678 的瓶盖"
    stored = json.dumps(_rows(stack, "TicketsTable"), ensure_ascii=False)
    assert "5678" in stored
    assert "1234" not in stored


def test_a_leader_name_holding_a_phone_is_answered_masked(stack):
    _post(
        stack,
        "groupbuy",
        _event(
            "gb-ldr-4",
            "leader.registered",
            {"leader_id": "ldr-pii", "name": "王姐13912345678", "community": "阳光小区"},
        ),
    )
    stack.drain()
    status, _, leader = stack.http("GET", "/v1/leaders/ldr-pii", headers=stack.auth("admin"))
    assert status == 200, leader
    assert leader["name"] == "王姐139****5678"


# --- finding 5: erasure reaches tickets, leaders and the event log; a replay brings nothing back --


def test_an_erased_members_event_log_rows_tickets_and_leader_profile_lose_their_personal_data(
    stack,
):
    raw = _post(
        stack,
        "groupbuy",
        _event(
            "gb-ldr-5",
            "leader.registered",
            {"leader_id": "ldr-gone", "name": "刘姐", "community": "幸福里5号"},
        ),
    )
    stack.drain()
    member_id, agent = _member(stack), stack.auth("agent")
    status, _, _ = stack.http(
        "POST",
        "/v1/tickets",
        headers=agent,
        body={"member_id": member_id, "channel": "hotline", "subject": "刘姐说住幸福里5号"},
    )
    assert status == 201
    status, _, _ = stack.http("DELETE", f"/v1/members/{member_id}", headers=stack.auth("admin"))
    assert status == 200
    stack.drain()
    for table in ("EventLogTable", "TicketsTable", "LeadersTable"):
        assert "幸福里5号" not in json.dumps(_rows(stack, table), ensure_ascii=False), table
    status, _, body = stack.http(  # a replay of the erased member's event is still a duplicate
        "POST",
        "/v1/channels/groupbuy/events",
        body=raw,
        headers=stack.sign_channel_event("groupbuy", raw),
    )
    assert (status, body["status"]) == (200, "duplicate")
    stack.drain()
    status, _, _ = stack.http(
        "POST", "/v1/members/lookup", body={"type": "phone", "value": PHONE}, headers=agent
    )
    assert status == 404


def test_event_log_retention_is_capped_in_the_template_and_in_code(stack):
    template = _template()
    assert template["Parameters"]["EventLogRetentionDays"]["MaxValue"] == 30
    from omnihub.adapters.event_log import MAX_RETENTION

    _post(stack, "app", _event("app-id-5", "member.identified", {}))
    (row,) = [r for r in _rows(stack, "EventLogTable") if r["pk"]["S"] == "IN#app#app-id-5"]
    received = datetime.fromisoformat(row["received_at"]["S"].replace("Z", "+00:00"))
    assert int(row["expires_at"]["N"]) <= (received + MAX_RETENTION).timestamp()


# --- finding 11: the member API holds the lookup key only ----------------------------------------


def test_only_the_webhook_may_read_the_sealing_keys():
    readers = {
        name: json.dumps(resource["Properties"].get("Policies", []))
        for name, resource in _template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert [n for n, policy in readers.items() if "pii/seal-keys" in policy] == ["WebhookFunction"]
    assert [n for n, policy in readers.items() if "/pii-key" in policy] == []
    assert "pii/lookup-key" in readers["MemberApiFunction"]


def test_sealed_values_name_their_key(stack):
    _post(stack, "app", _event("app-id-11", "member.identified", {}))
    (row,) = [r for r in _rows(stack, "EventLogTable") if r["pk"]["S"] == "IN#app#app-id-11"]
    (phone,) = json.loads(row["detail"]["S"])["member"]["identities"]
    assert phone["sealed"].startswith("k1.")  # the local ring's current key


# --- finding 14: lookups by body; no identity value in any access log ----------------------------


def test_a_lookup_by_body_answers_the_member_or_404(stack):
    _post(stack, "app", _event("app-id-14", "member.identified", {}))
    stack.drain()
    agent = stack.auth("agent")
    status, _, found = stack.http(
        "POST", "/v1/members/lookup", body={"type": "phone", "value": PHONE}, headers=agent
    )
    assert status == 200
    assert found["member_id"].startswith("mbr_")
    status, _, get = stack.http(
        "GET", "/v1/members/lookup", query={"type": "phone", "value": PHONE}, headers=agent
    )
    assert get == found  # kept for compatibility
    status, _, _ = stack.http(
        "POST", "/v1/members/lookup", body={"type": "phone", "value": "13900000099"}, headers=agent
    )
    assert status == 404
    status, _, body = stack.http(
        "POST", "/v1/members/lookup", body={"type": "phone"}, headers=agent
    )
    assert status == 422
    assert "value" in json.dumps(body)


def test_the_local_servers_access_log_carries_no_identity_value(stack, caplog):
    caplog.set_level(logging.INFO, logger="devstack")
    server = DevServer(("127.0.0.1", 0), stack)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        for target in (
            "/v1/members/lookup?type=phone&value=13912345678",
            "/v1/members/13912345678",
            "/v1/members/lookup?type=phone&value=%2B86%20139%201234%205678",
        ):
            request = urllib.request.Request(base + target, headers=stack.auth("agent"))  # noqa: S310 - loopback
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(request, timeout=10).read()  # noqa: S310 - loopback
    finally:
        server.shutdown()
        server.server_close()
    logged = caplog.text
    assert "/v1/members/lookup?type=&value=" in logged  # the access lines were captured
    assert "1234" not in logged
    assert "13912345678" not in logged


def test_api_gateways_access_log_format_has_no_path_or_query():
    api = _template()["Resources"]["HttpApi"]["Properties"]
    fmt = api["AccessLogSettings"]["Format"]
    assert "$context.routeKey" in fmt
    for forbidden in ("$context.path", "$context.resourcePath", "querystring", "$request"):
        assert forbidden not in fmt


def _template() -> dict:
    """template.yaml as data (CloudFormation's short tags read as values)."""
    return read_template(Path(__file__).resolve().parents[2] / "template.yaml")
