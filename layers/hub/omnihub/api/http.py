"""A Powertools HTTP API resolver with the contract's errors, and the authorise-then-resolve
entry point every API function's `lambda_handler` calls."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from omnihub.api.auth import Principal, authorize
from omnihub.api.errors import body_of, error_body, status_of
from omnihub.errors import HubError

JSON = "application/json"


def error_response(status: int, body: str) -> Response[str]:
    return Response(status_code=status, content_type=JSON, body=body)


def build_resolver(logger: Logger) -> APIGatewayHttpResolver:
    # Powertools logs every route's arguments at DEBUG (a looked-up phone among them): its own
    # logger stays at INFO whatever level the function runs at.
    logging.getLogger("aws_lambda_powertools").setLevel(logging.INFO)
    app = APIGatewayHttpResolver(enable_validation=True)

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
) -> dict[str, Any]:
    """Authorise on the matched route first, then let the resolver validate and dispatch."""
    try:
        caller = authorize(event, policies)
    except HubError as error:
        response = error_response(status_of(error), body_of(error))
        return {
            "statusCode": response.status_code,
            "headers": {"Content-Type": JSON},
            "body": response.body,
            "isBase64Encoded": False,
        }
    app.append_context(principal=caller)
    result: dict[str, Any] = app.resolve(event, context)
    return result


def caller(app: APIGatewayHttpResolver) -> Principal:
    """The principal `handle` authorised for the current request."""
    principal: Principal = app.context["principal"]
    return principal
