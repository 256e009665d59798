"""API Gateway HTTP API in front of the mini handlers: event shape, routing, JWT, responses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from typing import Any

import jwt
import pytest

from devstack import local_jwt
from devstack.http_api import HttpRequest
from devstack.stack import LocalStack
from tests.devstack.devstack_support import ACCOUNT


def _echo(stack: LocalStack, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    status, _, body = stack.http(method, path, **kwargs)
    assert status == 200, body
    echoed: dict[str, Any] = body
    return echoed


def test_jwt_route_event_is_api_gateway_v2(mini_stack: LocalStack) -> None:
    headers = {**mini_stack.auth("leader", leader="L1"), "X-Multi": "a", "Cookie": "c1=1; c2=2"}
    echoed = _echo(
        mini_stack, "GET", "/items/42%20x", headers=headers, query="a=1&a=2&b=&c=%E4%B8%AD"
    )
    event = echoed["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /items/{id}"
    assert event["rawPath"] == "/items/42%20x"
    assert event["rawQueryString"] == "a=1&a=2&b=&c=%E4%B8%AD"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "", "c": "中"}
    assert event["pathParameters"] == {"id": "42 x"}
    assert event["cookies"] == ["c1=1", "c2=2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "a"
    assert all(key == key.lower() for key in event["headers"])
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    context = event["requestContext"]
    assert context["accountId"] == ACCOUNT
    assert context["stage"] == "$default"
    assert context["routeKey"] == "GET /items/{id}"
    assert context["domainName"] == f"{context['apiId']}.execute-api.cn-north-1.amazonaws.com.cn"
    assert context["http"]["method"] == "GET"
    assert context["http"]["path"] == "/items/42 x"
    assert context["http"]["sourceIp"] == "127.0.0.1"
    assert abs(context["timeEpoch"] / 1000 - time.time()) < 60
    claims = context["authorizer"]["jwt"]["claims"]
    assert claims["cognito:groups"] == "[leader]"  # an array claim, as API Gateway hands it over
    assert claims["custom:leader_id"] == "L1"
    assert claims["aud"] == "mini-staff"
    assert claims["iss"] == local_jwt.LOCAL_ISSUER
    assert all(isinstance(v, str) for v in claims.values())
    assert context["authorizer"]["jwt"]["scopes"] is None


def test_open_route_has_no_authorizer_and_text_body(mini_stack: LocalStack) -> None:
    status, headers, body = mini_stack.http(
        "POST", "/hooks/demo", body={"pk": "http-1", "note": "中文"}
    )
    assert status == 202
    assert body == {"stored": "http-1"}
    assert headers["x-hook"] == "demo"
    echoed = _echo(mini_stack, "POST", "/files/upload", body="plain text")
    assert echoed["event"]["body"] == "plain text"
    assert echoed["event"]["isBase64Encoded"] is False
    assert "authorizer" not in echoed["event"]["requestContext"]


def test_binary_body_is_base64(mini_stack: LocalStack) -> None:
    raw = b"\xff\x00\xfe"
    echoed = _echo(mini_stack, "PUT", "/files/blob", body=raw)
    assert echoed["event"]["isBase64Encoded"] is True
    assert base64.b64decode(echoed["event"]["body"]) == raw


@pytest.mark.parametrize(
    ("method", "path", "route_key", "params"),
    [
        ("GET", "/items/special", "GET /items/special", None),
        ("GET", "/items/7", "GET /items/{id}", {"id": "7"}),
        ("DELETE", "/files/a/b/c", "ANY /files/{proxy+}", {"proxy": "a/b/c"}),
    ],
)
def test_route_precedence(
    mini_stack: LocalStack, method: str, path: str, route_key: str, params: dict[str, str] | None
) -> None:
    event = _echo(mini_stack, method, path, headers=mini_stack.auth("agent"))["event"]
    assert event["routeKey"] == route_key
    assert event.get("pathParameters") == params


@pytest.mark.parametrize(("method", "path"), [("GET", "/nothing"), ("GET", "/files")])
def test_no_route_is_404(mini_stack: LocalStack, method: str, path: str) -> None:
    status, _, body = mini_stack.http(method, path, headers=mini_stack.auth("agent"))
    assert (status, body) == (404, {"message": "Not Found"})


def test_a_method_the_path_does_not_declare_is_405(mini_stack: LocalStack) -> None:
    """A deliberate difference from API Gateway (which answers 404): 405 with `Allow` and the
    contract's error body, as schemathesis and RFC 9110 expect (docs/decisions.md)."""
    status, headers, body = mini_stack.http("DELETE", "/items/7", headers=mini_stack.auth("agent"))
    assert (status, headers["allow"], body["error"]["code"]) == (405, "GET", "method_not_allowed")


