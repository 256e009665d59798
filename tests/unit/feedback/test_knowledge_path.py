"""The whole path on every knowledge entry (issue 15): classifier, then matching, then routing.
Each example, and paraphrases of it without punctuation (no question mark, a polite opening, a
trailing 呢), is answered from its own entry: never a complaint, never a ticket."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from omnihub.feedback.classifier import classify
from omnihub.feedback.knowledge import default_knowledge_base
from omnihub.feedback.model import Incoming
from omnihub.feedback.routing import route

KB = default_knowledge_base()
NOW = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
PUNCTUATION = re.compile(r"[？?！!。，,、；;：:\s]")


def paraphrases(example: str) -> list[str]:
    bare = PUNCTUATION.sub("", example)
    return [example, bare, f"请问{bare}", f"想问下{bare}", f"{bare}呢"]


CASES = [
    pytest.param(entry.id, text, id=f"{entry.id}:{text}")
    for entry in KB.entries
    for example in entry.examples
    for text in dict.fromkeys(paraphrases(example))
]


def test_every_entry_has_examples_to_run() -> None:
    assert all(entry.examples for entry in KB.entries)


@pytest.mark.parametrize(("entry_id", "text"), CASES)
def test_each_example_and_its_unpunctuated_paraphrases_get_their_entrys_answer(
    entry_id: str, text: str
) -> None:
    c = classify(text)  # a medium-risk subject may read as a complaint: routing answers it
    decided = route(c, Incoming("wechat", "FB-1", text, "review", "wechat:ev-1", NOW, NOW), KB)
    assert (decided.outcome, decided.knowledge_entry, decided.ticket) == (
        "knowledge_answer",
        entry_id,
        None,
    )


@pytest.mark.parametrize(
    "text", ["我的积分能换什么东西", "积分能换哪些东西", "你们有什么新品", "积分在哪里查"]
)
def test_a_short_question_without_a_question_mark_is_an_inquiry(text: str) -> None:
    assert classify(text).intent == "inquiry"


@pytest.mark.parametrize("text", ["凭什么积分这么少", "什么破玩意", "没什么问题就是有点贵"])
def test_a_rhetorical_question_or_no_question_is_not_an_inquiry(text: str) -> None:
    assert classify(text).intent != "inquiry"
