"""Build the feedback classifier: its compact jieba dictionary and its trained heads.

    make train-classifier      (PYTHONPATH=layers/hub python scripts/train_classifier.py)

Inputs: ../shared/data/reviews/reviews.jsonl (pos/neg from the source) and
data/feedback-dev/labels/ (intent, sentiment, topics and risk by the labelling guide). Outputs
in layers/hub/omnihub/feedback/data/: `dict.txt` and `classifier_model.json`, byte-identical for
the same inputs (the model file records the sha256 of each input; a test compares them).

Never trained or tuned on: the reviews' dev split (sha256(text) mod 10 == 0) and every labelled
text (the labelled train part is scored out of sample by the sentiment model, so thresholds
can be tuned on it; the frozen test part is read only by scripts/eval_classifier.py).
Steps:
1. Dictionary: the training texts are cut with jieba's default dictionary; the most frequent words
   (by document count) keep jieba's own frequency. Every lexicon term is added, and words that
   would swallow the edge of a lexicon term in typical contexts ("有虫", "无异") are dropped, so
   that risk, negation and topic terms come out of the tokenizer whole.
2. Features of every text: omnihub.feedback.classifier.featurize (character 1-3 grams, words, the
   lexicon pass's signals), the same function the classifier runs.
3. Sentiment: logistic regression on the training reviews.
4. Risk (3 classes), intent (4, classes weighted by rarity), topics (6, one-vs-rest) and mixed
   (the text is neu): logistic regression on the labelled train part.
5. Thresholds by 5-fold cross-validation on the labelled train part: the risk-high probability
   with the best F2 (recall weighs four times precision: a missed food-safety report is worse
   than a false alarm); the topic probability with the best F1; the `mixed` probability
   (`neu` means mixed, not unsure) with the best exact sentiment; and per-intent offsets with the
   best macro recall (inquiries and suggestions are rare in reviews, so the plain model almost
   never names them).
   Then the same choices again through the runtime's rules (`choose_through_rules`): every
   labelled train text is answered by `classifier.decide` under the fold model that never saw
   it, and the intent offsets (macro recall), the risk-high threshold (F2) and the `mixed`
   threshold (exact sentiment) move, one at a time, to where what the classifier answers scores
   best. The rules gate the heads (a question is high only when sure, a complaint must sound
   negative...), so the heads' own best points are not the classifier's.
6. Sentiment weights under MIN_WEIGHT and labelled-set features whose weights are all under
   MIN_HEAD_WEIGHT are dropped: the file stays under 2 MB and parses in tens of milliseconds.
numpy, scipy and scikit-learn are used here only (requirements-dev.txt); the layer reads the JSON.
About four minutes on two cores, half of it the search through the rules.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import multiprocessing
import sys
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "hub"))

sys.path.insert(0, str(Path(__file__).resolve().parent))

from feedback_dev import LABELS, labels_sha256, load_labelled, texts_by_id  # noqa: E402

from omnihub.feedback import classifier, heads, lexicon, segment  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "reviews" / "reviews.jsonl"
DEFAULT_OUT = ROOT / "layers" / "hub" / "omnihub" / "feedback" / "data"

DICT_WORDS = 10000  # words taken from the training data for the compact dictionary
MIN_DOC_COUNT = 3
MIN_LABELLED_COUNT = 2  # a head's feature appears in at least this many labelled texts
MIN_WEIGHT = 0.05  # smaller sentiment weights are dropped (the file's size and load time)
MIN_HEAD_WEIGHT = 0.1  # a labelled-set feature whose 14 weights are all smaller is dropped
SENTIMENT_C = 0.3  # inverse regularisation strengths, chosen by cross-validation
HEAD_C = 1.0
RISK_BETA = 2.0  # the high threshold maximises F-beta on the folds: a miss weighs beta² alarms
FOLDS = 5
#: Where the search through the rules looks: intent offsets in logits, and the thresholds.
OFFSET_STEPS = tuple(k / 2 for k in range(13))  # 0 .. 6
RISK_STEPS = tuple(round(0.04 + 0.02 * k, 2) for k in range(44))  # 0.04 .. 0.90
MIXED_STEPS = tuple(round(0.30 + 0.02 * k, 2) for k in range(31))  # 0.30 .. 0.90
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


def _default_cut(text: str) -> list[str]:
    return segment.tokenize(text, _import_jieba().dt)


def _features(text: str) -> list[str]:
    return sorted(classifier.featurize(text)[2])


def _pool_map(func: Any, texts: Sequence[str], jobs: int) -> list[list[str]]:
    """func over texts in `jobs` forked processes (the tokenizer is loaded before the fork)."""
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


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def model_sources() -> dict[str, Path]:
    """The code a model file depends on: features, signals, lexicon, the split and this script.
    A test checks the model file names their current hashes (retrain after editing them)."""
    here = Path(__file__).resolve().parent
    return {
        "lexicon": Path(lexicon.__file__),
        "features": Path(heads.__file__),
        "signals": Path(classifier.__file__),
        "split": here / "feedback_dev.py",
        "script": Path(__file__).resolve(),
    }


def _matrix(docs: Sequence[Sequence[str]], vocab: dict[str, int]) -> Any:
    from scipy.sparse import csr_matrix

    indptr, indices = [0], []
    for doc in docs:
        indices.extend(sorted({vocab[f] for f in doc if f in vocab}))
        indptr.append(len(indices))
    data = [1.0] * len(indices)
    return csr_matrix((data, indices, indptr), shape=(len(docs), len(vocab)))


def _vocab(docs: Iterable[Sequence[str]], min_count: int) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for doc in docs:
        counts.update(set(doc))
    kept = sorted(f for f, c in counts.items() if c >= min_count)
    return {f: i for i, f in enumerate(kept)}


def _logreg(c: float, balanced: bool = False) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(
        C=c, max_iter=3000, class_weight="balanced" if balanced else None, random_state=SEED
    )


def fit_heads(x: Any, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Risk, intent and the six topic models on labelled rows (x: their feature matrix)."""
    import numpy as np

    fitted: dict[str, Any] = {}
    fitted["risk"] = _logreg(HEAD_C).fit(x, [heads.RISKS.index(r["risk"]) for r in rows])
    y_intent = [heads.INTENTS.index(r["intent"]) for r in rows]
    fitted["intent"] = _logreg(HEAD_C, balanced=True).fit(x, y_intent)
    for topic in heads.TOPICS:
        y = np.array([topic in r["topics"] for r in rows], dtype=int)
        fitted[topic] = _logreg(HEAD_C).fit(x, y)
    fitted["mixed"] = _logreg(HEAD_C).fit(x, [int(r["sentiment"] == "neu") for r in rows])
    return fitted


