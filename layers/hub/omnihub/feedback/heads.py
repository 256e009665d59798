"""Trained linear heads of the feedback classifier: sentiment, risk, intent and topics.

One model file (`data/classifier_model.json`, written by `scripts/train_classifier.py` from the
reviews and the labelled development set) holds the sentiment weights (learnt from 60,000
reviews) and, per feature, its weights in the 14 outputs learnt from the labelled set (risk,
intent, topics, and whether the text is mixed, which is what `neu` means). Features are the
text's character 1-3 grams (within clauses), its jieba words, and the lexicon pass's signals
(a food-safety term left standing, a negated defect, a question mark...): the rules that must
stay rules feed the models instead of overriding them afterwards.

Plain Python at run time: one `sum` over the text's features (in C), then a softmax per head.
Every weight of a feature is held in one integer (`pack`: a slot of 36 bits per output, each
weight offset by 2**15 so that no slot borrows from the next, and slots that count the features
found), so the one sum adds all 15 columns at once, exactly, with one dictionary lookup per
feature; a dictionary per head and a set intersection each cost three times as much, most of it
waiting for memory. The file holds those integers as they are (fixed-width big-endian rows;
a feature with a sentiment weight only, three in four, as that weight in two bytes; zlib,
base64) beside the features as one string, and is read on first use, once per process.
"""

from __future__ import annotations

import base64
import json
import math
import re
import sys
import threading
import zlib
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

MODEL_PATH = Path(__file__).with_name("data") / "classifier_model.json"
MODEL_FORMAT = "omnihub-feedback-heads/3"
RISKS = ("high", "medium", "low")
INTENTS = ("complaint", "inquiry", "suggestion", "praise")
TOPICS = ("packaging", "logistics", "taste_quality", "storage", "price", "service")
#: Output slots, in the order of the model file's bias and weight rows.
SLOTS: tuple[str, ...] = (
    "sentiment",
    *(f"risk:{r}" for r in RISKS),
    *(f"intent:{i}" for i in INTENTS),
    *(f"topic:{t}" for t in TOPICS),
    "mixed",
)
_RISK = slice(1, 4)
_INTENT = slice(4, 8)
_TOPIC = slice(8, 14)
_MIXED = 14
WORD = "\x01"  # prefixes that keep words and signals apart from character grams
SIGNAL = "\x02"
_LOGIT_LIMIT = 30.0
SCALE = 1000  # weights are stored and summed as whole thousandths
#: A packed row's slots, after the len(SLOTS) weights: ROWS counts the features summed (each
#: has 1 there), KNOWN those of the sentiment part longer than one character (`Scores.known`),
#: IN_SENTIMENT and IN_LABELLED say which part of the file a feature belongs to.
_ROWS, _KNOWN, _IN_SENTIMENT, _IN_LABELLED = range(len(SLOTS), len(SLOTS) + 4)
_N_SLOTS = len(SLOTS) + 4
_SLOT_BITS = 36  # 16 for an offset weight, 20 of headroom: sums of up to 2**20 rows are exact
_SLOT_MASK = (1 << _SLOT_BITS) - 1
_MAX_ROWS = 1 << (_SLOT_BITS - 16)
_OFFSET = 1 << 15  # weights are 16-bit: w + _OFFSET is never negative
_ROW_BYTES = (_N_SLOTS * _SLOT_BITS + 7) // 8
_COLUMN_SHIFTS = tuple(range(0, _SLOT_BITS * len(SLOTS), _SLOT_BITS))
_ROWS_SHIFT = _SLOT_BITS * _ROWS
_KNOWN_SHIFT = _SLOT_BITS * _KNOWN


def features(clauses: Iterable[str], tokens: Iterable[str], signals: Iterable[str]) -> set[str]:
    """Character 1-3 grams of each clause, words, and signals; training and scoring share it."""
    feats: set[str] = set()
    update = feats.update  # one call per clause: the calls, not the grams, cost most
    add = str.__add__
    for c in clauses:
        pairs = list(map(add, c, c[1:]))
        update(c, pairs, map(add, pairs, c[2:]))  # each pair with the character after it
    update(map(WORD.__add__, tokens), map(SIGNAL.__add__, signals))
    return feats


