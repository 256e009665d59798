"""segment.normalize swaps full-width ASCII before NFKC: the answer must be NFKC's own."""

from __future__ import annotations

import unicodedata

import pytest

from omnihub.feedback import segment

WIDE = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000"]


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


@pytest.mark.parametrize("char", WIDE)
def test_each_wide_character_is_its_nfkc_image(char: str) -> None:
    assert segment._WIDE_TO_ASCII[char] == unicodedata.normalize("NFKC", char)


@pytest.mark.parametrize("before", ["", "e", "か", "Ａ"])
@pytest.mark.parametrize("after", ["", "\u0301", "\u0338", "\u3099", "ｶﾞ", "①"])
def test_normalize_equals_nfkc_around_wide_characters(before: str, after: str) -> None:
    for char in WIDE:
        text = before + char + after
        assert segment.normalize(text) == _nfkc(text), repr(text)


def test_normalize_equals_nfkc_on_mixed_text() -> None:
    text = "买的五常大米，打开有一股霉味！！米里还有虫？\u3000ＡＢＣ１２３ ①㎏ ﾊﾟｯｸ ＝\u0338"
    assert segment.normalize(text) == _nfkc(text)
