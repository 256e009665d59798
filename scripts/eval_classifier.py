"""Accuracy of the feedback classifier: sentiment on the held-out dev split, food-safety risk on
the hand-written cases.

    PYTHONPATH=layers/hub python scripts/eval_classifier.py [--data PATH] [--json PATH]

Sentiment is reported twice: the model alone (log-odds > 0) and the whole classifier (score >= 0.5,
after the lexicon has moved it), overall, per source and for the categories closest to grain and
oil (水果, 蒙牛). The dev split is the one scripts/train_sentiment.py never trains on. Risk recall
is the share of labelled-high cases classified high; the false-alarm rate is the share of the other
cases classified high.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "hub"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_sentiment import DEFAULT_DATA, is_dev, load_rows  # noqa: E402

from omnihub.feedback import segment, sentiment  # noqa: E402
from omnihub.feedback.classifier import classify  # noqa: E402

RISK_CASES = ROOT / "tests" / "unit" / "feedback" / "risk_cases.jsonl"
GROUPS = ("all", "waimai_10k", "online_shopping_10_cats", "水果", "蒙牛")


def _acc(pairs: Sequence[tuple[bool, bool]]) -> float:
    return round(sum(p == a for p, a in pairs) / len(pairs), 4) if pairs else 0.0


def sentiment_report(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy per group, the model's and the classifier's, plus confusion and neu counts."""
    model = sentiment.get_model()
    by_group: dict[str, dict[str, list[tuple[bool, bool]]]] = {
        g: {"model": [], "classifier": []} for g in GROUPS
    }
    confusion = {"model": [[0, 0], [0, 0]], "classifier": [[0, 0], [0, 0]]}
    labels = {"neg": 0, "neu": 0, "pos": 0}
    for row in rows:
        actual = row["sentiment"] == "pos"
        logit, _ = model.logit(segment.tokenize(row["text"]))
        result = classify(row["text"])
        labels[result.sentiment] += 1
        predicted = {"model": logit > 0, "classifier": result.score >= 0.5}
        for name, guess in predicted.items():
            confusion[name][int(actual)][int(guess)] += 1
            for group in ("all", row["source"], row["category"]):
                if group in by_group:
                    by_group[group][name].append((guess, actual))
    return {
        "dev_reviews": len(rows),
        "accuracy": {
            g: {
                "n": len(v["model"]),
                "model": _acc(v["model"]),
                "classifier": _acc(v["classifier"]),
            }
            for g, v in by_group.items()
        },
        "confusion": {
            name: {
                "actual_neg": {"pred_neg": m[0][0], "pred_pos": m[0][1]},
                "actual_pos": {"pred_neg": m[1][0], "pred_pos": m[1][1]},
            }
            for name, m in confusion.items()
        },
        "classifier_labels": labels,
    }


def risk_report(path: Path) -> dict[str, Any]:
    """Recall and false alarms of high risk, and exact agreement on all three levels."""
    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    got = [(c["risk"], classify(c["text"]).risk, c["text"]) for c in cases]
    positives = [g for g in got if g[0] == "high"]
    negatives = [g for g in got if g[0] != "high"]
    hits = sum(1 for g in positives if g[1] == "high")
    alarms = sum(1 for g in negatives if g[1] == "high")
    return {
        "cases": len(got),
        "high": len(positives),
        "not_high": len(negatives),
        "recall": round(hits / len(positives), 4) if positives else 0.0,
        "false_alarm_rate": round(alarms / len(negatives), 4) if negatives else 0.0,
        "exact_agreement": round(sum(g[0] == g[1] for g in got) / len(got), 4) if got else 0.0,
        "mistakes": [{"text": t, "expected": e, "got": r} for e, r, t in got if e != r],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--risk-cases", type=Path, default=RISK_CASES)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    dev = [r for r in load_rows(args.data) if is_dev(r["text"])]
    report = {"sentiment": sentiment_report(dev), "risk": risk_report(args.risk_cases)}

    sent = report["sentiment"]
    print(f"Sentiment on the dev split ({sent['dev_reviews']} reviews, never trained on)")
    print(f"  {'group':<26}{'n':>6}{'model':>9}{'classifier':>12}")
    for group, acc in sent["accuracy"].items():
        print(f"  {group:<26}{acc['n']:>6}{acc['model']:>9.4f}{acc['classifier']:>12.4f}")
    for name, table in sent["confusion"].items():
        print(f"  confusion ({name}):        pred neg  pred pos")
        for actual in ("actual_neg", "actual_pos"):
            row = table[actual]
            print(f"    {actual:<22}{row['pred_neg']:>10}{row['pred_pos']:>10}")
    print(f"  classifier labels (3-way): {sent['classifier_labels']}")
    risk = report["risk"]
    print(f"Food-safety risk on {risk['cases']} hand-written cases ({risk['high']} high)")
    print(f"  recall {risk['recall']:.4f}  false-alarm rate {risk['false_alarm_rate']:.4f}")
    print(f"  exact agreement (high/medium/low) {risk['exact_agreement']:.4f}")
    for m in risk["mistakes"]:
        print(f"  mistake: {m['text']} expected {m['expected']} got {m['got']}")
    print(f"({time.perf_counter() - started:.1f} s)")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
