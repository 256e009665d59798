"""Trained linear heads of the feedback classifier: sentiment, risk, intent and topics.

One model file (`data/classifier_model.json`, written by `scripts/train_classifier.py` from the
reviews and the labelled development set) holds the sentiment weights (learnt from 60,000
reviews) and, per feature, its weights in the 14 outputs learnt from the labelled set (risk,
intent, topics, and whether the text is mixed, which is what `neu` means). Features are the
text's character 1-3 grams (within clauses), its jieba words, and the lexicon pass's signals
(a food-safety term left standing, a negated defect, a question mark...): the rules that must
stay rules feed the models instead of overriding them afterwards.

Plain Python at run time: two set intersections and column sums (in C), then a softmax per
head. The model is read on first use, once per process.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MODEL_PATH = Path(__file__).with_name("data") / "classifier_model.json"
MODEL_FORMAT = "omnihub-feedback-heads/1"
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


def features(clauses: Iterable[str], tokens: Iterable[str], signals: Iterable[str]) -> set[str]:
    """Character 1-3 grams of each clause, words, and signals; training and scoring share it."""
    feats: set[str] = set()
    for c in clauses:
        feats.update(c)
        feats.update(map(str.__add__, c, c[1:]))
        feats.update(map("".join, zip(c, c[1:], c[2:], strict=False)))
    feats.update(WORD + t for t in tokens)
    feats.update(SIGNAL + s for s in signals)
    return feats


#: Rules that stay rules: an inquiry asks (a question mark, 吗, 请问, a question word...), a
#: suggestion wishes (建议, 希望, 下次...). Without such a signal the model may not name them.
ASK_SIGNALS = frozenset(SIGNAL + s for s in ("asked", "cue:inquiry", "asks_unmarked"))
WISH_SIGNALS = frozenset(SIGNAL + s for s in ("cue:suggestion", "k:wish"))


def allowed_intents(feats: set[str]) -> tuple[bool, ...]:
    """Which of INTENTS the text may have, in INTENTS order."""
    return (True, not ASK_SIGNALS.isdisjoint(feats), not WISH_SIGNALS.isdisjoint(feats), True)


def sigmoid(logit: float) -> float:
    """Logistic function on a clamped logit (math.exp never overflows)."""
    z = max(-_LOGIT_LIMIT, min(_LOGIT_LIMIT, logit))
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


@dataclass(frozen=True)
class HeadsModel:
    bias: tuple[float, ...]
    sentiment: Mapping[str, int]  # feature -> weight of the sentiment slot, in 1/SCALE
    labelled: Mapping[str, Sequence[int]]  # feature -> weights of the other slots, in 1/SCALE

    thresholds: Thresholds

    def score(self, feats: set[str]) -> Scores:
        """Two set intersections, then column sums (all in C). Weights are whole numbers of
        1/SCALE, so a sum is exact whatever order the set gives, and the file parses fast."""
        known = self.sentiment.keys() & feats
        acc = [self.bias[0] + sum(map(self.sentiment.__getitem__, known)) / SCALE]
        rows = list(map(self.labelled.__getitem__, self.labelled.keys() & feats))
        columns = zip(*rows, strict=True) if rows else ([] for _ in SLOTS[1:])
        acc.extend(b + sum(c) / SCALE for b, c in zip(self.bias[1:], columns, strict=True))
        risk = softmax(acc[_RISK])
        intent = softmax(acc[_INTENT])
        return Scores(
            sentiment=sigmoid(acc[0]),
            risk=dict(zip(RISKS, risk, strict=True)),
            intent=dict(zip(INTENTS, intent, strict=True)),
            topics={t: sigmoid(v) for t, v in zip(TOPICS, acc[_TOPIC], strict=True)},
            mixed=sigmoid(acc[_MIXED]),
            known=sum(len(f) > 1 for f in known),
        )

    def contributions(self, feats: set[str], slot: str) -> list[tuple[float, str]]:
        """Features by their weight towards one labelled output, largest first (evidence)."""
        index = SLOTS.index(slot) - 1
        found = ((self.labelled[f][index] / SCALE, f) for f in self.labelled.keys() & feats)
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
        if not isinstance(weights, dict) or set(weights) != {"sentiment", "labelled"}:
            raise ValueError("model needs 'weights' with 'sentiment' and 'labelled' objects")
        if not isinstance(limits, dict):
            raise ValueError("model needs a 'thresholds' object")
        if raw.get("scale") != SCALE:
            raise ValueError(f"model weights must be in 1/{SCALE}")
        # Rows are used as parsed: checking every value would double the first answer's time.
        # The file is generated by scripts/train_classifier.py and pinned by a test.
        return cls(
            bias=tuple(float(b) for b in bias),
            sentiment=weights["sentiment"],
            labelled=weights["labelled"],
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
