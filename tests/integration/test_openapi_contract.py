"""What outside tools found (issue 13, schemathesis): the API never answers 500 for bad input,
reads dates and numbers as its OpenAPI document says, and the document tells the truth."""

from __future__ import annotations

import json

import pytest

from devstack.http_api import HttpRequest

ADMIN = "admin"


def call(stack, method, path, role=ADMIN, **kwargs):
    status, headers, body = stack.http(method, path, headers=stack.auth(role), **kwargs)
    return status, headers, body


def fields(body) -> list[str]:
    return [d.get("field") for d in body["error"]["details"]]


def raw(stack, method, path, body: bytes, content_type="application/json", role=ADMIN):
    headers = {**stack.auth(role), "Content-Type": content_type}
    response = stack.http_request(
        HttpRequest(method=method, path=path, headers=tuple(headers.items()), body=body)
    )
    return response.status, response.headers, response.json()


def test_statements_with_an_impossible_day_answer_422_not_500(stack):
    for query in ("to=0000-00-00", "from=2026-02-30", "to=2026-13-01", "to=20260101"):
        status, _, body = call(stack, "GET", f"/v1/leaders/L-1/statements?{query}")
        assert status == 422, (query, body)
        assert fields(body) == [f"query.{query.split('=')[0]}"], body


def test_service_metrics_take_only_calendar_dates(stack):
    """`to=0` was read as Unix time 0 (1970-01-01) and answered 200."""
    for query in ("to=0", "from=0", "to=1700000000", "to=2026-02-30"):
        status, _, body = call(stack, "GET", f"/v1/metrics/service?{query}")
        assert status == 422, (query, body)
        assert fields(body) == [f"query.{query.split('=')[0]}"], body
    assert call(stack, "GET", "/v1/metrics/service?from=2026-01-01&to=2026-01-07")[0] == 200


@pytest.mark.parametrize(
    "path",
    [
        "/v1/tickets/tkt_00/actions",
        "/v1/tickets",
        "/v1/members/mbr_00/redemptions",
        "/v1/leaders/L-1/withdrawals",
    ],
)
def test_a_body_that_is_not_utf8_answers_400_not_500(stack, path):
    status, _, body = raw(stack, "POST", path, b'\xff\xfe{"action": "close"}')
    assert status == 400, body
    assert (body["error"]["code"], fields(body)) == ("malformed_body", ["body"])


@pytest.mark.parametrize(
    "content_type", ["text/plain", "multipart/form-data", "application/x-www-form-urlencoded"]
)
def test_a_body_that_is_not_json_typed_answers_415_not_500(stack, content_type):
    status, _, body = raw(stack, "POST", "/v1/tickets", b'{"subject": "x"}', content_type)
    assert status == 415, body
    assert fields(body) == ["header.content-type"]


def _open_and_respond(stack) -> str:
    """A ticket on a member who exists (one for an unknown member is refused, issue 15)."""
    from tests.conftest import arrive, load_event, member_with

    phone = {"type": "phone", "value": "13800000099"}
    arrive(
        stack, {**load_event("channel/member-identified.json"), "member": {"identities": [phone]}}
    )
    status, _, ticket = call(
        stack,
        "POST",
        "/v1/tickets",
        body={"member_id": member_with(stack, phone), "channel": "hotline", "subject": "漏发赠品"},
    )
    assert status == 201, ticket
    return str(ticket["ticket_id"])


def test_a_whole_number_written_as_a_float_is_an_integer(stack):
    """JSON (and JSON Schema's `integer`) make `3.0` the integer 3: `csat: 3.0` was refused."""
    tid = _open_and_respond(stack)
    resolve = {"action": "resolve", "root_cause": "漏发", "corrective_action": "补发"}
    status, _, done = call(
        stack, "POST", f"/v1/tickets/{tid}/actions", body={**resolve, "csat": 3.0}
    )
    assert (status, done["csat"]) == (200, 3), done
    for bad in (3.5, "3", True):
        status, _, body = call(
            stack, "POST", f"/v1/tickets/{tid}/actions", body={"action": "close", "csat": bad}
        )
        assert (status, fields(body)) == (422, ["csat"]), (bad, body)
    redeem = {"redemption_id": "r-float", "points": 5.0, "reward": "mug"}
    assert call(stack, "POST", "/v1/members/mbr_0a/redemptions", body=redeem)[0] != 422
    fen = {"withdrawal_id": "w-float", "amount_fen": 100.0}
    assert call(stack, "POST", "/v1/leaders/L-1/withdrawals", body=fen)[0] != 422


