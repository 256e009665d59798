"""Build the feedback classifier's compact jieba dictionary and train its sentiment model.

    PYTHONPATH=layers/hub python scripts/train_sentiment.py [--data PATH] [--out-dir DIR]

Deterministic: the same data gives byte-identical `dict.txt` and `sentiment_model.json`.
Steps:
1. Dev split: a review is dev when sha256(text) mod 10 == 0 (about 10%). Dev texts are never
   used for training, nor for choosing dictionary words or features. Duplicated texts land on the
   same side.
2. Dictionary: the training texts are cut with jieba's default dictionary; the most frequent words
   (by document count) keep jieba's own frequency. Every lexicon term is added, and words that
   would swallow the edge of a lexicon term in typical contexts ("有虫", "无异") are dropped, so
   that risk, negation and topic terms come out of the tokenizer whole.
3. Model: logistic regression by SGD over words and word bigrams (omnihub.feedback.sentiment
   .features) of the compact tokenizer's output, keeping the most frequent features.
Standard library and jieba only; about a minute on two cores.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import multiprocessing
import random
import sys
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "hub"))

from omnihub.feedback import lexicon, segment, sentiment  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "reviews" / "reviews.jsonl"
DEFAULT_OUT = ROOT / "layers" / "hub" / "omnihub" / "feedback" / "data"

DICT_WORDS = 10000  # words taken from the training data for the compact dictionary
MIN_DOC_COUNT = 3
MAX_FEATURES = 40000
EPOCHS = 6
LEARNING_RATE = 0.2
MIN_WEIGHT = 0.01  # smaller weights are dropped from the model file
SEED = 20240521
TERM_FREQ = 1000  # jieba frequency of a lexicon term missing from the default dictionary
# Contexts a risk, problem, negation or hedge term must survive intact.
CONTEXTS = ("{}", "有{}", "没有{}", "无{}", "{}了", "怀疑{}", "好像有{}", "米里有{}", "油有{}")


def is_dev(text: str) -> bool:
    """The held-out 10%: decided by the text alone, so duplicates share a side."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) % 10 == 0


def load_rows(path: Path) -> list[dict[str, Any]]:
    """Labelled reviews, one JSON object a line; rows without text or label are skipped."""
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if isinstance(row.get("text"), str) and row.get("sentiment") in ("pos", "neg"):
                rows.append(row)
    return rows


def _import_jieba() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        import jieba

    jieba.setLogLevel(60)
    return jieba


_COMPACT: Any = None  # the compact tokenizer, set before forking the workers


def _default_cut(text: str) -> list[str]:
    return segment.tokenize(text, _import_jieba().dt)


def _compact_cut(text: str) -> list[str]:
    return segment.tokenize(text, _COMPACT)


def _pool_map(func: Any, texts: Sequence[str], jobs: int) -> list[list[str]]:
    if jobs <= 1:
        return [func(t) for t in texts]
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        return list(pool.map(func, texts, chunksize=500))


def default_frequencies() -> dict[str, int]:
    """Word frequencies of jieba's default dictionary (the file inside the jieba package)."""
    jieba = _import_jieba()
    freqs: dict[str, int] = {}
    path = Path(jieba.__file__).with_name("dict.txt")
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 2:
                freqs[parts[0]] = int(parts[1])
    return freqs


def _tokenizer_from(words: dict[str, int]) -> Any:
    jieba = _import_jieba()
    text = "".join(f"{w} {f}\n" for w, f in sorted(words.items()))
    tok = jieba.Tokenizer()
    tok.FREQ, tok.total = jieba.Tokenizer.gen_pfdict(io.BytesIO(text.encode("utf-8")))
    tok.initialized = True
    return tok


def _straddlers(tok: Any, term: str, context: str) -> list[str] | None:
    """Tokens crossing the term's edges in the context; None when the term comes out whole."""
    sentence = context.format(term)
    start = context.index("{}")
    end = start + len(term)
    pos = 0
    bad: list[str] = []
    for token in tok.lcut(sentence, HMM=False):
        t_start, t_end = pos, pos + len(token)
        if (t_start < start < t_end) or (t_start < end < t_end):
            bad.append(token)
        pos = t_end
    return bad or None


def build_dictionary(
    doc_counts: Counter[str], default_freq: dict[str, int], log: list[str]
) -> dict[str, int]:
    """Compact dictionary: frequent training words plus the lexicon, conflicts resolved."""
    ranked = sorted(
        (w for w, c in doc_counts.items() if c >= MIN_DOC_COUNT and w in default_freq),
        key=lambda w: (-doc_counts[w], w),
    )
    words = {w: default_freq[w] for w in ranked[:DICT_WORDS]}
    protected = set(lexicon.all_terms())
    for term in protected:
        base = default_freq.get(term, 0)
        words[term] = max(base, TERM_FREQ if len(term) > 1 else 100)
    checked = sorted(
        set(lexicon.PROBLEM_TERMS)
        | {t for terms in lexicon.RISK_HIGH.values() for t in terms}
        | {t for terms in lexicon.RISK_MEDIUM.values() for t in terms}
        | set(lexicon.NEGATIONS)
        | set(lexicon.HEDGES)
        | set(lexicon.DISCOMFORT_TERMS)
    )
    for _round in range(8):
        tok = _tokenizer_from(words)
        failures = [
            (term, ctx, bad)
            for term in checked
            for ctx in CONTEXTS
            if (bad := _straddlers(tok, term, ctx)) is not None
        ]
        if not failures:
            break
        for term, _ctx, bad in failures:
            removable = [b for b in bad if b not in protected]
            if removable:
                for b in removable:
                    words.pop(b, None)
            else:
                words[term] = words[term] * 2
    for term, ctx, bad in failures:
        log.append(f"dictionary: {ctx.format(term)!r} still cuts {term!r} via {bad}")
    return words


