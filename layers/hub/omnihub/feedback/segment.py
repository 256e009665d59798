"""Word segmentation over a compact dictionary shipped in the package: jieba's words, faster.

jieba's default dictionary (349k words) costs about a second on the first cut. The compact
dictionary in `data/dict.txt` (the domain lexicon plus the words the sentiment model uses, with
jieba's own frequencies; built by `scripts/train_classifier.py`) loads in a few milliseconds.

`Segmenter` is jieba 0.42.1's `lcut(text, HMM=False)` over that dictionary, rewritten as one
backward pass over a clause (the same prefix walk, the same log-frequency sums in the same order,
ties to the longer word, single ASCII letters and digits joined): the same words, three times
faster, and `import jieba` (40 ms) is off the first answer. A test cuts thousands of texts both
ways. jieba itself stays for any other dictionary (`tokenizer=`; the training script counts
words with jieba's default one) and is what the segmenter is checked against.

The segmenter is created on first use, once per process, straight from the dictionary file
(nothing is written: Lambda may only write to /tmp).
"""

from __future__ import annotations

import math
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
# jieba 0.42.1's own patterns (jieba/__init__.py: re_han_default, re_skip_default, re_eng).
_HAN = re.compile("([\u4e00-\u9fd5a-zA-Z0-9+#&\\._%\\-]+)")
_HAN_ONLY = re.compile("[\u4e00-\u9fd5a-zA-Z0-9+#&\\._%\\-]+")
_HAN_NON_WORD = re.compile(r"[+#&.%\-]")  # the han characters that are not \w
_SKIP = re.compile(r"(\r\n|\s)")
_ENG = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_PREFIX_ONLY = object()  # the value of a dictionary word's prefix that is no word itself
_NO_WORD = -math.inf  # below every route's score (they are sums of finite logs)


class Tokenizer(Protocol):
    """The part of jieba.Tokenizer this package uses."""

    def lcut(self, sentence: str, cut_all: bool = ..., HMM: bool = ...) -> list[str]: ...


_lock = threading.Lock()
_tokenizer: Tokenizer | None = None
_segmenter: Segmenter | None = None


# Full-width ASCII (U+FF01-U+FF5E) and the ideographic space are most of what NFKC changes in
# Chinese reviews ("，", "！", "？"). Each is one ASCII character under NFKC (a starter, so nothing
# reorders around it): swapping them first gives the same NFKC, and what is left is then mostly
# normalized already, which unicodedata's quick check returns as it is, at half the cost of
# composing the whole text.
_WIDE = re.compile("[\uff01-\uff5e\u3000]")
_WIDE_TO_ASCII = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {"\u3000": " "}


def _narrow(match: re.Match[str]) -> str:
    return _WIDE_TO_ASCII[match.group()]


def normalize(text: str) -> str:
    """NFKC (full-width letters, digits and punctuation become ASCII) and lower case."""
    return unicodedata.normalize("NFKC", _WIDE.sub(_narrow, text)).lower()


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


