"""Word segmentation with jieba over a compact dictionary shipped in the package.

jieba's default dictionary (349k words) costs about a second on the first cut. The compact
dictionary in `data/dict.txt` (the domain lexicon plus the words the sentiment model uses, with
jieba's own frequencies; built by `scripts/train_classifier.py`) loads in a few milliseconds.

The tokenizer is created on first use, once per process. It is filled directly from the
dictionary file, so jieba never writes its cache file (Lambda may only write to /tmp; the package
directory is read-only). jieba.posseg and jieba.analyse are never imported: they cost seconds.
"""

from __future__ import annotations

import re
import tempfile
import threading
import unicodedata
import warnings
from pathlib import Path
from typing import Protocol

DICT_PATH = Path(__file__).with_name("data") / "dict.txt"

# Clause boundaries: punctuation (ASCII after NFKC) and whitespace. A negation never reaches
# across one.
_BOUNDARY = r"\s,.!?;:、。…~～\"'“”‘’()\[\]【】《》<>|/\\-"
_CLAUSE = re.compile(f"[^{_BOUNDARY}]+")
# A token that carries meaning has at least one letter, digit or CJK character.
_WORDLIKE = re.compile(r"\w")


class Tokenizer(Protocol):
    """The part of jieba.Tokenizer this package uses."""

    def lcut(self, sentence: str, cut_all: bool = ..., HMM: bool = ...) -> list[str]: ...


_lock = threading.Lock()
_tokenizer: Tokenizer | None = None


def normalize(text: str) -> str:
    """NFKC (full-width letters, digits and punctuation become ASCII) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def clause_spans(text: str) -> list[tuple[int, str]]:
    """Clauses of normalized text with their start offsets, split at punctuation and spaces."""
    return [(m.start(), m.group()) for m in _CLAUSE.finditer(text)]


def split_clauses(text: str) -> list[str]:
    """Clauses of normalized text, split at punctuation and whitespace."""
    return _CLAUSE.findall(text)


def prefix_dict(text: str) -> tuple[dict[str, int], int]:
    """jieba's prefix dictionary ("word freq" lines): what Tokenizer.gen_pfdict computes, without
    decoding line by line (twice as fast on a cold start)."""
    freq: dict[str, int] = {}
    total = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        word, count = line.split(" ")[:2]
        n = int(count)
        freq[word] = n
        total += n
        for end in range(1, len(word)):
            freq.setdefault(word[:end], 0)
    return freq, total


def load_tokenizer(dict_path: Path = DICT_PATH) -> Tokenizer:
    """Build a jieba Tokenizer over `dict_path` without jieba's cache file or its log lines."""
    with warnings.catch_warnings():
        # Compiling jieba 0.42.1 from source (no .pyc shipped) warns about escape sequences.
        warnings.simplefilter("ignore", SyntaxWarning)
        import jieba

    tokenizer = jieba.Tokenizer(str(dict_path))
    tokenizer.tmp_dir = tempfile.gettempdir()  # only used if someone calls initialize() again
    tokenizer.FREQ, tokenizer.total = prefix_dict(dict_path.read_text(encoding="utf-8"))
    tokenizer.initialized = True
    result: Tokenizer = tokenizer
    return result


def get_tokenizer() -> Tokenizer:
    """The process-wide tokenizer over the packaged dictionary, created on first use."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                _tokenizer = load_tokenizer()
    return _tokenizer


def cut_with_offsets(clause: str, tokenizer: Tokenizer | None = None) -> list[tuple[int, str]]:
    """Word-like tokens of one clause with their offsets in it.

    No HMM: unknown words stay single characters, which is fast and keeps lexicon terms intact.
    """
    tok = tokenizer if tokenizer is not None else get_tokenizer()
    out: list[tuple[int, str]] = []
    pos = 0
    for token in tok.lcut(clause, HMM=False):
        if _WORDLIKE.search(token):
            out.append((pos, token))
        pos += len(token)
    return out


def cut(clause: str, tokenizer: Tokenizer | None = None) -> list[str]:
    """Word-like tokens of one clause (see cut_with_offsets)."""
    return [t for _, t in cut_with_offsets(clause, tokenizer)]


def segment(text: str, tokenizer: Tokenizer | None = None) -> list[list[str]]:
    """Normalized text as clauses of tokens; empty clauses are dropped."""
    clauses = (cut(c, tokenizer) for c in split_clauses(normalize(text)))
    return [c for c in clauses if c]


def tokenize(text: str, tokenizer: Tokenizer | None = None) -> list[str]:
    """All tokens of the text, in order, punctuation and whitespace removed."""
    return [t for clause in segment(text, tokenizer) for t in clause]
