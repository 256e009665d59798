"""Phones and ID numbers inside free text are masked (issue 13 finding 4)."""

import pytest

from omnihub.privacy import holds_personal_number, mask_text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("电话13912345678…我叫李四…住阳光小区3栋", "电话139****5678…我叫李四…住阳光小区3栋"),
        ("+86 139-1234-5678", "139****5678"),
        ("0086 13912345678", "139****5678"),
        ("8613912345678", "139****5678"),
        ("１３９１２３４５６７８", "139****5678"),
        ("＋８６ １３９ １２３４ ５６７８", "139****5678"),
        ("139 1234 5678", "139****5678"),
        ("身份证11010519491231002X", "身份证110***********002X"),
        ("110105 19491231 002x", "110***********002X"),
        ("１１０１０５１９４９１２３１００２Ｘ", "110***********002X"),
        ("座机010-88886666", "座机010-****6666"),
        ("订单A13912345678B", "订单A139****5678B"),
        ("18612345678和13800000001", "186****5678和138****0001"),
    ],
)
def test_phones_and_id_numbers_in_any_spelling_are_masked(text, masked):
    assert mask_text(text) == masked
    assert mask_text(masked) == masked  # idempotent: answers mask stored text again safely
    assert holds_personal_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "批次20261201 日期2026-12-03 金额12.50元",
        "SKU-OIL-5L 5L装",
        "花生油有哈喇味，怀疑变质了",
        "全角标点，保持原样！",
    ],
)
def test_dates_batches_amounts_and_words_stay_as_written(text):
    assert mask_text(text) == text
    assert not holds_personal_number(text)