def _class_rows(model: Any, n_classes: int) -> tuple[Any, Any]:
    """Coefficients and intercepts as one row per class (in class-index order)."""
    import numpy as np

    coef = np.zeros((n_classes, model.coef_.shape[1]))
    bias = np.zeros(n_classes)
    for row, cls in enumerate(model.classes_):
        coef[int(cls)] = model.coef_[row]
        bias[int(cls)] = model.intercept_[row]
    return coef, bias


def head_logits(fitted: dict[str, Any], x: Any) -> Any:
    """Each labelled slot's logit (columns 1.. of heads.SLOTS), as the runtime sums them."""
    import numpy as np

    risk_w, risk_b = _class_rows(fitted["risk"], len(heads.RISKS))
    intent_w, intent_b = _class_rows(fitted["intent"], len(heads.INTENTS))
    cols = [x @ risk_w.T + risk_b, x @ intent_w.T + intent_b]
    for name in (*heads.TOPICS, "mixed"):
        m = fitted[name]
        cols.append((x @ m.coef_[0] + m.intercept_[0]).reshape(-1, 1))
    return np.hstack([np.asarray(c) for c in cols])


def choose_thresholds(
    rows: Sequence[dict[str, Any]],
    x: Any,
    sentiment_scores: Sequence[float],
    rule_high: Any,
    allowed: Any,
) -> tuple[heads.Thresholds, dict[str, Any], list[tuple[dict[str, Any], list[int]]]]:
    """Out-of-fold scores of the labelled train part: the heads' own best thresholds, and each
    fold's fitted heads with the rows it held out (for `choose_through_rules`)."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    n = len(rows)
    logits = np.zeros((n, len(heads.SLOTS) - 1))
    strata = [r["risk"] for r in rows]
    fold_fits = []
    for train_idx, test_idx in StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(
        np.zeros(n), strata
    ):
        fitted = fit_heads(x[train_idx], [rows[i] for i in train_idx])
        logits[test_idx] = head_logits(fitted, x[test_idx])
        fold_fits.append((fitted, [int(i) for i in test_idx]))
    risk = np.exp(logits[:, 0:3] - logits[:, 0:3].max(axis=1, keepdims=True))
    p_high = risk[:, 0] / risk.sum(axis=1)
    gold_high = np.array([r["risk"] == "high" for r in rows])
    best_risk = (-1.0, 0.5)
    for t in np.round(np.arange(0.05, 0.9, 0.01), 2):
        pred = rule_high | (p_high >= t)
        tp = float((pred & gold_high).sum())
        recall, precision = tp / max(1, gold_high.sum()), tp / max(1, pred.sum())
        beta2 = RISK_BETA**2
        f_beta = (1 + beta2) * precision * recall / max(1e-9, beta2 * precision + recall)
        if f_beta > best_risk[0]:
            best_risk = (f_beta, float(t))
    risk_high = best_risk[1]
    pred = rule_high | (p_high >= risk_high)
    risk_fold = {
        "threshold": risk_high,
        "recall": round(float((pred & gold_high).sum() / max(1, gold_high.sum())), 4),
        "precision": round(float((pred & gold_high).sum() / max(1, pred.sum())), 4),
    }
    intent_logits = logits[:, 3:7]
    gold_intent = np.array([heads.INTENTS.index(r["intent"]) for r in rows])

    def macro(offsets: Any) -> float:
        pred = np.where(allowed, intent_logits + offsets, -np.inf).argmax(axis=1)
        return float(np.mean([(pred[gold_intent == k] == k).mean() for k in range(4)]))

    steps = np.round(np.arange(0.0, 4.01, 0.25), 2)
    best_offsets = (macro(np.zeros(4)), (0.0, 0.0, 0.0, 0.0))
    for a in steps:
        for b in steps:
            for c in steps:
                value = macro(np.array([0.0, a, b, c]))
                if value > best_offsets[0] + 1e-9:
                    best_offsets = (value, (0.0, float(a), float(b), float(c)))
    topic_p = 1 / (1 + np.exp(-logits[:, 7:13]))
    gold_topics = np.array([[t in r["topics"] for t in heads.TOPICS] for r in rows])
    best_topic = (0.0, 0.5)
    for t in np.round(np.arange(0.2, 0.8, 0.02), 2):
        chosen = topic_p >= t
        chosen[np.arange(n), topic_p.argmax(axis=1)] = True
        tp = (chosen & gold_topics).sum()
        f1 = 2 * tp / (chosen.sum() + gold_topics.sum())
        if f1 > best_topic[0]:
            best_topic = (float(f1), float(t))
    scores = np.array(sentiment_scores)
    gold = np.array([r["sentiment"] for r in rows])
    p_mixed = 1 / (1 + np.exp(-logits[:, 13]))
    polar = np.where(scores >= 0.5, "pos", "neg")
    best_band = (0.0, 0.5)
    for t in np.round(np.arange(0.1, 0.96, 0.02), 2):
        exact = float((np.where(p_mixed >= t, "neu", polar) == gold).mean())
        if exact > best_band[0]:
            best_band = (exact, float(t))
    thresholds = heads.Thresholds(mixed=best_band[1], risk_high=risk_high, topic=best_topic[1])
    folds = {
        "risk_high": risk_fold,
        "intent_macro_recall": round(best_offsets[0], 4),
        "intent_offsets": dict(zip(heads.INTENTS, best_offsets[1], strict=True)),
        "topic_f1": round(best_topic[0], 4),
        "sentiment_exact": round(best_band[0], 4),
    }
    return thresholds, folds, fold_fits


def fold_models(
    fold_fits: Sequence[tuple[dict[str, Any], list[int]]],
    sentiment_model: Any,
    sentiment_vocab: dict[str, int],
    head_vocab: dict[str, int],
    thresholds: heads.Thresholds,
) -> list[tuple[heads.HeadsModel, list[int]]]:
    """Each fold's heads as the runtime model they would ship as, with the rows they never saw."""
    models = []
    for fitted, held_out in fold_fits:
        bias, weights = export(sentiment_model, sentiment_vocab, fitted, head_vocab)
        sent, labelled = weights["sentiment"], weights["labelled"]
        rows = {f: heads.pack(f, sent.get(f), labelled.get(f)) for f in set(sent) | set(labelled)}
        models.append((heads.HeadsModel(tuple(bias), rows, thresholds), held_out))
    return models


