"""Draw the texts of the labelled feedback development set from ../shared/data/reviews.

    python scripts/feedback_dev_sample.py --out DIR [--batches 6]

Deterministic: texts are ranked by sha256("feedback-dev|" + text) within each pool, so the same
data gives the same draw. The pools only decide which texts people read; the labels come from
reading each text by data/feedback-dev/GUIDE (never from this script, a classifier or a word list).
Food-related and negative texts are oversampled so that food-safety reports are common enough to
learn from and to measure recall on:

- net: food categories (外卖, 水果, 蒙牛) whose text mentions anything near food safety or decay,
  cast wide on purpose (虫, 坏, 酸, 日期, 肚子, ...): about half of them turn out not to be reports;
- ask: food texts with a question or a wish (?, 吗, 建议, 希望...), for inquiries and suggestions;
- food_neg / food_pos: the remaining food texts, by their source sentiment label;
- other: the other nine categories (shampoo, hotels, books...), for texts about other things.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "reviews" / "reviews.jsonl"
FOOD = frozenset({"外卖", "水果", "蒙牛"})
NET = re.compile(
    "虫|霉|长毛|烂|坏|臭|馊|酸|异味|怪味|味道不对|拉肚子|肚子|吐|恶心|不舒服|医院|过期|日期|变质"
    "|苍蝇|蟑螂|蚂蚁|石子|沙子|塑料|钢丝|清洁球|头发|异物|农药|化工|胀|哈喇|地沟油|发麻|发烧|腐"
    "|蛆|黑点|生的|没熟|蜡|腥|发黑|拉稀|中毒"
)
ASK = re.compile(r"\?|？|吗|建议|希望|请问|能不能|可以吗|怎么")
#: Texts drawn from each pool, round by round (round 2 adds questions and wishes, which are rare
#: in reviews, and more of the net; round 3 more of both, for the trained risk and intent models;
#: round 4 the rest of the net and of the food questions, where risk precision and the rare
#: intents have the most to gain); a later round never changes an earlier one.
ROUNDS: tuple[dict[str, int], ...] = (
    {"net": 900, "ask": 250, "food_neg": 350, "food_pos": 200, "other": 100},
    {"net": 500, "ask": 700, "other_ask": 400, "food_neg": 200},
    {"net": 1400, "ask": 500, "other_ask": 300, "food_neg": 200},
    {"net": 1111, "ask": 693, "other_ask": 300},
)
MAX_CHARS = 300


def text_id(text: str) -> str:
    """The id a label row carries instead of the text (the texts stay out of the project)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def pools_of(row: dict[str, str]) -> tuple[str, ...]:
    """The pools a text belongs to (a non-food question is in both `other` and `other_ask`)."""
    food = row["category"] in FOOD
    text = row["text"]
    if food and NET.search(text):
        return ("net",)
    if food and ASK.search(text):
        return ("ask",)
    if food:
        return (f"food_{row['sentiment']}",)
    return ("other", "other_ask") if ASK.search(text) else ("other",)


def draw(path: Path, rounds: int = len(ROUNDS)) -> list[list[dict[str, str]]]:
    """The texts of each round, each round in a fixed shuffled order."""
    pools: dict[str, list[tuple[str, dict[str, str]]]] = {}
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            text = row["text"].strip()
            if not text or len(text) > MAX_CHARS or text in seen:
                continue
            seen.add(text)
            rank = hashlib.sha256(f"feedback-dev|{text}".encode()).hexdigest()
            for pool in pools_of(row):
                pools.setdefault(pool, []).append((rank, {**row, "text": text}))
    taken: set[str] = set()
    drawn: list[list[dict[str, str]]] = []
    for sizes in ROUNDS[:rounds]:
        chosen: list[dict[str, str]] = []
        for name, size in sizes.items():
            fresh = [r for _, r in sorted(pools.get(name, [])) if r["text"] not in taken]
            for row in fresh[:size]:
                taken.add(row["text"])
                chosen.append({**row, "pool": name})
        chosen.sort(key=lambda r: hashlib.sha256(r["text"].encode()).hexdigest())
        drawn.append(chosen)
    return drawn


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--batches", type=int, default=6, help="batches per round")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    number = 0
    for rows in draw(args.data):
        for b in range(args.batches):
            number += 1
            with (args.out / f"batch_{number}.jsonl").open("w", encoding="utf-8") as out:
                for row in rows[b :: args.batches]:
                    item = {"id": text_id(row["text"]), "category": row["category"]}
                    out.write(json.dumps({**item, "text": row["text"]}, ensure_ascii=False) + "\n")
        print(f"{len(rows)} texts in {args.batches} batches -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
