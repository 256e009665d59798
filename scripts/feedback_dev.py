"""The labelled feedback development set: label rows in data/feedback-dev/labels/ joined with
their texts from ../shared/data/reviews/reviews.jsonl (the texts stay out of the project).

    from feedback_dev import load_labelled
    rows = load_labelled()            # every labelled row, with "text"
    train = [r for r in rows if r["split"] == "train"]

The frozen test part (`split: test`, about 30%, chosen by a hash of the text's id) is read only by
scripts/eval_classifier.py: training, tuning and threshold choice use the train part alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: One JSON Lines file per labelling round (`round-N.jsonl`), read in round order: a round adds a
#: file and never edits an earlier one, and no file grows past what a repository should hold.
LABELS = ROOT / "data" / "feedback-dev" / "labels"
REVIEWS = ROOT.parent / "shared" / "data" / "reviews" / "reviews.jsonl"
SENTIMENTS = ("neg", "neu", "pos")
INTENTS = ("complaint", "inquiry", "suggestion", "praise")
TOPICS = ("packaging", "logistics", "taste_quality", "storage", "price", "service")
RISKS = ("high", "medium", "low")
TEST_SHARE = 3  # in ten


def text_id(text: str) -> str:
    """The id a label row carries instead of its text: sha256 of the stripped text, 16 hex."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:16]


def split_of(row_id: str) -> str:
    """`test` for the frozen part, else `train`; fixed by the id alone."""
    digest = hashlib.sha256(f"feedback-dev-test|{row_id}".encode()).hexdigest()
    return "test" if int(digest[:8], 16) % 10 < TEST_SHARE else "train"


def check_row(row: dict[str, Any]) -> None:
    """A label row names only allowed values (the set is edited by hand; fail loudly)."""
    problems = []
    if row.get("sentiment") not in SENTIMENTS:
        problems.append("sentiment")
    if row.get("intent") not in INTENTS:
        problems.append("intent")
    if row.get("risk") not in RISKS:
        problems.append("risk")
    topics = row.get("topics")
    if not topics or any(t not in TOPICS for t in topics) or len(set(topics)) != len(topics):
        problems.append("topics")
    if row.get("split") != split_of(str(row.get("id"))):
        problems.append("split")
    if problems:
        raise ValueError(f"label row {row.get('id')}: bad {', '.join(problems)}")


def texts_by_id(path: Path = REVIEWS) -> dict[str, str]:
    """Every review text by its id (first occurrence wins; duplicates share an id anyway)."""
    found: dict[str, str] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            text = json.loads(line)["text"].strip()
            found.setdefault(text_id(text), text)
    return found


def label_files(path: Path = LABELS) -> list[Path]:
    """The label files of a directory in round order (round-2 before round-10), or one file."""
    if not path.is_dir():
        return [path]
    return sorted(path.glob("round-*.jsonl"), key=lambda p: int(p.stem.removeprefix("round-")))


def labels_sha256(path: Path = LABELS) -> str:
    """The digest of every label file's bytes in round order: the model file records it."""
    digest = hashlib.sha256()
    for file in label_files(path):
        digest.update(file.read_bytes())
    return digest.hexdigest()


def read_labels(path: Path = LABELS) -> list[dict[str, Any]]:
    rows = [
        json.loads(line)
        for file in label_files(path)
        for line in file.read_text(encoding="utf-8").splitlines()
        if line
    ]
    for row in rows:
        check_row(row)
    return rows


def load_labelled(
    labels: Path = LABELS, reviews: Path = REVIEWS, texts: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Label rows with their text; a label whose text is missing from the data is an error."""
    by_id = texts if texts is not None else texts_by_id(reviews)
    rows = read_labels(labels)
    missing = [r["id"] for r in rows if r["id"] not in by_id]
    if missing:
        raise ValueError(f"{len(missing)} labelled ids have no text in {reviews}: {missing[:3]}")
    return [{**r, "text": by_id[r["id"]]} for r in rows]


def test_texts(rows: Iterable[dict[str, Any]]) -> set[str]:
    """The frozen test part's texts, which no training may see (also not the sentiment model)."""
    return {r["text"] for r in rows if r["split"] == "test"}