def choose_through_rules(
    rows: Sequence[dict[str, Any]],
    featurized: Sequence[tuple[str, Any, set[str]]],
    models: Sequence[tuple[heads.HeadsModel, list[int]]],
    offsets: Sequence[float],
    start: heads.Thresholds,
) -> tuple[list[float], heads.Thresholds, dict[str, Any]]:
    """Intent offsets, then the risk-high threshold, then the `mixed` one, each moved to where
    what `classifier.decide` answers out of fold scores best (one coordinate at a time)."""
    from dataclasses import replace

    first = heads.SLOTS.index("intent:complaint")

    def answers(offs: Sequence[float], limits: heads.Thresholds) -> list[Any]:
        out: list[Any] = [None] * len(rows)
        for model, held_out in models:
            bias = list(model.bias)
            for k, value in enumerate(offs):
                bias[first + k] += value
            candidate = replace(model, bias=tuple(bias), thresholds=limits)
            for i in held_out:
                out[i] = classifier.decide(*featurized[i], candidate)
        return out

    def macro(got: Sequence[Any]) -> float:
        hits = Counter(
            r["intent"] for r, a in zip(rows, got, strict=True) if a.intent == r["intent"]
        )
        totals = Counter(r["intent"] for r in rows)
        return sum(hits[i] / totals[i] for i in heads.INTENTS) / len(heads.INTENTS)

    def risk(got: Sequence[Any]) -> tuple[float, float, float]:
        pairs = [(a.risk == "high", r["risk"] == "high") for r, a in zip(rows, got, strict=True)]
        tp = sum(p and g for p, g in pairs)
        recall = tp / max(1, sum(g for _, g in pairs))
        precision = tp / max(1, sum(p for p, _ in pairs))
        beta2 = RISK_BETA**2
        f_beta = (1 + beta2) * precision * recall / max(1e-9, beta2 * precision + recall)
        return f_beta, recall, precision

    def exact(got: Sequence[Any]) -> float:
        return sum(a.sentiment == r["sentiment"] for r, a in zip(rows, got, strict=True)) / len(
            rows
        )

    offs, limits = list(offsets), start
    best = macro(answers(offs, limits))
    for _ in range(2):
        for k in range(1, len(heads.INTENTS)):
            for value in OFFSET_STEPS:
                trial = [*offs[:k], value, *offs[k + 1 :]]
                got = macro(answers(trial, limits))
                if got > best + 1e-9:
                    best, offs = got, trial
    f_best = risk(answers(offs, limits))
    for t in RISK_STEPS:
        got_risk = risk(answers(offs, replace(limits, risk_high=t)))
        if got_risk[0] > f_best[0] + 1e-9:
            f_best, limits = got_risk, replace(limits, risk_high=t)
    s_best = exact(answers(offs, limits))
    for t in MIXED_STEPS:
        got_exact = exact(answers(offs, replace(limits, mixed=t)))
        if got_exact > s_best + 1e-9:
            s_best, limits = got_exact, replace(limits, mixed=t)
    final = answers(offs, limits)
    _, recall, precision = risk(final)
    report = {
        "intent_macro_recall": round(macro(final), 4),
        "intent_offsets": dict(zip(heads.INTENTS, offs, strict=True)),
        "risk_high": {
            "threshold": limits.risk_high,
            "recall": round(recall, 4),
            "precision": round(precision, 4),
        },
        "sentiment_exact": round(exact(final), 4),
        "mixed_threshold": limits.mixed,
    }
    return offs, limits, report


