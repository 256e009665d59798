"""Parameter types the staff API shares."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_day(value: Any) -> Any:
    """Only `YYYY-MM-DD`: pydantic alone would also take `0` (a Unix time) or `20260101`."""
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DAY.match(value)):
        return value
    raise ValueError("expected a calendar date, YYYY-MM-DD")


#: A calendar day (Asia/Shanghai business day) in a query: documented as `format: date`, and a
#: string that is not a real date (`0000-00-00`, `2026-02-30`) is a 422 naming the parameter.
Day = Annotated[date, BeforeValidator(_iso_day)]


def _whole(value: Any) -> Any:
    """JSON has one number type: `3.0` is the integer 3 (JSON Schema's `integer` says so too);
    `3.5`, `"3"` and `true` still fail the strict integer check after this."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: Metadata for a strict integer in a JSON body: accepts `3.0` as 3, nothing else loosened.
#: Put it after the `Field(...)` constraints, so they stay JSON Schema `minimum`/`maximum`.
WholeNumber = BeforeValidator(_whole)