def select_features(docs: Iterable[set[str]]) -> list[str]:
    """The most frequent features by document count (ties by the feature's text)."""
    counts: Counter[str] = Counter()
    for feats in docs:
        counts.update(feats)
    ranked = sorted(
        (f for f, c in counts.items() if c >= MIN_DOC_COUNT), key=lambda f: (-counts[f], f)
    )
    return ranked[:MAX_FEATURES]


def train_lr(
    docs: Sequence[list[int]], labels: Sequence[int], n_features: int
) -> tuple[float, list[float]]:
    """Logistic regression by SGD with a decaying rate and a fixed shuffle seed."""
    weights = [0.0] * n_features
    bias = 0.0
    order = list(range(len(docs)))
    rng = random.Random(SEED)
    for epoch in range(EPOCHS):
        rng.shuffle(order)
        rate = LEARNING_RATE / (1 + epoch)
        for i in order:
            x = docs[i]
            z = bias + sum(weights[j] for j in x)
            p = sentiment.sigmoid(z)
            g = rate * (p - labels[i])
            bias -= g
            for j in x:
                weights[j] -= g
    return bias, weights


def accuracy(pairs: Iterable[tuple[bool, bool]]) -> tuple[float, int]:
    """Share of (predicted, actual) pairs that agree, and how many there were."""
    items = list(pairs)
    if not items:
        return 0.0, 0
    return sum(p == a for p, a in items) / len(items), len(items)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    log: list[str] = []

    rows = load_rows(args.data)
    train = [r for r in rows if not is_dev(r["text"])]
    dev = [r for r in rows if is_dev(r["text"])]
    print(f"reviews: {len(rows)} ({len(train)} train, {len(dev)} dev)")

    _import_jieba().initialize()  # once, before forking
    train_texts = [r["text"] for r in train]
    doc_counts: Counter[str] = Counter()
    for tokens in _pool_map(_default_cut, train_texts, args.jobs):
        doc_counts.update(set(tokens))
    words = build_dictionary(doc_counts, default_frequencies(), log)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    dict_path = args.out_dir / "dict.txt"
    dict_path.write_text("".join(f"{w} {f}\n" for w, f in sorted(words.items())), encoding="utf-8")
    print(f"dictionary: {len(words)} words -> {dict_path} ({time.perf_counter() - started:.0f} s)")

    global _COMPACT
    _COMPACT = segment.load_tokenizer(dict_path)  # the new file, before forking
    train_feats = [sentiment.features(t) for t in _pool_map(_compact_cut, train_texts, args.jobs)]
    vocab = select_features(train_feats)
    index = {f: i for i, f in enumerate(vocab)}
    docs = [[index[f] for f in sorted(feats) if f in index] for feats in train_feats]
    labels = [1 if r["sentiment"] == "pos" else 0 for r in train]
    bias, weights = train_lr(docs, labels, len(vocab))
    kept = {f: round(w, 4) for f, w in zip(vocab, weights, strict=True) if abs(w) >= MIN_WEIGHT}
    model = sentiment.SentimentModel(bias=round(bias, 4), weights=kept)

    dev_tokens = _pool_map(_compact_cut, [r["text"] for r in dev], args.jobs)
    by_source: dict[str, list[tuple[bool, bool]]] = {}
    for row, tokens in zip(dev, dev_tokens, strict=True):
        pair = (model.logit(tokens)[0] > 0, row["sentiment"] == "pos")
        by_source.setdefault("all", []).append(pair)
        by_source.setdefault(row["source"], []).append(pair)
    dev_report = {k: round(accuracy(v)[0], 4) for k, v in sorted(by_source.items())}

    payload = {
        "format": sentiment.MODEL_FORMAT,
        "meta": {
            "algorithm": "logistic regression, SGD, words and word bigrams",
            "dev_split": "sha256(text) mod 10 == 0",
            "train_reviews": len(train),
            "dev_reviews": len(dev),
            "dev_accuracy": dev_report,
            "dictionary_words": len(words),
            "features": len(kept),
        },
        "bias": model.bias,
        "weights": dict(sorted(kept.items())),
    }
    model_path = args.out_dir / "sentiment_model.json"
    model_path.write_text(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    size_kb = model_path.stat().st_size / 1024
    print(f"model: {len(kept)} features, {size_kb:.0f} KiB -> {model_path}")
    print(f"dev accuracy (model alone): {dev_report}")
    for line in log:
        print(line)
    print(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
