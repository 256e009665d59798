"""One OpenAPI document for the local API, merged from the API functions' own resolvers.

Each API handler module MAY expose `app`, a Powertools resolver; its `get_openapi_json_schema()`
is the code-generated document (SPEC 3.3). Paths and component schemas are merged; template
routes no handler documents still appear (with their path parameters and security) so the page
lists every route the template declares.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from devstack.functions import LoadedFunction, in_scope
from devstack.model import StackModel

log = logging.getLogger("devstack")
_PARAM = re.compile(r"\{([^}+]+)\+?\}")


def _document_of(fn: LoadedFunction) -> dict[str, Any] | None:
    app = getattr(fn.module, "app", None)
    generate = getattr(app, "get_openapi_json_schema", None)
    if not callable(generate):
        return None
    try:
        document = json.loads(in_scope(fn, generate))
    except Exception:  # one broken document must not hide the others
        log.warning("OpenAPI of %s failed", fn.spec.logical_id, exc_info=True)
        return None
    return document if isinstance(document, dict) else None


def merged_openapi(model: StackModel, functions: dict[str, LoadedFunction]) -> dict[str, Any]:
    """The merged document (OpenAPI 3.1, as Powertools generates)."""
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": model.description.split(":")[0] or "Local API", "version": "local"},
        "servers": [{"url": "/"}],
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
    api_functions = sorted({route.function for route in model.routes})
    for logical_id in api_functions:
        fn = functions.get(logical_id)
        document = _document_of(fn) if fn else None
        if not document:
            continue
        for path, operations in (document.get("paths") or {}).items():
            merged["paths"].setdefault(path, {}).update(operations)
        components = document.get("components") or {}
        merged["components"]["schemas"].update(components.get("schemas") or {})
        merged["components"]["securitySchemes"].update(components.get("securitySchemes") or {})
    documented = {(_shape(path), method) for path, ops in merged["paths"].items() for method in ops}
    for route in model.routes:
        if route.path == "$default":
            continue
        if (_shape(route.path), route.method.lower()) in documented:
            continue  # the handler documents it (perhaps with other parameter names)
        methods = (
            ["get", "post", "put", "patch", "delete"]
            if route.method == "ANY"
            else [route.method.lower()]
        )
        entry = merged["paths"].setdefault(route.path, {})
        for method in methods:
            operation = entry.setdefault(
                method,
                {
                    "summary": f"{route.function} ({route.event_name})",
                    "parameters": [
                        {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                        for n in _PARAM.findall(route.path)
                    ],
                    "responses": {"200": {"description": "See the handler"}},
                },
            )
            if route.authorizer is not None:
                operation.setdefault("security", [{"bearer": []}])
    return merged


def _shape(path: str) -> str:
    """A path with its parameter names erased: /a/{id} and /a/{member_id} are one route."""
    return _PARAM.sub("{}", path)


SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Local API</title>
  <link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});
  </script>
</body>
</html>
"""
