"""What the generated OpenAPI document says beyond Powertools' defaults.

Powertools documents the success answer and a 422 `HTTPValidationError` that the API never
sends. Routes declare the statuses they can answer with `responses(...)`; `describe` then makes
the whole document tell the truth: every staff operation carries the bearer scheme, its roles
(from the function's policy table, the same one `authorize` enforces) and the 401/403 it answers
before any handler runs, and every error is the contract's `{"error": {...}}` body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

BEARER = "bearer"
_PARAM = re.compile(r"\{[^}]+\}")


class ErrorDetail(BaseModel):
    """One problem: the field it is about (e.g. `body.csat`, `query.to`) and what is wrong."""

    model_config = ConfigDict(extra="allow")
    field: str | None = None
    message: str | None = None


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail]


class ErrorBody(BaseModel):
    """The contract's error body: every error the hub itself answers."""

    error: ErrorInfo


class GatewayMessage(BaseModel):
    """API Gateway's own answer, sent before any function runs (a missing or bad token)."""

    message: str


WHY = {
    400: "The body is not JSON (or not UTF-8).",
    401: 'No valid bearer token: API Gateway\'s JWT authorizer answers `{"message"}` itself; '
    "the function answers the contract's body when the verified token carries no claims.",
    403: "The token's role may not call this operation, or the resource is outside its scope.",
    404: "No such resource (or one the caller may not see: it is not confirmed to exist).",
    409: "Conflicts with the current state (a short balance, a reused request id, a status "
    "change already made) or another writer was first: re-read and try again.",
    410: "The member was erased.",
    413: "The body is larger than 256 KiB.",
    415: "The body is not sent as `application/json`.",
    422: "The request is invalid: `details` name each field (`body.x`, `query.y`, `path.z`).",
}
_ERROR_CONTENT: dict[str, Any] = {"application/json": {"model": ErrorBody}}


def responses(
    ok: int = 200,
    *errors: int,
    ok_description: str = "OK",
    model: type[BaseModel] | None = None,
) -> dict[int, Any]:
    """A route's `responses=`: its success status (the schema is `model`'s, else the return
    annotation's) and the errors its handler or domain can raise. 401, 403 and 422 are added to
    every staff operation by `describe`; declare here what depends on the route (404, 409...)."""
    success: dict[str, Any] = {"description": ok_description}
    if model is not None:
        success["content"] = {"application/json": {"model": model}}
    declared: dict[int, Any] = {ok: success}
    for status in errors:
        declared[status] = {"description": WHY[status], "content": dict(_ERROR_CONTENT)}
    return declared


class EventAnswer(BaseModel):
    event_id: str
    status: str  # accepted | duplicate


SIGNATURE_HEADER = {
    "name": "X-Omni-Signature",
    "in": "header",
    "required": True,
    "description": '`t=<unix seconds>,v1=<hex HMAC-SHA256(channel secret, "<t>.<raw body>")>`;'
    " `t` within 300 s of now, 1-12 ASCII digits; `v1` 64 hex digits.",
    "schema": {"type": "string", "pattern": r"^t=[0-9]{1,12},v1=[0-9a-f]{64}$"},
}
_WEBHOOK_WHY = {
    400: "The body is not JSON (or not UTF-8, or nested too deep).",
    401: "A missing or bad signature, or a timestamp more than 300 s from now.",
    403: "`event_not_allowed`: this channel may not post this event type, or a `leader_id`"
    " from a channel that carries no leader links.",
    404: "No such channel.",
    413: "The body is larger than 256 KiB.",
    422: WHY[422],
}


def channel_event_doc() -> dict[str, Any]:
    """The webhook route's decorator arguments: its answers, the signature header and the body.
    The body is read raw (the signature covers its bytes) and validated only after the
    signature, so it is documented here rather than declared as a parameter."""
    from pydantic import TypeAdapter

    from omnihub.events.channel import ChannelEvent

    body = TypeAdapter(ChannelEvent).json_schema(ref_template="#/components/schemas/{model}")
    answers: dict[int, Any] = {
        202: {"description": "Accepted: enqueued once.", "content": _model(EventAnswer)},
        200: {
            "description": "A duplicate `event_id`: nothing changes.",
            "content": _model(EventAnswer),
        },
    }
    for status, why in _WEBHOOK_WHY.items():
        answers[status] = {"description": why, "content": dict(_ERROR_CONTENT)}
    return {
        "description": "A channel's signed event: verified, validated, protected "
        "(identities sealed, free text masked) and logged once per `event_id`. No bearer token: "
        "the channel's HMAC signature authenticates it.",
        "responses": answers,
        "openapi_extensions": {
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ChannelEvent"}}
                },
            },
            "x-hub-parameters": [SIGNATURE_HEADER],
            "x-hub-schemas": {**body.pop("$defs", {}), "ChannelEvent": body},
        },
    }


def _model(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"model": model}}


def _error_schema(gateway: bool = False) -> dict[str, Any]:
    error = {"$ref": "#/components/schemas/ErrorBody"}
    if not gateway:
        return {"application/json": {"schema": error}}
    either = {"anyOf": [error, {"$ref": "#/components/schemas/GatewayMessage"}]}
    return {"application/json": {"schema": either}}


def _shape(path: str) -> str:
    return _PARAM.sub("{}", path)


def describe(
    document: dict[str, Any], policies: Mapping[str, frozenset[str]] | None
) -> dict[str, Any]:
    """`document` (Powertools' output, parsed) with roles, security and the contract's errors.
    A route with no policy is documented as denied to everyone, as `authorize` treats it."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    error_body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_body.pop("$defs", {}), ErrorBody=error_body)
    schemas["GatewayMessage"] = GatewayMessage.model_json_schema()
    by_shape = {
        (key.split(" ", 1)[0].lower(), _shape(key.split(" ", 1)[1])): roles
        for key, roles in (policies or {}).items()
    }
    for path, operations in (document.get("paths") or {}).items():
        for method, operation in operations.items():
            schemas.update(operation.pop("x-hub-schemas", {}))
            operation.setdefault("parameters", []).extend(operation.pop("x-hub-parameters", []))
            if not operation["parameters"]:
                del operation["parameters"]
            answers = operation.setdefault("responses", {})
            answers["422"] = {"description": WHY[422], "content": _error_schema()}
            if "{" in path:  # an id no route or resource matches
                answers.setdefault("404", {"description": WHY[404], "content": _error_schema()})
            if "requestBody" in operation and policies is not None:
                for status in (400, 415):
                    answers.setdefault(
                        str(status), {"description": WHY[status], "content": _error_schema()}
                    )
            if policies is None:
                continue  # an open route (the webhook) documents its own answers
            roles = sorted(by_shape.get((method, _shape(path)), frozenset()))
            operation["security"] = [{BEARER: []}]
            operation["x-roles"] = roles
            who = ", ".join(roles) if roles else "nobody (no policy: denied by default)"
            text = (operation.get("description") or operation.get("summary") or "").strip()
            operation["description"] = f"{text}\n\nRoles: {who}.".strip()
            answers.setdefault("401", {"description": WHY[401], "content": _error_schema(True)})
            answers.setdefault("403", {"description": WHY[403], "content": _error_schema(True)})
    document.setdefault("components", {}).setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A token from the brand's identity provider (Cognito or any OIDC issuer);"
        " locally `make -s token ROLE=...`.",
    }
    return document