class Segmenter:
    """jieba's `lcut(text, HMM=False)` over one prefix dictionary, with the same output.

    Per position, from the clause's end backwards: walk the dictionary's prefixes from there,
    score each word as log(freq) - log(total) plus the best score after it (jieba's sums, in
    its order, so the floats are equal), keep the best, the longer word on a tie; a character
    that starts no word scores log(1) - log(total). Then read the route forwards, joining
    single ASCII letters and digits as jieba does.
    """

    def __init__(self, freq: dict[str, int], total: int) -> None:
        logtotal = math.log(total)
        self._unknown = math.log(1) - logtotal
        self._words: dict[str, object] = {
            w: (math.log(f) - logtotal) if f else _PREFIX_ONLY for w, f in freq.items()
        }

    def _block(self, blk: str, at: int, out: list[tuple[int, str]]) -> None:
        """One run of jieba's "han" characters (CJK, ASCII letters and digits, +#&._%-) at
        offset `at`: its words and their offsets."""
        get = self._words.get
        unknown = self._unknown
        n = len(blk)
        best = [0.0] * (n + 1)
        ends = [0] * n
        # Every character's and every pair's entry, looked up in C: most walks end there.
        singles = list(map(get, blk))
        pairs = list(map(get, map(str.__add__, blk, blk[1:])))
        for k in range(n - 1, -1, -1):
            value = singles[k]
            top = _NO_WORD
            end = k + 1
            if value is not None:
                if value is not _PREFIX_ONLY:
                    top = value + best[k + 1]  # type: ignore[operator]
                if k + 1 < n:
                    value = pairs[k]
                    j = k + 2
                    while value is not None:
                        if value is not _PREFIX_ONLY:
                            here = value + best[j]  # type: ignore[operator]
                            if here >= top:
                                top, end = here, j
                        if j == n:
                            break
                        j += 1
                        value = get(blk[k:j])
            if top == _NO_WORD:  # jieba's lone character: log(1) - log(total)
                top = unknown + best[k + 1]
            best[k] = top
            ends[k] = end
        x = 0
        start = -1  # of the ASCII letters and digits being joined
        while x < n:
            y = ends[x]
            if y - x == 1 and blk[x] in _ENG:
                if start < 0:
                    start = x
            else:
                if start >= 0:
                    out.append((at + start, blk[start:x]))
                    start = -1
                out.append((at + x, blk[x:y]))
            x = y
        if start >= 0:
            out.append((at + start, blk[start:]))

    def _pieces(self, sentence: str) -> list[tuple[int, str]]:
        """Every token jieba's `lcut(sentence, HMM=False)` gives, with its offset."""
        out: list[tuple[int, str]] = []
        if _HAN_ONLY.fullmatch(sentence):
            self._block(sentence, 0, out)
            return out
        pos = 0
        for blk in _HAN.split(sentence):
            if not blk:
                continue
            if _HAN.match(blk):
                self._block(blk, pos, out)
            else:
                for x in _SKIP.split(blk):
                    if _SKIP.match(x):
                        out.append((pos, x))
                        pos += len(x)
                        continue
                    for ch in x:
                        out.append((pos, ch))
                        pos += 1
                continue
            pos += len(blk)
        return out

    def lcut(self, sentence: str) -> list[str]:
        """Every token jieba's `lcut(sentence, HMM=False)` gives, punctuation included."""
        return [t for _, t in self._pieces(sentence)]

    def words(self, clause: str) -> list[tuple[int, str]]:
        """Word-like tokens with their offsets (see cut_with_offsets). In a run of jieba's han
        characters only +#&.%- make a token that is no word: most clauses need no check."""
        if _HAN_ONLY.fullmatch(clause):
            out: list[tuple[int, str]] = []
            self._block(clause, 0, out)
            if not _HAN_NON_WORD.search(clause):
                return out
        else:
            out = self._pieces(clause)
        return [(p, t) for p, t in out if _WORDLIKE.search(t)]


def _two_column_prefix_dict(text: str) -> tuple[dict[str, int], int] | None:
    """prefix_dict of a file of "word freq" lines only (what the training script writes), by
    whole-string operations: five times faster on the first answer. None for any other file."""
    parts = text.split()
    lines = [line for line in text.splitlines() if line.strip()]
    if len(parts) != 2 * len(lines) or not all(map(str.isdigit, parts[1::2])):
        return None
    words = parts[0::2]
    counts = list(map(int, parts[1::2]))
    freq = dict(zip(words, counts, strict=True))
    prefixes = {w[:end] for w in words if len(w) > 1 for end in range(1, len(w))}
    freq.update(dict.fromkeys(prefixes - freq.keys(), 0))
    return freq, sum(counts)


def load_segmenter(dict_path: Path = DICT_PATH) -> Segmenter:
    """A Segmenter over `dict_path` ("word freq" lines)."""
    text = dict_path.read_text(encoding="utf-8")
    return Segmenter(*(_two_column_prefix_dict(text) or prefix_dict(text)))


def get_segmenter() -> Segmenter:
    """The process-wide segmenter over the packaged dictionary, created on first use."""
    global _segmenter
    if _segmenter is None:
        with _lock:
            if _segmenter is None:
                _segmenter = load_segmenter()
    return _segmenter


def load_tokenizer(dict_path: Path = DICT_PATH) -> Tokenizer:
    """A jieba Tokenizer over `dict_path`, without jieba's cache file or its log lines (what the
    Segmenter is checked against)."""
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
    """A process-wide jieba tokenizer over the packaged dictionary, created on first use."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                _tokenizer = load_tokenizer()
    return _tokenizer


def cut_with_offsets(clause: str, tokenizer: Tokenizer | None = None) -> list[tuple[int, str]]:
    """Word-like tokens of one clause with their offsets in it.

    No HMM: unknown words stay single characters, which is fast and keeps lexicon terms intact.
    Without `tokenizer`, the packaged dictionary's Segmenter (the same tokens as jieba's).
    """
    if tokenizer is None:
        return get_segmenter().words(clause)
    out: list[tuple[int, str]] = []
    pos = 0
    for token in tokenizer.lcut(clause, HMM=False):
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
