"""The classifier's fast paths give the answers the plain ones gave.

`golden_answers.jsonl` holds 1,013 synthetic texts (the risk cases, every lexicon group and
concept in templates of negation, hedging, questions and wishes, degree words, edge strings)
with the full answers of the code before its speed work: a speed change that alters any answer
fails here. Regenerate it (`make golden-answers`) only with a change that means to alter
answers: new labels or a retrained model, after `make train-classifier`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omnihub.feedback import heads, segment
from omnihub.feedback.classifier import classify

GOLDEN = Path(__file__).with_name("golden_answers.jsonl")
EDGES = (
    "",
    " ",
    "a+b#c&d.e_f%g-h",
    "abc123五常大米+++",
    "%%%",
    "c++好用",
    "#12&",
    "a b\r\nc\t d",
    "😀好吃😀",
    "ab c",
    "𠀀𠀁米饭",  # CJK beyond jieba's han range
    "かわいい米",
)


def _golden() -> list[dict]:
    return [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines()]


def test_every_answer_is_the_one_the_plain_code_gave() -> None:
    rows = _golden()
    assert len(rows) > 1000
    wrong = [
        (r["text"], r["expected"], got)
        for r in rows
        if (got := classify(r["text"]).to_dict()) != r["expected"]
    ]
    assert not wrong, f"{len(wrong)} answers changed, first: {wrong[:2]}"


def _pieces() -> list[str]:
    out = list(EDGES)
    for row in _golden():
        norm = segment.normalize(row["text"])
        out.extend([row["text"], norm, *segment.split_clauses(norm)])
    return out


def test_the_segmenter_cuts_as_jieba_does_over_the_same_dictionary() -> None:
    jieba = segment.load_tokenizer()
    fast = segment.get_segmenter()
    for piece in _pieces():
        assert fast.lcut(piece) == jieba.lcut(piece, HMM=False), piece
        assert fast.words(piece) == segment.cut_with_offsets(piece, jieba), piece


def test_packed_rows_sum_to_the_exact_column_sums() -> None:
    rows = {
        "a": (-32768, [32767] + [0] * 13),
        "bc": (5, [-1] * 14),
        "d": (None, list(range(-7, 7))),
        "\x01ef": (-1, None),
    }
    packed = {f: heads.pack(f, s, lab) for f, (s, lab) in rows.items()}
    columns, count, known = heads.unpack(sum(packed.values()))
    assert count == 4
    assert known == 2  # "bc" and "\x01ef": in the sentiment part, longer than one character
    expected = [0] * len(heads.SLOTS)
    for s, lab in rows.values():
        for i, w in enumerate([s or 0, *(lab or [0] * 14)]):
            expected[i] += w
    assert columns == expected


def test_weights_survive_the_file_layout() -> None:
    """Sentiment-only features (long and single characters) in two bytes, the rest as rows."""
    sentiment = {"a": 3, "bc": -1200, "\x02high": 77, "x": -32768, "yz": 32767, "q": 0}
    labelled = {"a": list(range(14)), "zz": [-5] * 14}
    encoded = heads.encode_weights(sentiment, labelled)
    assert encoded["sentiment_only"] == {"known": 3, "short": 2}
    assert heads.decode_weights(encoded) == (sentiment, labelled)
    rows = heads._read_weights(encoded)
    for f in set(sentiment) | set(labelled):
        assert rows[f] == heads.pack(f, sentiment.get(f), labelled.get(f)), f
    with pytest.raises(ValueError, match="16 bits"):
        heads.encode_weights({"a": 40000}, {})
    with pytest.raises(ValueError, match="newline"):
        heads.encode_weights({"a\nb": 1}, {})


def test_a_model_whose_rows_do_not_match_its_features_is_refused() -> None:
    raw = json.loads(heads.MODEL_PATH.read_text(encoding="utf-8"))
    weights = raw["weights"]
    for broken in (
        {**weights, "features": weights["features"] + "\nextra"},
        {**weights, "sentiment_only": {**weights["sentiment_only"], "known": 0}},
        {**weights, "sentiment_only": {"known": -1, "short": 1}},
        {**weights, "sentiment_only": {}},
    ):
        with pytest.raises(ValueError, match="model weights"):
            heads.HeadsModel.from_json({**raw, "weights": broken})


def regenerate() -> None:
    """Rewrite every expected answer from the current code and model (same texts, same order)."""
    rows = _golden()
    lines = [
        json.dumps(
            {**r, "expected": classify(r["text"]).to_dict()}, ensure_ascii=False, sort_keys=True
        )
        for r in rows
    ]
    GOLDEN.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(rows)} answers written to {GOLDEN}")


if __name__ == "__main__":
    regenerate()