def test_a_percent_encoded_path_id_is_the_id_the_gateway_decoded(stack):
    """`/v1/leaders/a%3Ab` reached the handler as `a%3Ab` (422 against its own pattern)."""
    status, _, body = call(stack, "GET", "/v1/leaders/wmxy%3AuzvQ%2BUW/withdrawals")
    assert status == 200, body


def test_undeclared_methods_answer_405_with_allow_and_the_contract_body(stack):
    for method, path, allow in [
        ("TRACE", "/v1/tickets", "GET, POST"),
        ("PUT", "/v1/tickets/tkt_00/actions", "POST"),
        ("PATCH", "/v1/members/lookup", "GET, POST"),
    ]:
        status, headers, body = call(stack, method, path)
        assert (status, headers.get("allow")) == (405, allow), (method, path, body)
        assert body["error"]["code"] == "method_not_allowed"
    assert call(stack, "TRACE", "/v1/nowhere")[0] == 404  # no such path: the gateway's 404


# -- the document ----------------------------------------------------------------------------
@pytest.fixture
def document(stack):
    from devstack.openapi import merged_openapi

    return merged_openapi(stack.model, stack.runtime.functions)


def _operations(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def _policies(stack) -> dict[tuple[str, str], frozenset[str]]:
    """(method, path shape) -> roles, from each API function's own POLICIES table."""
    from devstack.openapi import _shape

    found = {}
    for fn in stack.runtime.functions.values():
        for key, roles in (getattr(fn.module, "POLICIES", None) or {}).items():
            method, path = key.split(" ", 1)
            found[(method.lower(), _shape(path))] = roles
    return found


def test_every_operation_says_what_it_does_and_who_may_call_it(stack, document):
    from devstack.openapi import _shape

    policies = _policies(stack)
    for name, operation in _operations(document):
        method, path = name.split(" ", 1)
        assert operation.get("description", "").strip(), f"{name} has no description"
        if path.startswith("/v1/channels/"):
            assert "security" not in operation, name  # signed, not a bearer token
            continue
        roles = policies.get((method.lower(), _shape(path)))
        assert roles, f"{name} has no policy"
        assert operation["security"] == [{"bearer": []}], name
        assert operation["x-roles"] == sorted(roles), name
        assert f"Roles: {', '.join(sorted(roles))}." in operation["description"], name
        assert {"401", "403", "422"} <= set(operation["responses"]), name
        if "{" in path:
            assert "404" in operation["responses"], name


def test_errors_are_the_contract_body_not_httpvalidationerror(document):
    text = json.dumps(document)
    assert "HTTPValidationError" not in text
    error = {"$ref": "#/components/schemas/ErrorBody"}
    for name, operation in _operations(document):
        for status, answer in operation["responses"].items():
            if status.startswith("2"):
                continue
            schema = answer["content"]["application/json"]["schema"]
            assert schema == error or error in schema.get("anyOf", []), (name, status)
    assert set(document["components"]["schemas"]["ErrorInfo"]["required"]) == {
        "code",
        "message",
        "details",
    }


def test_created_answers_are_201_with_their_object(document):
    paths = document["paths"]
    for path, model in [
        ("/v1/tickets", "TicketView"),
        ("/v1/members/{member_id}/redemptions", "RedemptionView"),
        ("/v1/leaders/{leader_id}/withdrawals", "WithdrawalView"),
    ]:
        answers = paths[path]["post"]["responses"]
        assert "200" not in answers, path
        schema = answers["201"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{model}"}, path
    assert "409" in paths["/v1/members/{member_id}/redemptions"]["post"]["responses"]
    assert "409" in paths["/v1/leaders/{leader_id}/withdrawals"]["post"]["responses"]
    assert "409" in paths["/v1/tickets/{ticket_id}/actions"]["post"]["responses"]


def test_the_webhook_documents_its_signature_body_and_answers(document):
    operation = document["paths"]["/v1/channels/{channel}/events"]["post"]
    header = next(p for p in operation["parameters"] if p["in"] == "header")
    assert (header["name"], header["required"]) == ("X-Omni-Signature", True)
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ChannelEvent"}
    assert "OrderPaidEvent" in document["components"]["schemas"]
    assert {"200", "202", "400", "401", "403", "404", "413", "422"} <= set(operation["responses"])
    assert "event_not_allowed" in operation["responses"]["403"]["description"]


def test_dates_are_documented_as_dates(document):
    for path in ("/v1/metrics/service", "/v1/leaders/{leader_id}/statements"):
        for parameter in document["paths"][path]["get"]["parameters"]:
            if parameter["name"] in ("from", "to"):
                assert {"type": "string", "format": "date"} in parameter["schema"]["anyOf"]
