"""Powertools Logger, Tracer and Metrics, set up the same way for every function.

Service name and namespace come from the template (POWERTOOLS_SERVICE_NAME,
POWERTOOLS_METRICS_NAMESPACE). An invocation that counted nothing is normal (a duplicate, a
read), so Powertools' warning about an empty metrics flush is silenced here, once.
"""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

warnings.filterwarnings("ignore", message="No application metrics to publish")


def powertools() -> tuple[Logger, Tracer, Metrics]:
    return Logger(), Tracer(), Metrics()
