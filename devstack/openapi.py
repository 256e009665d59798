"""One OpenAPI document for the local API, merged from the API functions' own resolvers.

Each API handler module MAY expose `app`, a Powertools resolver; its `get_openapi_json_schema()`
is the code-generated document. Paths and component schemas are merged; template
routes no handler documents still appear (with their path parameters and security) so the page
lists every route the template declares.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
import re
from pathlib import Path
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


#: Swagger UI's files the page loads, with their content types. They come from the PyPI package
#: `swagger-ui-py` (requirements-dev.txt; Swagger UI 5, which renders OpenAPI 3.1) and are served
#: under /docs/, so the page needs no CDN: it works offline and in mainland China.
SWAGGER_ASSETS: dict[str, str] = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}

SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Local API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", validatorUrl: null});
  </script>
</body>
</html>
"""


def swagger_ui_dir() -> Path | None:
    """Where the installed Swagger UI files are, found without importing the package (its
    `__init__` pulls in web-framework glue the local server does not use)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "static"


@functools.cache
def swagger_asset(name: str) -> tuple[bytes, str] | None:
    """One of SWAGGER_ASSETS (body, content type); None for any other name (nothing else of the
    package's folder is served) or when the package is not installed."""
    content_type = SWAGGER_ASSETS.get(name)
    folder = swagger_ui_dir()
    if content_type is None or folder is None or not (folder / name).is_file():
        return None
    return (folder / name).read_bytes(), content_type