def _tokens() -> dict[str, str]:
    now = int(time.time())
    good = {"iss": local_jwt.LOCAL_ISSUER, "aud": "mini-staff", "sub": "s", "role": "agent"}
    key = local_jwt.LOCAL_SIGNING_KEY
    return {
        "expired": local_jwt.issue("agent", "mini-staff", now=now - 7200),
        "wrong audience": local_jwt.issue("agent", "someone-else"),
        "wrong key": jwt.encode(
            {**good, "iat": now, "exp": now + 60}, "another-key-of-sufficient-length!!", "HS256"
        ),
        "wrong issuer": jwt.encode(
            {**good, "iss": "https://elsewhere", "iat": now, "exp": now + 60}, key, "HS256"
        ),
        "garbage": "not-a-jwt",
    }


@pytest.mark.parametrize("case", [None, *_tokens()])
def test_bad_tokens_get_401_without_invoking(mini_stack: LocalStack, case: str | None) -> None:
    headers = {} if case is None else {"Authorization": f"Bearer {_tokens()[case]}"}
    before = mini_stack.invocations.get("ApiFunction", 0)
    status, response_headers, body = mini_stack.http("GET", "/items/1", headers=headers)
    assert (status, body) == (401, {"message": "Unauthorized"})
    assert response_headers["www-authenticate"].startswith("Bearer")
    assert mini_stack.invocations.get("ApiFunction", 0) == before


def test_token_without_bearer_prefix_is_accepted(mini_stack: LocalStack) -> None:
    status, _, _ = mini_stack.http(
        "GET", "/items/1", headers={"Authorization": mini_stack.token("admin")}
    )
    assert status == 200


def test_context_and_environment(mini_stack: LocalStack) -> None:
    echoed = _echo(mini_stack, "GET", "/items/ctx", headers=mini_stack.auth("agent"))
    context = echoed["context"]
    assert context["function_name"] == "devstack-ApiFunction"
    assert context["memory_limit_in_mb"] == 128
    assert context["invoked_function_arn"] == (
        f"arn:aws-cn:lambda:cn-north-1:{ACCOUNT}:function:devstack-ApiFunction"
    )
    assert 0 < context["remaining_ms"] <= 10_000
    assert echoed["import_env"] == {"EVENTS_TABLE": "mini-dev-events", "STAGE": "dev"}
    assert echoed["env"] == {"POWERTOOLS_SERVICE_NAME": "api", "AWS_REGION": "cn-north-1"}
    assert os.environ.get("POWERTOOLS_SERVICE_NAME") != "api"  # restored after the call


def test_v2_response_rules(mini_stack: LocalStack) -> None:
    response = mini_stack.runtime.gateway.handle(HttpRequest("GET", "/files/binary"))
    assert (response.status, response.body) == (200, b"\x00\x01\x02\xff")
    status, headers, body = mini_stack.http("GET", "/files/plain")
    assert (status, body, headers["content-type"]) == (200, {"plain": True}, "application/json")
    hook = mini_stack.runtime.gateway.handle(
        HttpRequest("POST", "/hooks/c", body=json.dumps({"pk": "cookie"}).encode())
    )
    assert hook.cookies == ["seen=1"]


def test_signed_channel_event_verifies_with_the_seeded_secret(mini_stack: LocalStack) -> None:
    status, _, body = mini_stack.post_channel_event("tmall", {"event_id": "e1", "text": "好"})
    assert (status, body) == (202, {"signature_ok": True})
    raw = b'{"event_id": "e2"}'
    headers = mini_stack.sign_channel_event("jd", raw, t=1_700_000_000)
    expected = hmac.new(b"local-jd-secret", b"1700000000." + raw, hashlib.sha256).hexdigest()
    assert headers["X-Omni-Signature"] == f"t=1700000000,v1={expected}"
    forged = {**headers, "X-Omni-Signature": headers["X-Omni-Signature"][:-1] + "0"}
    status, _, body = mini_stack.http("POST", "/v1/channels/jd/events", body=raw, headers=forged)
    assert (status, body) == (401, {"signature_ok": False})


def test_local_tokens_carry_the_claims_the_api_reads() -> None:
    token = local_jwt.issue("store", "aud-x", store="S9")
    claims = local_jwt.verify(token, ["aud-x"])
    assert (claims["cognito:groups"], claims["custom:store_id"], claims["aud"]) == (
        ["store"],
        "S9",
        "aud-x",
    )
    assert "role" not in claims
    assert "custom:role" not in claims
    mapped = local_jwt.issue("leader", "a", leader="L", claim_names={"role": "roles"})
    assert local_jwt.verify(mapped, ["a"])["roles"] == ["leader"]
    assert claims["exp"] - claims["iat"] == local_jwt.TOKEN_TTL_S
    assert local_jwt.gateway_claims({"n": 1, "b": True, "l": ["a", "b"]}) == {
        "n": "1",
        "b": "true",
        "l": "[a b]",
    }
