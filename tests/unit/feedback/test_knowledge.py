"""The knowledge base (SPEC 4.3): FAQ entries as data, answered only when one clearly fits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from omnihub.feedback.knowledge import (
    KNOWLEDGE_PATH,
    KnowledgeBase,
    default_knowledge_base,
)

KB = default_knowledge_base()
EXAMPLES = [(entry.id, text) for entry in KB.entries for text in entry.examples]


def answer_of(text: str) -> str | None:
    answer = KB.lookup(text).answer
    return answer.entry_id if answer else None


@pytest.mark.parametrize(("entry_id", "text"), EXAMPLES)
def test_every_example_in_the_file_is_answered_by_its_own_entry(entry_id: str, text: str) -> None:
    assert answer_of(text) == entry_id


def test_the_file_covers_what_the_service_team_is_asked_most() -> None:
    ids = {entry.id for entry in KB.entries}
    assert {
        "shelf_life.rice",
        "shelf_life.flour",
        "shelf_life.oil",
        "storage.rice",
        "smoke_point.high_oleic_peanut_oil",
        "returns.near_expiry",
        "origin.wuchang_rice",
        "quality.new_rice",
        "quality.peanut_oil_cold",
        "service.invoice",
        "logistics.delivery_time",
    } <= ids
    assert all(len(entry.examples) >= 1 for entry in KB.entries)


def test_the_answers_say_what_the_brand_promises() -> None:
    answers = {entry.id: entry.answer for entry in KB.entries}
    assert "230℃" in answers["smoke_point.high_oleic_peanut_oil"]
    assert "7天内" in answers["returns.near_expiry"]
    assert "阴凉" in answers["storage.rice"]
    assert "密封" in answers["storage.rice"]
    assert "防潮" in answers["storage.rice"]
    assert "黑龙江省五常市" in answers["origin.wuchang_rice"]
    assert "正常" in answers["quality.peanut_oil_cold"]


def test_a_one_character_term_matches_only_a_whole_token() -> None:
    # 玉米油 contains 米, but it is oil: the rice entries must not fire.
    assert answer_of("玉米油保质期多久？") == "shelf_life.oil"
    assert "shelf_life.rice" not in KB.lookup("玉米油保质期多久？").candidates


def test_a_longer_term_of_another_entry_wins_over_the_words_inside_it() -> None:
    # 保存 (storage) sits inside 保存多久 (shelf life): one question, about shelf life.
    lookup = KB.lookup("大米保存多久")
    assert lookup.answer is not None
    assert lookup.answer.entry_id == "shelf_life.rice"
    assert "storage.rice" in lookup.candidates


def test_the_specific_entry_wins_over_the_general_one() -> None:
    assert answer_of("花生油保质期是多久") == "shelf_life.oil"
    assert answer_of("保质期是多久") == "shelf_life.general"


def test_two_questions_at_once_are_left_to_a_person() -> None:
    lookup = KB.lookup("大米保质期多久，怎么保存？")
    assert lookup.answer is None
    assert {"shelf_life.rice", "storage.rice"} <= set(lookup.candidates)


def test_a_term_glued_into_a_longer_token_still_matches() -> None:
    # jieba cuts 开发票 as one token; 发票 must still be found.
    assert answer_of("怎么开发票") == "service.invoice"


def test_spoilage_words_keep_the_cold_weather_answer_away() -> None:
    assert answer_of("冬天花生油凝固了是坏了吗？") == "quality.peanut_oil_cold"
    assert answer_of("冬天花生油凝固了，还有股哈喇味，是坏了吗？") is None


def test_turbid_oil_without_cold_is_not_explained_away() -> None:
    assert answer_of("油有点浑浊，是不是坏了？") is None


def test_a_text_about_nothing_in_the_file_gets_no_answer_and_no_hint() -> None:
    lookup = KB.lookup("你们周末门店几点关门？")
    assert lookup.answer is None
    assert lookup.candidates == ()


def test_a_file_with_another_format_is_refused(tmp_path: Path) -> None:
    data = json.loads(KNOWLEDGE_PATH.read_text(encoding="utf-8"))
    data["format"] = "something-else/9"
    path = tmp_path / "kb.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError, match="format"):
        KnowledgeBase.from_file(path)


def test_an_entry_without_terms_is_refused(tmp_path: Path) -> None:
    data = json.loads(KNOWLEDGE_PATH.read_text(encoding="utf-8"))
    data["entries"][0]["all_of"] = [[]]
    path = tmp_path / "kb.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValidationError):
        KnowledgeBase.from_file(path)


def test_entry_ids_are_unique(tmp_path: Path) -> None:
    data = json.loads(KNOWLEDGE_PATH.read_text(encoding="utf-8"))
    data["entries"].append(data["entries"][0])
    path = tmp_path / "kb.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError, match="unique"):
        KnowledgeBase.from_file(path)