def export(
    sentiment_model: Any,
    sentiment_vocab: dict[str, int],
    fitted: dict[str, Any],
    head_vocab: dict[str, int],
) -> tuple[list[float], dict[str, dict[str, Any]]]:
    """Bias per slot; sentiment weights of at least MIN_WEIGHT; per labelled-set feature, its
    14 weights (kept when any is at least MIN_HEAD_WEIGHT)."""
    import numpy as np

    sentiment = {
        f: round(float(sentiment_model.coef_[0][i]) * heads.SCALE)
        for f, i in sentiment_vocab.items()
        if abs(sentiment_model.coef_[0][i]) >= MIN_WEIGHT
    }
    risk_w, risk_b = _class_rows(fitted["risk"], len(heads.RISKS))
    intent_w, intent_b = _class_rows(fitted["intent"], len(heads.INTENTS))
    singles = (*heads.TOPICS, "mixed")
    head_w = np.vstack([risk_w, intent_w, *(fitted[t].coef_[0].reshape(1, -1) for t in singles)])
    head_b = [*risk_b, *intent_b, *(fitted[t].intercept_[0] for t in singles)]
    labelled = {
        f: [round(float(w) * heads.SCALE) for w in head_w[:, i]]
        for f, i in head_vocab.items()
        if np.abs(head_w[:, i]).max() >= MIN_HEAD_WEIGHT
    }
    bias = [round(float(sentiment_model.intercept_[0]), 4), *(round(float(b), 4) for b in head_b)]
    return bias, {
        "sentiment": dict(sorted(sentiment.items())),
        "labelled": dict(sorted(labelled.items())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    log: list[str] = []

    rows = load_rows(args.data)
    labelled = load_labelled(args.labels, args.data, texts_by_id(args.data))
    held = {r["text"] for r in labelled}
    train = [r for r in rows if not is_dev(r["text"]) and r["text"].strip() not in held]
    head_rows = [r for r in labelled if r["split"] == "train"]
    print(
        f"reviews: {len(rows)} ({len(train)} train); labelled: {len(labelled)} "
        f"({len(head_rows)} train, {len(labelled) - len(head_rows)} frozen test)"
    )

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

    segment._segmenter = segment.load_segmenter(dict_path)  # the new file, before forking
    train_feats = _pool_map(_features, train_texts, args.jobs)
    head_feats = _pool_map(_features, [r["text"] for r in head_rows], args.jobs)
    print(f"features ({time.perf_counter() - started:.0f} s)")

    sentiment_vocab = _vocab(train_feats, MIN_DOC_COUNT)
    x_sent = _matrix(train_feats, sentiment_vocab)
    y_sent = [1 if r["sentiment"] == "pos" else 0 for r in train]
    sentiment_model = _logreg(SENTIMENT_C).fit(x_sent, y_sent)
    print(f"sentiment: {len(sentiment_vocab)} features ({time.perf_counter() - started:.0f} s)")

    head_vocab = _vocab(head_feats, MIN_LABELLED_COUNT)
    x_heads = _matrix(head_feats, head_vocab)
    head_scores = sentiment_model.predict_proba(_matrix(head_feats, sentiment_vocab))[:, 1]
    import numpy as np

    head_sets = [set(f) for f in head_feats]
    rule_high = np.array([heads.SIGNAL + "high" in f for f in head_sets])
    allowed = np.array([heads.allowed_intents(f) for f in head_sets])
    thresholds, folds, fold_fits = choose_thresholds(
        head_rows, x_heads, head_scores, rule_high, allowed
    )
    models = fold_models(fold_fits, sentiment_model, sentiment_vocab, head_vocab, thresholds)
    featurized = [classifier.featurize(r["text"]) for r in head_rows]
    offsets, thresholds, through_rules = choose_through_rules(
        head_rows, featurized, models, list(folds["intent_offsets"].values()), thresholds
    )
    folds["through_rules"] = through_rules
    print(f"through the rules ({time.perf_counter() - started:.0f} s): {through_rules}")
    fitted = fit_heads(x_heads, head_rows)
    bias, weights = export(sentiment_model, sentiment_vocab, fitted, head_vocab)
    first_intent = heads.SLOTS.index("intent:complaint")
    for k, offset in enumerate(offsets):
        bias[first_intent + k] = round(bias[first_intent + k] + offset, 4)

    inputs = {"reviews": sha256_of(args.data), "labels": labels_sha256(args.labels)}
    inputs.update({name: sha256_of(path) for name, path in model_sources().items()})
    payload = {
        "format": heads.MODEL_FORMAT,
        "meta": {
            "algorithm": "logistic regression (scikit-learn lbfgs) per head over character 1-3 "
            "grams, jieba words and lexicon signals",
            "sentiment_train_reviews": len(train),
            "head_train_rows": len(head_rows),
            "cross_validation": folds,
            "dictionary_words": len(words),
            "features": {slot: len(w) for slot, w in weights.items()},
            "inputs_sha256": inputs,
        },
        "slots": list(heads.SLOTS),
        "scale": heads.SCALE,
        "bias": bias,
        "thresholds": {k: round(v, 4) for k, v in vars(thresholds).items()},
        "weights": heads.encode_weights(weights["sentiment"], weights["labelled"]),
    }
    model_path = args.out_dir / "classifier_model.json"
    model_path.write_text(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    size_kb = model_path.stat().st_size / 1024
    total = sum(len(w) for w in weights.values())
    print(f"model: {total} weights, {size_kb:.0f} KiB -> {model_path}")
    print(f"thresholds: {payload['thresholds']}; cross-validation: {folds}")
    for line in log:
        print(line)
    print(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
