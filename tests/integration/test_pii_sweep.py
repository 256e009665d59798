"""PII sweep (issue 13): after the demo day, what staff wrote about a member and
that member's erasure over HTTP, none of the member's phones, names or address is anywhere in
the local stack: not in any table (every table of the template, scanned), not in a captured log
line of any handler, not in an API answer, not in any queue or dead-letter queue.

The member is 王芳: a customer (phone 13900000009) who is also the leader ldr-001 (王姐, 阳光小区),
who sent a suggestion holding another phone and her address, and whom an agent opened a ticket
for with her phone in the subject, a note and the root cause. The day's own erasure request
(陈七, 13700000008, through the identity consumer) is swept too.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from devstack.demo import day_ends, load_day
from devstack.stack import LocalStack
from tests.conftest import ROOT, log_everything

PHONE = "13900000009"
TEXT_PHONE = "13912345678"
ADDRESS = "阳光小区3栋"
SUGGESTION = f"建议出个两斤装的小包装，电话{TEXT_PHONE}，我叫王芳，住{ADDRESS}，送货上门就好"
ERASED_BY_HTTP = [PHONE, TEXT_PHONE, "王芳", "王姐", ADDRESS]
ERASED_BY_CHANNEL = ["13700000008", "陈七"]
#: spellings of the phones a table or log could hold (raw, E.164, spaced)
SPELLINGS = [
    variant
    for phone in (PHONE, TEXT_PHONE, "13700000008")
    for variant in (phone, f"+86{phone}", f"{phone[:3]} {phone[3:7]} {phone[7:]}")
]


def _post(stack, channel, event):
    status, _, body = stack.post_channel_event(channel, event)
    assert status in (200, 202), body


def _scan_everything(stack) -> dict[str, str]:
    """Every item of every table of the template, as text, by table."""
    dynamodb = stack.client("dynamodb")
    found: dict[str, str] = {}
    for logical_id in stack.model.tables:
        items, request = [], {"TableName": stack.table_name(logical_id)}
        while True:
            page = dynamodb.scan(**request)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        found[logical_id] = "\n".join(json.dumps(i, ensure_ascii=False) for i in items)
    return found


def _hits(text: str, needles: list[str]) -> list[str]:
    return [n for n in needles if n in text]


@pytest.fixture
def erased_day(capfd, caplog):
    """The sweep's world, after the erasure (the test reads the logs it leaves)."""
    log_everything(caplog)
    entries = load_day(ROOT)
    ends = day_ends(entries)
    with LocalStack.start(ROOT, now=ends, clock_running=False) as stack:
        for entry in entries:
            stack.post_channel_event(entry["channel"], entry["event"])
        stack.drain(timeout=300)
        agent, admin = stack.auth("agent"), stack.auth("admin")
        _post(
            stack,
            "wecom",
            {
                "event_id": "wc-fb-sweep",
                "type": "feedback.received",
                "occurred_at": (ends - timedelta(minutes=1)).isoformat(),
                "member": {"identities": [{"type": "phone", "value": PHONE}]},
                "data": {"feedback_id": "fb-sweep", "kind": "chat", "text": SUGGESTION},
            },
        )
        stack.drain()
        status, _, found = stack.http(
            "POST", "/v1/members/lookup", body={"type": "phone", "value": PHONE}, headers=agent
        )
        assert status == 200, found
        member_id = found["member_id"]
        status, _, ticket = stack.http(
            "POST",
            "/v1/tickets",
            body={
                "member_id": member_id,
                "channel": "hotline",
                "subject": f"王芳来电 {PHONE} 反映小包装米受潮",
                "intent": "complaint",
            },
            headers=agent,
        )
        assert status == 201, ticket
        path = f"/v1/tickets/{ticket['ticket_id']}/actions"
        for action in (
            {"action": "respond", "note": f"已回电 139 0000 0009，王芳说住{ADDRESS}"},
            {
                "action": "resolve",
                "root_cause": f"仓储受潮，客户王芳 {PHONE}",
                "corrective_action": f"补发到{ADDRESS}",
            },
        ):
            status, _, body = stack.http("POST", path, body=action, headers=agent)
            assert status == 200, body
        before = _scan_everything(stack)
        status, _, body = stack.http("DELETE", f"/v1/members/{member_id}", headers=admin)
        assert status == 200, body
        stack.drain()
        answers = [
            stack.http("GET", f"/v1/members/{member_id}", headers=agent),
            stack.http("GET", "/v1/insights/suggestions", headers=agent),
            stack.http("GET", "/v1/tickets", query={"member_id": member_id}, headers=agent),
            stack.http("GET", f"/v1/tickets/{ticket['ticket_id']}", headers=admin),
            stack.http("GET", "/v1/leaders/ldr-001", headers=admin),
            stack.http(
                "POST", "/v1/members/lookup", body={"type": "phone", "value": PHONE}, headers=agent
            ),
        ]
        queues = {
            q: json.dumps(stack.dlq_messages(q), ensure_ascii=False)
            for q in stack.model.dead_letter_queues()
        }
        depths = stack.queue_depths()
        yield {
            "before": before,
            "tables": _scan_everything(stack),
            "answers": answers,
            "queues": queues,
            "depths": depths,
        }


def test_no_trace_of_an_erased_member_in_tables_logs_answers_or_queues(erased_day, capfd, caplog):
    before = "".join(erased_day["before"].values())
    assert "王姐" in before
    assert ADDRESS in before
    assert TEXT_PHONE not in before  # masked when it arrived (finding 4), not only at erasure
    needles = SPELLINGS + ERASED_BY_HTTP + ERASED_BY_CHANNEL
    for table, text in erased_day["tables"].items():
        rows = [row[:600] for row in text.splitlines() if _hits(row, needles)]
        assert rows == [], table
    for _status, _, body in erased_day["answers"]:
        assert _hits(json.dumps(body, ensure_ascii=False), SPELLINGS + ERASED_BY_HTTP) == []
    assert erased_day["answers"][0][0] == 410
    assert erased_day["answers"][-1][0] == 404  # the freed phone finds nobody
    for queue, text in erased_day["queues"].items():
        assert _hits(text, SPELLINGS + ERASED_BY_HTTP + ERASED_BY_CHANNEL) == [], queue
    assert all(d.get("visible", 0) == 0 for d in erased_day["depths"].values())
    out, err = capfd.readouterr()
    records = caplog.get_records("setup") + caplog.get_records("call")
    logged = out + err + "\n".join(r.getMessage() for r in records)
    assert "channel event accepted" in logged  # the handlers' logs were captured at all
    assert [n for n in needles if n in logged] == []
