"""No log line of a whole day's run holds a phone number or a profile value."""

import re

from tests.conftest import load_event, log_everything

E164_CN = re.compile(r"\+86\d{11}")


def test_a_day_of_events_and_api_calls_logs_no_personal_data(stack, capfd, caplog):
    log_everything(caplog)
    day = load_event("day/01-identities.json")
    for item in day:
        stack.post_channel_event(item["channel"], item["event"])
    stack.drain()
    found = stack.http(
        "GET",
        "/v1/members/lookup",
        query={"type": "phone", "value": "13800000001"},
        headers=stack.auth("agent"),
    )[2]["member_id"]
    stack.http("GET", f"/v1/members/{found}", headers=stack.auth("agent"))
    stack.http("DELETE", f"/v1/members/{found}", headers=stack.auth("admin"))

    out, err = capfd.readouterr()
    logged = out + err + caplog.text
    assert "channel event accepted" in logged  # the logs were captured at all
    phones = {
        re.sub(r"\D", "", identity["value"])[-11:]
        for item in day
        for identity in item["event"]["member"]["identities"]
        if identity["type"] == "phone"
    }
    assert len(phones) > 5
    assert [p for p in phones if p in logged] == []
    assert E164_CN.findall(logged) == []
    names = {
        value
        for item in day
        for value in item["event"]["member"].get("profile", {}).values()
        if len(value) > 1
    }
    assert [name for name in names if name in logged] == []