#: Rules that stay rules: an inquiry asks (a question mark, 吗, 请问, a question word...), a
#: suggestion wishes (建议, 希望, 下次...). Without such a signal the model may not name them.
ASK_SIGNALS = frozenset(SIGNAL + s for s in ("asked", "cue:inquiry", "asks_unmarked"))
WISH_SIGNALS = frozenset(SIGNAL + s for s in ("cue:suggestion", "k:wish"))


def allowed_intents(feats: set[str]) -> tuple[bool, ...]:
    """Which of INTENTS the text may have, in INTENTS order."""
    return (True, not ASK_SIGNALS.isdisjoint(feats), not WISH_SIGNALS.isdisjoint(feats), True)


def sigmoid(logit: float) -> float:
    """Logistic function on a clamped logit (math.exp never overflows). The clamp is
    max(-L, min(L, logit)) written out (NaN included): eight calls a text, the builtins cost."""
    z = logit if logit < _LOGIT_LIMIT else _LOGIT_LIMIT
    z = z if z > -_LOGIT_LIMIT else -_LOGIT_LIMIT
    return 1.0 / (1.0 + math.exp(-z))


def softmax(logits: Sequence[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


@dataclass(frozen=True)
class Scores:
    """What the heads say of one text."""

    sentiment: float  # probability that the text is positive
    risk: Mapping[str, float]
    intent: Mapping[str, float]
    topics: Mapping[str, float]  # each topic's own probability (one-vs-rest)
    mixed: float  # probability that the text is neither clearly negative nor positive (neu)
    known: int  # features longer than one character the model knew; 0: nothing to go on

    def top_intent(self, allowed: Sequence[bool] = (True,) * len(INTENTS)) -> str:
        """The likeliest intent among those the rules allow."""
        return max(
            (i for i, ok in zip(INTENTS, allowed, strict=True) if ok),
            key=lambda i: self.intent[i],
        )


@dataclass(frozen=True)
class Thresholds:
    """Decision points chosen on the training part by cross-validation (see the script)."""

    mixed: float  # a text is neu when its `mixed` probability reaches this
    risk_high: float
    topic: float


def pack(feature: str, sentiment: int | None, labelled: Sequence[int] | None = None) -> int:
    """All of one feature's weights as one integer: slot i (36 bits from bit 36*i) holds the
    i-th weight of SLOTS plus 2**15 (0 where the feature has none), then the counting slots.

    A text holds a feature once, and a model has fewer than 2**20 of them, so in a sum of rows
    no slot reaches 2**36: slot i of the sum less 2**15 per row is the exact column sum."""
    weights = [sentiment or 0, *(labelled if labelled is not None else [0] * (len(SLOTS) - 1))]
    if len(weights) != len(SLOTS):
        raise ValueError(f"a labelled row needs {len(SLOTS) - 1} weights")
    if any(not -_OFFSET <= w < _OFFSET for w in weights):
        raise ValueError("a weight does not fit in 16 bits: lower SCALE")
    flags = {
        _ROWS: 1,
        _KNOWN: sentiment is not None and len(feature) > 1,
        _IN_SENTIMENT: sentiment is not None,
        _IN_LABELLED: labelled is not None,
    }
    value = sum((w + _OFFSET) << (_SLOT_BITS * i) for i, w in enumerate(weights))
    return value + sum(int(on) << (_SLOT_BITS * i) for i, on in flags.items())


def unpack(total: int) -> tuple[list[int], int, int]:
    """A sum of packed rows: its len(SLOTS) column sums, how many rows, how many `known`
    (one comprehension over fixed shifts: a loop of appends costs half as much again)."""
    rows = (total >> _ROWS_SHIFT) & _SLOT_MASK
    base = rows * _OFFSET
    columns = [((total >> shift) & _SLOT_MASK) - base for shift in _COLUMN_SHIFTS]
    return columns, rows, (total >> _KNOWN_SHIFT) & _SLOT_MASK


def _slot(packed: int, index: int) -> int:
    return (packed >> (_SLOT_BITS * index)) & _SLOT_MASK


def _sentiment_only_base(known: bool) -> int:
    """`pack` of a feature with a sentiment weight only, less that weight's slot."""
    return pack("ab" if known else "a", 0) - _OFFSET


_KNOWN_BASE, _SHORT_BASE = _sentiment_only_base(True), _sentiment_only_base(False)
_ROW_CHUNKS = re.compile(b".{%d}" % _ROW_BYTES, re.DOTALL)


def encode_weights(
    sentiment: Mapping[str, int], labelled: Mapping[str, Sequence[int]]
) -> dict[str, Any]:
    """The file's `weights`: every feature once (joined by newlines: no feature holds white
    space) and, in the same order, its weights: first the features with a sentiment weight
    only, as that weight plus 2**15 in two little-endian bytes (`sentiment_only` counts them:
    those longer than one character, then single characters), then every other feature's
    `pack`ed row, big-endian, _ROW_BYTES each; all of it zlib, base64. Three features in four
    have a sentiment weight only: two bytes each instead of a row makes the first answer
    cheaper to read (less to inflate and split)."""
    names = set(sentiment) | set(labelled)
    if any("\n" in f for f in names):
        raise ValueError("a feature holds a newline")
    if len(names) >= _MAX_ROWS:
        raise ValueError(f"a model holds fewer than {_MAX_ROWS} features")
    alone = sorted(f for f in sentiment if f not in labelled)
    known = [f for f in alone if len(f) > 1]
    short = [f for f in alone if len(f) <= 1]
    rest = sorted(names - set(alone))
    values = array("H")
    for f in (*known, *short):
        pack(f, sentiment[f])  # checks that the weight fits
        values.append(sentiment[f] + _OFFSET)
    if sys.byteorder == "big":
        values.byteswap()
    rows = b"".join(
        pack(f, sentiment.get(f), labelled.get(f)).to_bytes(_ROW_BYTES, "big") for f in rest
    )
    return {
        "features": "\n".join([*known, *short, *rest]),
        "sentiment_only": {"known": len(known), "short": len(short)},
        "rows": base64.b64encode(zlib.compress(values.tobytes() + rows, 9)).decode("ascii"),
    }


def _read_weights(weights: Mapping[str, Any]) -> dict[str, int]:
    """Feature -> packed row, as the file holds them (C all the way: split, array, map,
    findall, from_bytes)."""
    names = weights["features"].split("\n") if weights["features"] else []
    n_known, n_short = (
        int(weights["sentiment_only"]["known"]),
        int(weights["sentiment_only"]["short"]),
    )
    n_alone = n_known + n_short
    data = zlib.decompress(base64.b64decode(weights["rows"]))
    if (
        min(n_known, n_short) < 0
        or len(data) != 2 * n_alone + _ROW_BYTES * (len(names) - n_alone)
        or len(names) >= _MAX_ROWS
    ):
        raise ValueError("model weights do not match its features")
    values = array("H")
    values.frombytes(data[: 2 * n_alone])
    if sys.byteorder == "big":
        values.byteswap()
    rows = [
        *map(_KNOWN_BASE.__add__, values[:n_known]),
        *map(_SHORT_BASE.__add__, values[n_known:]),
        *map(int.from_bytes, _ROW_CHUNKS.findall(data, 2 * n_alone)),  # big-endian by default
    ]
    return dict(zip(names, rows, strict=True))


def decode_weights(weights: Mapping[str, Any]) -> tuple[dict[str, int], dict[str, list[int]]]:
    """The plain weights back from `encode_weights`'s form (tests and tools)."""
    sentiment: dict[str, int] = {}
    labelled: dict[str, list[int]] = {}
    for f, row in _read_weights(weights).items():
        if _slot(row, _IN_SENTIMENT):
            sentiment[f] = _slot(row, 0) - _OFFSET
        if _slot(row, _IN_LABELLED):
            labelled[f] = [_slot(row, i) - _OFFSET for i in range(1, len(SLOTS))]
    return sentiment, labelled


@dataclass(frozen=True)
class HeadsModel:
    bias: tuple[float, ...]
    rows: Mapping[str, int]  # feature -> all its weights, `pack`ed (1/SCALE each)
    thresholds: Thresholds

    def score(self, feats: set[str]) -> Scores:
        """One sum of packed rows (in C), unpacked into 15 column sums. Weights are whole
        numbers of 1/SCALE, so a sum is exact whatever order the set gives."""
        columns, _, known = unpack(sum(map(self.rows.get, feats, repeat(0))))
        acc = [b + c / SCALE for b, c in zip(self.bias, columns, strict=True)]
        risk = softmax(acc[_RISK])
        intent = softmax(acc[_INTENT])
        return Scores(
            sentiment=sigmoid(acc[0]),
            risk=dict(zip(RISKS, risk, strict=True)),
            intent=dict(zip(INTENTS, intent, strict=True)),
            topics={t: sigmoid(v) for t, v in zip(TOPICS, acc[_TOPIC], strict=True)},
            mixed=sigmoid(acc[_MIXED]),
            known=known,
        )

    def contributions(self, feats: set[str], slot: str) -> list[tuple[float, str]]:
        """Features by their weight towards one labelled output, largest first (evidence)."""
        index = SLOTS.index(slot)
        found = (
            ((_slot(row, index) - _OFFSET) / SCALE, f)
            for f in feats
            if (row := self.rows.get(f)) is not None and _slot(row, _IN_LABELLED)
        )
        return sorted((w, f) for w, f in found if w > 0)[::-1]

    @classmethod
    def from_json(cls, raw: Mapping[str, object]) -> HeadsModel:
        """Check the file's format tag, slots and shape; a wrong file fails loudly."""
        if raw.get("format") != MODEL_FORMAT:
            raise ValueError(f"not a {MODEL_FORMAT} model: format={raw.get('format')!r}")
        if tuple(raw.get("slots", ())) != SLOTS:  # type: ignore[arg-type]
            raise ValueError(f"model slots differ from {SLOTS}")
        bias = raw.get("bias")
        weights = raw.get("weights")
        limits = raw.get("thresholds")
        if not isinstance(bias, list) or len(bias) != len(SLOTS):
            raise ValueError(f"model needs {len(SLOTS)} biases")
        if not isinstance(weights, dict) or set(weights) != {"features", "sentiment_only", "rows"}:
            raise ValueError("model needs 'weights' with 'features', 'sentiment_only' and 'rows'")
        if not isinstance(limits, dict):
            raise ValueError("model needs a 'thresholds' object")
        if raw.get("scale") != SCALE:
            raise ValueError(f"model weights must be in 1/{SCALE}")
        try:
            rows = _read_weights(weights)
        except (AttributeError, KeyError, TypeError, ValueError, zlib.error) as exc:
            raise ValueError(f"model weights unreadable: {exc}") from exc
        return cls(
            bias=tuple(float(b) for b in bias),
            rows=rows,
            thresholds=Thresholds(**{k: float(v) for k, v in limits.items()}),
        )


_lock = threading.Lock()
_model: HeadsModel | None = None


def load_model(path: Path = MODEL_PATH) -> HeadsModel:
    """Read a model file (no caching: see get_model)."""
    with path.open(encoding="utf-8") as handle:
        raw = json.load(handle)
    if not isinstance(raw, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return HeadsModel.from_json(raw)


def get_model() -> HeadsModel:
    """The packaged model, read on first use."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = load_model()
    return _model
