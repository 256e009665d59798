"""Personal data inside free text: phones and ID numbers are masked where text arrives
and again in every answer (rows written before masking existed are masked on the way out).

Masked, not sealed: nobody works a ticket or reads the product board with the customer's phone
in a sentence (the member's file holds it, sealed, and shows it masked), so nothing of it is
kept whole (decision in docs/decisions.md). Names and addresses in prose cannot be found
reliably; they leave with erasure (the text is removed) and with the stores' retention.

Recognised, with full-width digits, `＋`, `－`, `Ｘ` and the ideographic space read as ASCII
(the customer's other characters stay as written):
- mainland mobiles: 1[3-9] and 9 more digits, optionally after +86 / 0086 / 86, with a space,
  dot or dash between the 3-4-4 groups: `13912345678`, `+86 139-1234-5678`, `１３９ 1234 5678`;
- 居民身份证: 17 digits and a digit or X (`11010519491231002X`), spaced 6-8-4 or not;
- landlines with an area code: `010-88886666`, `0755 2345678`.
A number inside a longer token (an order id like `A13912345678B`) is masked too: a false
positive costs a readable order id in a note, a false negative costs a phone. Dates, batch
numbers and amounts are left alone.
"""

from __future__ import annotations

import re

_SEP = r"[ \-.\u00a0]?"
_ID = re.compile(r"(?<!\d)(\d{6})" + _SEP + r"(\d{8})" + _SEP + r"(\d{3}[\dXx])(?![\dXx])")
_MOBILE = re.compile(
    r"(?<![\d+])(?:(?:\+|00)?86"
    + _SEP
    + r")?(1[3-9]\d)"
    + _SEP
    + r"(\d{4})"
    + _SEP
    + r"(\d{4})(?!\d)"
)
_LANDLINE = re.compile(r"(?<![\d+])(0\d{2,3})[ \-]?(\d{3,4})(\d{4})(?!\d)")
_ASCII = str.maketrans(
    {**{chr(0xFF10 + n): str(n) for n in range(10)}, "＋": "+", "－": "-", "Ｘ": "X", "ｘ": "x"}
    | {"\u3000": " "}
)


def _mask_mobile(match: re.Match[str]) -> str:
    return f"{match.group(1)}****{match.group(3)}"


def _mask_id(match: re.Match[str]) -> str:
    return f"{match.group(1)[:3]}***********{match.group(3)[-4:].upper()}"


def _mask_landline(match: re.Match[str]) -> str:
    return f"{match.group(1)}-****{match.group(3)}"


def mask_text(text: str) -> str:
    """The text with every phone and ID number masked (`139****5678`, `110***********002X`).

    Idempotent: a masked text masks to itself."""
    ascii_digits = text.translate(_ASCII)
    if not any("0" <= ch <= "9" for ch in ascii_digits):
        return text
    masked = _ID.sub(_mask_id, ascii_digits)
    masked = _MOBILE.sub(_mask_mobile, masked)
    masked = _LANDLINE.sub(_mask_landline, masked)
    return masked if masked != ascii_digits else text


def mask_optional(text: str | None) -> str | None:
    return None if text is None else mask_text(text)


def holds_personal_number(text: str) -> bool:
    """Whether the text holds a phone or an ID number masking would hide."""
    return mask_text(text) != text
