"""Every error answer has the contract's body: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import json
from typing import Any

from omnihub import errors

STATUS: dict[type[errors.HubError], int] = {
    errors.MalformedBody: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.ConcurrentChange: 409,
    errors.Gone: 410,
    errors.PayloadTooLarge: 413,
    errors.InvalidInput: 422,
}


def status_of(error: errors.HubError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> str:
    return json.dumps(
        {"error": {"code": code, "message": message, "details": details or []}},
        ensure_ascii=False,
    )


def body_of(error: errors.HubError) -> str:
    return error_body(error.code, error.message, error.details)
