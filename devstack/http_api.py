"""API Gateway HTTP API in front of the handlers: routing, the JWT authorizer, payload v2.0.

Reproduces what the handlers see in AWS: the exact v2.0 event (lower-cased headers, cookies apart,
comma-joined repeated query parameters, `authorizer.jwt` only on JWT routes, body as text or
base64) and the gateway's own answers (404 without a route, 401 before the function when the
token is missing or bad, 500 when the function fails), plus the v2.0 response rules.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from devstack import local_jwt
from devstack.model import HttpApiSpec, HttpRoute, StackModel

log = logging.getLogger("devstack")


@dataclass(frozen=True)
class HttpRequest:
    """A request as it reaches the gateway; `path` and `query` are raw (still percent-encoded)."""

    method: str
    path: str
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"


@dataclass
class HttpResponse:
    """What the gateway answers; `cookies` become Set-Cookie headers."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    cookies: list[str] = field(default_factory=list)

    def json(self) -> Any:
        """The body parsed as JSON, else as text, else None when empty."""
        if not self.body:
            return None
        text = self.body.decode("utf-8", errors="replace")
        try:
            return json.loads(text)
        except ValueError:
            return text


def gateway_error(status: int, message: str, **headers: str) -> HttpResponse:
    """One of API Gateway's own answers, e.g. 404 `{"message":"Not Found"}`."""
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return HttpResponse(status, {"content-type": "application/json", **headers}, body)


def method_not_allowed(method: str, allowed: list[str]) -> HttpResponse:
    """A path the API has, asked with a method it does not declare there (TRACE, PUT...): 405
    with `Allow` and the contract's error body. (API Gateway itself answers 404
    `{"message":"Not Found"}` here; docs/decisions.md says why the local stack differs.)"""
    error = {
        "code": "method_not_allowed",
        "message": f"{method[:16]} is not allowed here",
        "details": [{"field": "method", "allowed": allowed}],
    }
    body = json.dumps({"error": error}, ensure_ascii=False).encode()
    headers = {"content-type": "application/json", "allow": ", ".join(allowed)}
    return HttpResponse(405, headers, body)


# -- routing -------------------------------------------------------------------------------------
_LITERAL, _PARAM, _GREEDY = 0, 1, 2


@dataclass(frozen=True)
class _CompiledRoute:
    route: HttpRoute
    segments: tuple[tuple[int, str], ...]

    @property
    def rank(self) -> tuple[Any, ...]:
        """Sort key: literal segments beat {params}, which beat {greedy+}; exact method beats ANY;
        `$default` last."""
        default = self.route.path == "$default"
        kinds = tuple(kind for kind, _ in self.segments)
        return (default, kinds, self.route.method == "ANY")

    def match(self, method: str, parts: list[str]) -> dict[str, str] | None:
        if self.route.method not in (method, "ANY"):
            return None
        return self.match_path(parts)

    def match_path(self, parts: list[str]) -> dict[str, str] | None:
        """The path parameters if the path matches, whatever the method."""
        if self.route.path == "$default":
            return {}
        params: dict[str, str] = {}
        for index, (kind, text) in enumerate(self.segments):
            if kind == _GREEDY:
                rest = parts[index:]
                if not rest:
                    return None
                params[text] = "/".join(rest)
                return params
            if index >= len(parts):
                return None
            if kind == _LITERAL and parts[index] != text:
                return None
            if kind == _PARAM:
                if not parts[index]:
                    return None
                params[text] = parts[index]
        return params if len(parts) == len(self.segments) else None


def _compile(route: HttpRoute) -> _CompiledRoute:
    segments: list[tuple[int, str]] = []
    if route.path != "$default":
        for part in route.path.strip("/").split("/"):
            if part.startswith("{") and part.endswith("+}"):
                segments.append((_GREEDY, part[1:-2]))
            elif part.startswith("{") and part.endswith("}"):
                segments.append((_PARAM, part[1:-1]))
            else:
                segments.append((_LITERAL, part))
    return _CompiledRoute(route, tuple(segments))


class RouteTable:
    """API Gateway's route selection over the template's HttpApi events."""

    def __init__(self, routes: Iterable[HttpRoute]) -> None:
        self._routes = sorted((_compile(r) for r in routes), key=lambda c: c.rank)

    def match(self, method: str, raw_path: str) -> tuple[HttpRoute, dict[str, str]] | None:
        """The most specific route for the request and its decoded path parameters."""
        stripped = raw_path.strip("/")
        parts = [unquote(p) for p in stripped.split("/")] if stripped else []
        for compiled in self._routes:
            params = compiled.match(method.upper(), parts)
            if params is not None:
                return compiled.route, params
        return None

    def methods_at(self, raw_path: str) -> list[str]:
        """The methods declared on the most specific route path this request path matches
        (`/v1/members/lookup`, not also `/v1/members/{id}`); none for `$default` or ANY."""
        stripped = raw_path.strip("/")
        parts = [unquote(p) for p in stripped.split("/")] if stripped else []
        matching = [
            c
            for c in self._routes
            if c.route.path != "$default" and c.match_path(parts) is not None
        ]
        if not matching or any(c.route.method == "ANY" for c in matching):
            return []
        best = matching[0].route.path  # routes are sorted most specific first
        return sorted({c.route.method for c in matching if c.route.path == best})


