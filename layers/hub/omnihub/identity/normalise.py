"""Identity values normalised so one person's phone is one value whichever channel typed it.

A mainland mobile becomes +86 and 11 digits; scoped ids keep their scope (`appid:openid`).
Placeholders (test numbers, "null", one repeated digit, a configurable list) never match anyone:
they are recognised here, in any spelling (`+86 11111111111`, `0086-…`, full-width digits, the
all-zero device id), and the caller drops them. Every value is NFKC-normalised first (D43).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from omnihub.identity.types import rule

_PLACEHOLDERS = frozenset(
    {"", "null", "undefined", "none", "nil", "nan", "0", "-1", "13800138000", "+8613800138000"}
)
_SEPARATORS = re.compile(r"[\s\-().]")
# [0-9], never \d: \d also matches other scripts' digits, which NFKC leaves alone
_MAINLAND = re.compile(r"^1[3-9][0-9]{9}$")
_INTERNATIONAL = re.compile(r"^\+[1-9][0-9]{6,14}$")
_DIGITS = re.compile(r"^[0-9]+$")


class InvalidIdentity(ValueError):
    """A value that is neither usable nor a known placeholder."""


@dataclass(frozen=True)
class Normalised:
    type: str
    value: str
    placeholder: bool


def _nfkc(raw: str) -> str:
    """One spelling per character (full-width `１３８` is `138`), trimmed."""
    return unicodedata.normalize("NFKC", raw).strip()


def _is_placeholder(value: str, extra: frozenset[str]) -> bool:
    """A listed value, or one character repeated, however it is spaced or dashed
    (`00000000-0000-0000-0000-000000000000`, ` --- `)."""
    bare = value.strip().lower()
    compact = _SEPARATORS.sub("", bare)
    if {bare, compact} & (_PLACEHOLDERS | extra):
        return True
    digits = compact.lstrip("+")
    return not digits or len(set(digits)) == 1


def _national_parts(compact: str) -> list[str]:
    """What is left of a separator-free phone once a country prefix is taken off: `+86`,
    `0086`, `86` (13 digits) for the mainland; one to three digits after `+` for other countries."""
    parts = [compact]
    for prefix in ("+86", "0086"):
        if compact.startswith(prefix):
            parts.append(compact[len(prefix) :])
    if len(compact) == 13 and compact.startswith("86"):
        parts.append(compact[2:])
    if _INTERNATIONAL.match(compact):
        parts.extend(compact[1 + n :] for n in (1, 2, 3))
    return parts


def _phone_placeholder(compact: str, extra: frozenset[str]) -> bool:
    """Placeholders in any spelling: `+86 11111111111`, `8611111111111`, `0086-00000000000`."""
    return any(_is_placeholder(part, extra) for part in _national_parts(compact))


def _phone(compact: str) -> str:
    value = compact
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
            break
    else:
        if len(value) == 13 and value.startswith("86") and _DIGITS.match(value):
            value = value[2:]
    if _MAINLAND.match(value):
        return "+86" + value
    if _INTERNATIONAL.match(value):
        return value
    raise InvalidIdentity("not a mobile number (mainland 11 digits or +country digits)")


def normalise(identity_type: str, raw: str, extra_placeholders: Iterable[str] = ()) -> Normalised:
    """Normalise one value; raises InvalidIdentity when it is malformed and not a placeholder.

    NFKC comes first, so every check below sees one spelling; placeholders are recognised
    before the format is judged, so a placeholder is never a reason to refuse an event.
    """
    listed = [_nfkc(v).lower() for v in extra_placeholders]
    extra = frozenset(listed) | {_SEPARATORS.sub("", v) for v in listed}
    value = _nfkc(raw)
    if identity_type == "phone":
        compact = _SEPARATORS.sub("", value)
        if _phone_placeholder(compact, extra):
            return Normalised(identity_type, value, placeholder=True)
        phone = _phone(compact)
        return Normalised(identity_type, phone, placeholder=_phone_placeholder(phone, extra))
    if rule(identity_type).scoped:
        scope, sep, local = value.partition(":")
        if _is_placeholder(value, extra) or (sep and _is_placeholder(local, extra)):
            return Normalised(identity_type, value, placeholder=True)
        if not sep or not scope.strip() or not local.strip():
            raise InvalidIdentity(f"{identity_type} must carry its scope as 'scope:id'")
        return Normalised(identity_type, f"{scope.strip()}:{local.strip()}", placeholder=False)
    return Normalised(identity_type, value, placeholder=_is_placeholder(value, extra))
