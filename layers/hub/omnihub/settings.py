"""Environment read once at cold start into a typed object; a missing value fails fast."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Settings:
    stage: str
    event_log_table: str
    members_table: str
    event_bus_name: str
    parameter_path: str
    event_log_retention_days: int
    extra_placeholders: tuple[str, ...]
    points_table: str | None = None
    points_work_queue_url: str | None = None
    tickets_table: str | None = None
    feedback_table: str | None = None
    knowledge_table: str | None = None


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"environment variable {name} is not set")
    return value


def settings() -> Settings:
    """The function's settings, from the variables template.yaml sets on it.

    Read once per function: in Lambda that is once per process; the local stack hosts every
    function in one process, hence the cache key.
    """
    return _settings_of(os.environ.get("AWS_LAMBDA_FUNCTION_NAME", ""))


@cache
def _settings_of(function_name: str) -> Settings:
    return Settings(
        stage=_required("STAGE"),
        event_log_table=_required("EVENT_LOG_TABLE"),
        members_table=_required("MEMBERS_TABLE"),
        event_bus_name=_required("EVENT_BUS_NAME"),
        parameter_path=_required("PARAMETER_PATH"),
        event_log_retention_days=int(os.environ.get("EVENT_LOG_RETENTION_DAYS", "30")),
        extra_placeholders=tuple(
            v.strip() for v in os.environ.get("IDENTITY_PLACEHOLDERS", "").split(",") if v.strip()
        ),
        # set only on the functions of the capability that uses them
        points_table=os.environ.get("POINTS_TABLE"),
        points_work_queue_url=os.environ.get("POINTS_WORK_QUEUE_URL"),
        tickets_table=os.environ.get("TICKETS_TABLE"),
        feedback_table=os.environ.get("FEEDBACK_TABLE"),
        knowledge_table=os.environ.get("KNOWLEDGE_TABLE"),
    )


def need(value: str | None, name: str) -> str:
    """A capability's setting, required where it is used."""
    if not value:
        raise RuntimeError(f"environment variable {name} is not set on this function")
    return value
