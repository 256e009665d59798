"""A Powertools HTTP API resolver with the contract's errors, and the authorise-then-resolve
entry point every API function's `lambda_handler` calls."""

from __future__ import annotations

import base64
import inspect
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from omnihub.api.auth import Principal, authorize
from omnihub.api.errors import body_of, error_body, status_of
from omnihub.api.openapi import describe
from omnihub.errors import HubError

JSON = "application/json"


def error_response(status: int, body: str) -> Response[str]:
    return Response(status_code=status, content_type=JSON, body=body)


class HubResolver(APIGatewayHttpResolver):
    """Powertools' HTTP API resolver whose OpenAPI document tells the truth (omnihub.api.openapi):
    a handler's docstring is its operation's description, and `policies` (the table `authorize`
    enforces; None for an open route such as the webhook) give each operation its roles."""

    def __init__(self, policies: Mapping[str, frozenset[str]] | None = None) -> None:
        super().__init__(enable_validation=True)
        self.policies = policies

    def get_openapi_json_schema(self, *args: Any, **kwargs: Any) -> str:
        for route in self._static_routes + self._dynamic_routes:
            route.description = route.description or inspect.getdoc(route.func)
        document = json.loads(super().get_openapi_json_schema(*args, **kwargs))
        return json.dumps(describe(document, self.policies), indent=2, ensure_ascii=False)


def build_resolver(
    logger: Logger, policies: Mapping[str, frozenset[str]] | None = None
) -> HubResolver:
    # Powertools logs every route's arguments at DEBUG (a looked-up phone among them): its own
    # logger stays at INFO whatever level the function runs at.
    logging.getLogger("aws_lambda_powertools").setLevel(logging.INFO)
    app = HubResolver(policies)

    @app.exception_handler(HubError)
    def _hub_error(error: HubError) -> Response[str]:
        return error_response(status_of(error), body_of(error))

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response[str]:
        details = [
            {
                "field": ".".join(str(p) for p in e["loc"] if p != "body" or len(e["loc"]) == 1),
                "message": e["msg"],
            }
            for e in error.errors()
        ]
        return error_response(422, error_body("invalid_input", "the request is invalid", details))

    @app.exception_handler(UnicodeDecodeError)
    def _not_text(_: UnicodeDecodeError) -> Response[str]:
        """A body that is not UTF-8 is not JSON text (RFC 8259): 400, as the webhook answers."""
        details = [{"field": "body", "message": "the body is not UTF-8 text"}]
        return error_response(400, error_body("malformed_body", "the body is not JSON", details))

    @app.exception_handler(RequestUnsupportedContentType)
    def _not_json(_: RequestUnsupportedContentType) -> Response[str]:
        details = [{"field": "header.content-type", "message": "send application/json"}]
        return error_response(
            415, error_body("unsupported_media_type", "the body must be JSON", details)
        )

    @app.not_found
    def _not_found(_: NotFoundError) -> Response[str]:
        return error_response(404, error_body("not_found", "no such route"))

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[str]:
        logger.exception("unhandled error", extra={"error_type": type(error).__name__})
        return error_response(500, error_body("internal", "internal error; it has been logged"))

    return app


def handle(
    app: APIGatewayHttpResolver,
    event: dict[str, Any],
    context: Any,
    policies: Mapping[str, frozenset[str]],
    gate: Callable[[Principal, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Authorise on the matched route first, then let the resolver validate and dispatch.
    `gate` is a function's own scope check (raise Forbidden), also before validation."""
    app.clear_context()  # nothing a previous request's gate found may carry over
    try:
        caller = authorize(event, policies)
        if gate is not None:
            gate(caller, event)
    except HubError as error:
        response = error_response(status_of(error), body_of(error))
        return {
            "statusCode": response.status_code,
            "headers": {"Content-Type": JSON},
            "body": response.body,
            "isBase64Encoded": False,
        }
    if not _json_or_none(event):
        details = [{"field": "header.content-type", "message": "send application/json"}]
        return {
            "statusCode": 415,
            "headers": {"Content-Type": JSON},
            "body": error_body("unsupported_media_type", "the body must be JSON", details),
            "isBase64Encoded": False,
        }
    app.append_context(principal=caller)
    result: dict[str, Any] = app.resolve(_decoded_path(event), context)
    return result


def _json_or_none(event: Mapping[str, Any]) -> bool:
    """A body comes as JSON (or untyped, read as JSON): Powertools would also parse a form or a
    multipart body, and answer a malformed one with a 500."""
    if not event.get("body"):
        return True
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    kind = headers.get("content-type", JSON).split(";", 1)[0].strip().lower()
    return kind == JSON or (kind.startswith("application/") and kind.endswith("+json"))


def _decoded_path(event: dict[str, Any]) -> dict[str, Any]:
    """The event with `rawPath` percent-decoded, so a handler's path argument is the id API
    Gateway's `pathParameters` (and the scope checks) see: Powertools matches routes on the raw
    path and would hand `a%3Ab` to a handler that was authorised for `a:b`."""
    raw = str(event.get("rawPath") or "")
    return {**event, "rawPath": unquote(raw)} if "%" in raw else event


def json_body(event: Mapping[str, Any]) -> dict[str, Any]:
    """The body as a JSON object for a check that runs before validation; {} when it is none
    (validation then answers for it, if the caller may call at all)."""
    raw: str | bytes = event.get("body") or ""
    try:
        if event.get("isBase64Encoded"):
            raw = base64.b64decode(raw)
        parsed = json.loads(raw)
    except (ValueError, TypeError, RecursionError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def caller(app: APIGatewayHttpResolver) -> Principal:
    """The principal `handle` authorised for the current request."""
    principal: Principal = app.context["principal"]
    return principal