# -- the v2.0 event ------------------------------------------------------------------------------
def build_event(
    request: HttpRequest,
    route: HttpRoute,
    api: HttpApiSpec,
    path_params: dict[str, str],
    jwt_claims: dict[str, Any] | None,
    account_id: str,
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway sends for this request and route."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    headers.setdefault("host", api.domain_name)
    headers.setdefault("x-forwarded-for", request.source_ip)
    if request.body:
        headers.setdefault("content-length", str(len(request.body)))
    now = datetime.now(UTC)
    request_id = base64.b32encode(uuid.uuid4().bytes).decode()[:16]
    query: dict[str, str] = {}
    for key, value in parse_qsl(request.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    context: dict[str, Any] = {
        "accountId": account_id,
        "apiId": api.api_id,
        "domainName": api.domain_name,
        "domainPrefix": api.api_id,
        "http": {
            "method": request.method.upper(),
            "path": unquote(request.path),
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route.route_key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if jwt_claims is not None:
        scopes = list(route.scopes) or None
        context["authorizer"] = {
            "jwt": {"claims": local_jwt.gateway_claims(jwt_claims), "scopes": scopes}
        }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.path,
        "rawQueryString": request.query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_params:
        event["pathParameters"] = path_params
    if request.body:
        try:
            event["body"] = request.body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(request.body).decode()
            event["isBase64Encoded"] = True
    return event


def to_response(result: Any) -> HttpResponse:
    """Apply the v2.0 response rules to whatever the handler returned."""
    if isinstance(result, dict) and "statusCode" in result:
        headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[str(name).lower()] = ",".join(str(v) for v in values)
        raw = result.get("body")
        text = "" if raw is None else raw if isinstance(raw, str) else json.dumps(raw)
        if result.get("isBase64Encoded"):
            try:
                body = base64.b64decode(text, validate=True)
            except binascii.Error:
                return gateway_error(500, "Internal Server Error")
        else:
            body = text.encode("utf-8")
        return HttpResponse(
            int(result["statusCode"]), headers, body, list(result.get("cookies") or [])
        )
    if isinstance(result, str):
        return HttpResponse(200, {"content-type": "application/json"}, result.encode("utf-8"))
    body = json.dumps(result, ensure_ascii=False).encode("utf-8")
    return HttpResponse(200, {"content-type": "application/json"}, body)


# -- the gateway -----------------------------------------------------------------------------------
Invoke = Callable[[str, dict[str, Any]], Any]


class HttpGateway:
    """Routes a request, runs the authorizer, invokes the function and shapes the answer."""

    def __init__(self, model: StackModel, invoke: Invoke) -> None:
        self.model = model
        self.invoke = invoke
        self.routes = RouteTable(model.routes)

    def handle(self, request: HttpRequest) -> HttpResponse:
        """One request through API Gateway; never raises for a handler's failure."""
        response = self._handle(request)
        response.headers.setdefault("apigw-requestid", uuid.uuid4().hex[:16])
        return response

    def _handle(self, request: HttpRequest) -> HttpResponse:
        found = self.routes.match(request.method, request.path)
        if found is None:
            allowed = self.routes.methods_at(request.path)
            if allowed:
                return method_not_allowed(request.method, allowed)
            return gateway_error(404, "Not Found")
        route, params = found
        if route.payload_version != "2.0":
            return gateway_error(500, "devstack supports payload format 2.0 only")
        claims = None
        if route.authorizer is not None:
            if route.authorizer.kind != "JWT":
                return gateway_error(
                    500, f"devstack cannot run {route.authorizer.kind} authorizers"
                )
            header = next(
                (v for k, v in request.headers if k.lower() == _identity_header(route)), None
            )
            token = local_jwt.bearer(header)
            if token is None:
                return gateway_error(401, "Unauthorized", **{"www-authenticate": "Bearer"})
            try:
                claims = local_jwt.verify(token, route.authorizer.audience)
            except local_jwt.InvalidToken as error:
                challenge = f'Bearer error="invalid_token" error_description="{error}"'
                return gateway_error(401, "Unauthorized", **{"www-authenticate": challenge})
            granted = str(claims.get("scope") or "").split()
            if route.scopes and not set(route.scopes) & set(granted):
                return gateway_error(403, "Forbidden")
        api = self.model.apis[route.api]
        event = build_event(request, route, api, params, claims, self.model.pseudo.account_id)
        try:
            result = self.invoke(route.function, event)
        except Exception:  # API Gateway turns any function error into a 500
            log.warning("%s failed on %s", route.function, route.route_key, exc_info=True)
            return gateway_error(500, "Internal Server Error")
        return to_response(result)


def _identity_header(route: HttpRoute) -> str:
    source = route.authorizer.identity_source if route.authorizer else ""
    prefix = "$request.header."
    return source[len(prefix) :].lower() if source.startswith(prefix) else "authorization"
