"""Identity values normalised so one person's phone is one value whichever channel typed it.

A mainland mobile becomes +86 and 11 digits; scoped ids keep their scope (`appid:openid`).
Placeholders (test numbers, "null", one repeated digit, a configurable list) never match anyone:
they are recognised here and the caller drops them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from omnihub.identity.types import rule

_PLACEHOLDERS = frozenset(
    {"", "null", "undefined", "none", "nil", "nan", "0", "-1", "13800138000", "+8613800138000"}
)
_SEPARATORS = re.compile(r"[\s\-()]")
_MAINLAND = re.compile(r"^1[3-9]\d{9}$")
_INTERNATIONAL = re.compile(r"^\+[1-9]\d{6,14}$")


class InvalidIdentity(ValueError):
    """A value that is neither usable nor a known placeholder."""


@dataclass(frozen=True)
class Normalised:
    type: str
    value: str
    placeholder: bool


def _is_placeholder(value: str, extra: frozenset[str]) -> bool:
    bare = value.strip().lower()
    digits = bare.lstrip("+")
    if bare in _PLACEHOLDERS or bare in extra:
        return True
    return len(digits) > 0 and len(set(digits)) == 1


def _phone(raw: str) -> str:
    value = _SEPARATORS.sub("", raw)
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
            break
    else:
        if len(value) == 13 and value.startswith("86"):
            value = value[2:]
    if _MAINLAND.match(value):
        return "+86" + value
    if _INTERNATIONAL.match(value):
        return value
    raise InvalidIdentity("not a mobile number (mainland 11 digits or +country digits)")


def normalise(identity_type: str, raw: str, extra_placeholders: Iterable[str] = ()) -> Normalised:
    """Normalise one value; raises InvalidIdentity when it is malformed and not a placeholder."""
    extra = frozenset(v.strip().lower() for v in extra_placeholders)
    value = raw.strip()
    if identity_type == "phone":
        if _is_placeholder(_SEPARATORS.sub("", value), extra):
            return Normalised(identity_type, value, placeholder=True)
        phone = _phone(value)
        placeholder = _is_placeholder(phone, extra) or _is_placeholder(phone[3:], extra)
        return Normalised(identity_type, phone, placeholder=placeholder)
    if rule(identity_type).scoped:
        scope, sep, local = value.partition(":")
        if _is_placeholder(value, extra) or (sep and _is_placeholder(local, extra)):
            return Normalised(identity_type, value, placeholder=True)
        if not sep or not scope.strip() or not local.strip():
            raise InvalidIdentity(f"{identity_type} must carry its scope as 'scope:id'")
        return Normalised(identity_type, f"{scope.strip()}:{local.strip()}", placeholder=False)
    return Normalised(identity_type, value, placeholder=_is_placeholder(value, extra))
