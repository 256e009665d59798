"""How well the feedback classifier does on text it never saw, measure by measure, with its goals.

    make -s eval-classifier    (PYTHONPATH=layers/hub python scripts/eval_classifier.py --docs)

On the frozen test part of data/feedback-dev (labelled by the guide, never trained or tuned on):
sentiment by the score's side of 0.5 (texts labelled pos or neg) and the exact label; food-safety
`risk: high` recall and precision; intent macro recall over complaint, inquiry, suggestion and
praise; the primary topic among `topics` (a `leakage` answer counts for packaging). A confusion
table per field and the 20 worst misses follow. Also sentiment on the reviews' dev split (as
before: sha256(text) mod 10 == 0, never trained on), per source. `--docs` writes the figures into
docs/performance.json and re-renders docs/performance.md; `--json` writes them to a file.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "hub"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from feedback_dev import INTENTS, LABELS, RISKS, SENTIMENTS, TOPICS, load_labelled  # noqa: E402
from train_classifier import DEFAULT_DATA, is_dev, load_rows  # noqa: E402

from omnihub.feedback.classifier import Classification, classify  # noqa: E402

GOALS = {
    "sentiment_binary": 0.92,
    "sentiment_exact": 0.90,
    "risk_high_recall": 0.98,
    "risk_high_precision": 0.90,
    "intent_macro_recall": 0.80,
    "primary_topic_in_topics": 0.85,
    "reviews_dev_sentiment_binary": 0.92,
}
SOURCES = ("all", "waimai_10k", "online_shopping_10_cats", "水果", "蒙牛")


def _share(hits: int, total: int) -> float:
    return round(hits / total, 4) if total else 0.0


def _topics(c: Classification) -> list[str]:
    """The answer's topics in the guide's terms (a leak is packaging)."""
    return ["packaging" if t == "leakage" else t for t in c.topics]


def measures(rows: Sequence[dict[str, Any]], got: Sequence[Classification]) -> dict[str, float]:
    polar = [(r, c) for r, c in zip(rows, got, strict=True) if r["sentiment"] != "neu"]
    high = [(r, c) for r, c in zip(rows, got, strict=True) if r["risk"] == "high"]
    called = [(r, c) for r, c in zip(rows, got, strict=True) if c.risk == "high"]
    recalls = []
    for intent in INTENTS:
        mine = [c for r, c in zip(rows, got, strict=True) if r["intent"] == intent]
        recalls.append(_share(sum(c.intent == intent for c in mine), len(mine)))
    return {
        "sentiment_binary": _share(
            sum((c.score >= 0.5) == (r["sentiment"] == "pos") for r, c in polar), len(polar)
        ),
        "sentiment_exact": _share(
            sum(c.sentiment == r["sentiment"] for r, c in zip(rows, got, strict=True)), len(rows)
        ),
        "risk_high_recall": _share(sum(c.risk == "high" for _, c in high), len(high)),
        "risk_high_precision": _share(sum(r["risk"] == "high" for r, _ in called), len(called)),
        "intent_macro_recall": round(sum(recalls) / len(recalls), 4),
        **{f"intent_recall_{i}": v for i, v in zip(INTENTS, recalls, strict=True)},
        "primary_topic_in_topics": _share(
            sum(r["topics"][0] in _topics(c) for r, c in zip(rows, got, strict=True)), len(rows)
        ),
        "topics_per_text": round(sum(len(c.topics) for c in got) / max(1, len(got)), 2),
    }


def confusion(
    rows: Sequence[dict[str, Any]], got: Sequence[Classification], field: str
) -> dict[str, dict[str, int]]:
    """Gold label -> answer -> count (topics: gold primary -> answer's first topic)."""
    table: dict[str, Counter[str]] = {}
    for r, c in zip(rows, got, strict=True):
        gold = r["topics"][0] if field == "topics" else r[field]
        answer = _topics(c)[0] if field == "topics" else getattr(c, field)
        table.setdefault(gold, Counter())[answer] += 1
    return {g: dict(sorted(v.items())) for g, v in sorted(table.items())}


def worst_misses(
    rows: Sequence[dict[str, Any]], got: Sequence[Classification], limit: int = 20
) -> list[dict[str, Any]]:
    """Misses by what they cost: a missed food-safety report first, then a false alarm, then a
    polar sentiment read the wrong way, a wrong intent and a missing primary topic."""
    scored = []
    for r, c in zip(rows, got, strict=True):
        cost = 0
        cost += 8 if r["risk"] == "high" and c.risk != "high" else 0
        cost += 4 if r["risk"] != "high" and c.risk == "high" else 0
        polar = r["sentiment"] != "neu"
        cost += 2 if polar and (c.score >= 0.5) != (r["sentiment"] == "pos") else 0
        cost += 1 if c.intent != r["intent"] else 0
        cost += 1 if r["topics"][0] not in _topics(c) else 0
        if cost:
            scored.append((-cost, r["id"], r, c))
    scored.sort(key=lambda s: (s[0], s[1]))
    return [
        {
            "id": r["id"],
            "cost": -neg,
            "note": r["note"],
            "text": r["text"],
            "expected": {k: r[k] for k in ("sentiment", "intent", "topics", "risk")},
            "got": {
                "sentiment": c.sentiment,
                "score": c.score,
                "intent": c.intent,
                "topics": c.topics,
                "risk": c.risk,
            },
        }
        for neg, _, r, c in scored[:limit]
    ]


def reviews_report(path: Path) -> dict[str, Any]:
    """Sentiment on the reviews' dev split by the score's side of 0.5, per source."""
    pairs: dict[str, list[bool]] = {g: [] for g in SOURCES}
    for row in load_rows(path):
        if not is_dev(row["text"]):
            continue
        right = (classify(row["text"]).score >= 0.5) == (row["sentiment"] == "pos")
        for group in ("all", row["source"], row["category"]):
            if group in pairs:
                pairs[group].append(right)
    return {g: {"n": len(v), "binary": _share(sum(v), len(v))} for g, v in pairs.items()}


def evaluate(labels: Path, reviews: Path) -> dict[str, Any]:
    labelled = load_labelled(labels, reviews)
    test = [r for r in labelled if r["split"] == "test"]
    got = [classify(r["text"]) for r in test]
    figures = measures(test, got)
    dev = reviews_report(reviews)
    figures["reviews_dev_sentiment_binary"] = dev["all"]["binary"]
    return {
        "frozen_test": {
            "texts": len(test),
            "high": sum(r["risk"] == "high" for r in test),
            "labels": str(labels.relative_to(ROOT)) if labels.is_relative_to(ROOT) else str(labels),
        },
        "measures": figures,
        "goals": GOALS,
        "met": {k: figures[k] >= v for k, v in GOALS.items()},
        "confusion": {
            f: confusion(test, got, f) for f in ("sentiment", "intent", "risk", "topics")
        },
        "worst_misses": worst_misses(test, got),
        "reviews_dev": dev,
    }


def print_report(report: dict[str, Any]) -> None:
    test = report["frozen_test"]
    print(
        f"Frozen test part: {test['texts']} labelled texts ({test['high']} high risk), never "
        "trained or tuned on"
    )
    print(f"  {'measure':<32}{'today':>8}{'goal':>8}  met")
    for key, goal in report["goals"].items():
        value = report["measures"][key]
        print(f"  {key:<32}{value:>8.4f}{goal:>8.2f}  {'yes' if value >= goal else 'no'}")
    for intent in INTENTS:
        print(f"    recall {intent:<24}{report['measures'][f'intent_recall_{intent}']:>8.4f}")
    order = {"sentiment": SENTIMENTS, "intent": INTENTS, "risk": RISKS, "topics": TOPICS}
    for field, table in report["confusion"].items():
        answers = sorted({a for row in table.values() for a in row})
        print(f"Confusion, {field} (rows: label, columns: answer)")
        print("  " + f"{'':<16}" + "".join(f"{a[:10]:>11}" for a in answers))
        for gold in order[field]:
            row = table.get(gold, {})
            print("  " + f"{gold:<16}" + "".join(f"{row.get(a, 0):>11}" for a in answers))
    print("Worst misses (cost: missed high 8, false alarm 4, polarity 2, intent 1, topic 1)")
    for miss in report["worst_misses"]:
        exp, got = miss["expected"], miss["got"]
        print(f"  [{miss['cost']}] {miss['text'][:60]}")
        print(
            f"      label {exp['risk']}/{exp['intent']}/{exp['sentiment']}/{exp['topics'][0]}"
            f"  got {got['risk']}/{got['intent']}/{got['sentiment']}/{got['topics'][0]}"
            f"  ({miss['note'][:70]})"
        )
    print("Sentiment on the reviews' dev split (binary, by the score's side of 0.5)")
    for group, fig in report["reviews_dev"].items():
        print(f"  {group:<26}{fig['n']:>6}{fig['binary']:>9.4f}")


def write_docs(report: dict[str, Any]) -> None:
    """Into docs/performance.json (the texts stay out: misses keep their id and note) and
    docs/performance.md, re-rendered from it."""
    from scripts.bench_report import render

    docs = ROOT / "docs"
    path = docs / "performance.json"
    figures = json.loads(path.read_text("utf-8")) if path.exists() else {}
    figures["classifier_accuracy"] = _without_texts(report)
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (docs / "performance.md").write_text(render(figures), encoding="utf-8")


def _without_texts(report: dict[str, Any]) -> dict[str, Any]:
    misses = [{k: v for k, v in m.items() if k != "text"} for m in report["worst_misses"]]
    return {**report, "worst_misses": misses}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--docs", action="store_true", help="update docs/performance.*")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report = evaluate(args.labels, args.data)
    print_report(report)
    print(f"({time.perf_counter() - started:.1f} s)")
    if args.json:
        args.json.write_text(
            json.dumps(_without_texts(report), ensure_ascii=False, indent=2) + "\n", "utf-8"
        )
    if args.docs:
        write_docs(report)
        print("wrote docs/performance.json and docs/performance.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
