"""Property: any text gives a valid Classification; the classifier never raises."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from omnihub.feedback import lexicon
from omnihub.feedback.classifier import Classification, classify

# Lexicon terms and punctuation mixed into arbitrary text reach the interesting branches.
_PIECES = st.sampled_from(
    [*lexicon.all_terms(), "，", "。", "？", "！", "?", " ", "\n", "米", "油", "面粉"]
)
_TEXTS = st.one_of(st.text(max_size=200), st.lists(_PIECES, max_size=30).map("".join))


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_any_text_gives_a_valid_classification(text: str) -> None:
    result = classify(text)
    assert isinstance(result, Classification)
    Classification.model_validate(result.to_dict())  # every field within its declared range
    assert 0.0 <= result.score <= 1.0
    assert 0.0 <= result.intensity <= 1.0
    assert len(result.topics) == len(set(result.topics))  # primary first, no repeats
    assert result.topics
    assert len(result.evidence) == len(set(result.evidence))
    assert result == classify(text)  # deterministic
    if result.risk == "high":  # a food-safety call always shows what it relied on
        assert result.evidence
