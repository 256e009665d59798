"""Powertools Logger, Tracer and Metrics, set up the same way for every function.

Service name and namespace come from the template (POWERTOOLS_SERVICE_NAME,
POWERTOOLS_METRICS_NAMESPACE). An invocation that counted nothing is normal (a duplicate, a
read), so Powertools' warning about an empty metrics flush is silenced here, once.

The tracer patches what the hub calls out through: botocore (every AWS call is a subsegment)
and http.client (any other HTTPS call). Powertools' default, every library the X-Ray SDK knows
that happens to be installed, imports those libraries at cold start for calls the hub never
makes (docs/performance.md, "Cold start").
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

import omnihub.snapstart  # noqa: F401 - registers the SnapStart restore hook (every handler)

warnings.filterwarnings("ignore", message="No application metrics to publish")

TRACED_MODULES = ("botocore", "httplib")


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to sys.stdout as it is at each record, not as it was when the first logger of a
    service was made (Powertools reuses that handler): a process that swaps stdout, as a test
    runner or a local stack does, still gets every line. In Lambda stdout never changes."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self) -> object:
        return sys.stdout

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


_HANDLERS: dict[str, _StdoutHandler] = {}


def powertools() -> tuple[Logger, Tracer, Metrics]:
    """One handler per service, as Powertools keeps one per service logger (it formats it once)."""
    service = os.environ.get("POWERTOOLS_SERVICE_NAME", "service_undefined")
    handler = _HANDLERS.setdefault(service, _StdoutHandler())
    return Logger(logger_handler=handler), Tracer(patch_modules=TRACED_MODULES), Metrics()
