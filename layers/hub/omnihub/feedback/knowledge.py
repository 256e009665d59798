"""The knowledge base: FAQ answers the hub may send on its own, kept as data.

The entries are data the service team edits entry by entry without a deploy: in AWS a DynamoDB
table (`KnowledgeCache` reads it, at most five minutes stale, D84); `seed/knowledge.json` in
the repository is the seed a deploy and the local stack load, and what the unit tests read.

An entry answers only a question about what it is about: its SUBJECT (the products, or the
thing, it explains) and its ATTRIBUTE (what it tells about them: shelf life, smoke point,
how to store...). A text matches an entry when
- it names one of the entry's subject terms, or it names no subject at all and one of the
  entry's `implied_by` terms (attribute terms that are only ever said of that subject: "烟点" is
  oil's), with nothing else in the text but the entry's terms and filler (question words,
  pronouns: "保质期多久？" is about the product bought; "牛奶保质期多久" is not);
- it names one of the entry's attribute terms, and a term of each further `all_of` group;
- and none of its `none_of` exclusions ("米饭": cooked rice is not rice's shelf life; "电饭煲":
  a rice cooker smoking is no smoke point). An exclusion found inside a longer term of the
  entry that the text names does not count (饺子 in 饺子粉).

Terms of two or more characters match anywhere in the normalized text (jieba may glue "开发票"
into one token, and "发票" must still match); a one-character term ("米", "油", "退") only
matches a whole token, so 玉米油 is no rice.

An answer is only sent when it is confident:
- an entry whose matched terms all sit inside another matching entry's longer terms is that
  other entry's weaker reading ("大米保存多久": 保存 sits in 保存多久, so shelf life, not storage);
- of what remains, the entry with the most groups wins, but only if it is alone: two equally
  specific answers mean the customer asked two things, or something we cannot tell apart, and a
  person answers instead;
- and only if it answers every question of the text: "大米保质期多久？你们门店几点关门？" asks
  two things, the answer covers one, so a person answers both.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from omnihub.feedback import segment

#: The seed: in the repository, not in the layer (layers/hub/omnihub/feedback -> the root).
KNOWLEDGE_PATH = Path(__file__).resolve().parents[4] / "seed" / "knowledge.json"
#: How stale the table's entries may be in a running function.
KNOWLEDGE_TTL_SECONDS = 300
KNOWLEDGE_FORMAT = "omnihub-faq/2"

Term = Annotated[str, Field(min_length=1, max_length=32)]
Terms = Annotated[list[Term], Field(min_length=1)]


class EntryData(BaseModel):
    """One FAQ entry as written in the JSON file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[a-z0-9_.]+$")]
    title: str
    subject: Terms
    attribute: Terms
    implied_by: list[Term] = []
    all_of: list[Terms] = []
    none_of: list[Term] = []
    answer: Annotated[str, Field(min_length=1, max_length=500)]
    examples: list[str] = []

    @model_validator(mode="after")
    def _implied_by_are_attributes(self) -> EntryData:
        """`implied_by` stands in for a subject, so it must be one of the entry's attributes."""
        stray = set(_norm(self.implied_by)) - set(_norm(self.attribute))
        if stray:
            raise ValueError(f"implied_by terms must be attribute terms: {sorted(stray)}")
        return self


class KnowledgeFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str
    about: str = ""
    filler: list[Term] = []
    entries: Annotated[list[EntryData], Field(min_length=1)]


@dataclass(frozen=True)
class Entry:
    """An entry with its terms normalized the way texts are."""

    id: str
    title: str
    subject: tuple[str, ...]
    attribute: tuple[str, ...]
    answer: str
    implied_by: tuple[str, ...] = ()
    all_of: tuple[tuple[str, ...], ...] = ()
    none_of: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()

    @property
    def groups(self) -> int:
        """How specific the entry is: subject, attribute and each further group."""
        return 2 + len(self.all_of)


@dataclass(frozen=True)
class KnowledgeMatch:
    """An entry that matched, and the terms of the text it matched on."""

    entry_id: str
    title: str
    answer: str
    terms: tuple[str, ...]
    groups: int


@dataclass(frozen=True)
class Lookup:
    """The confident answer, if any, and every entry that matched (hints for an agent)."""

    answer: KnowledgeMatch | None
    candidates: tuple[str, ...]


Span = tuple[int, int]
#: A sentence of normalized text and what ends it; one ending in "?" is a question.
_SENTENCE = re.compile(r"[^?!.;。]+([?!.;。]*)")


@dataclass(frozen=True)
class _Text:
    """A normalized text and its word-like tokens with their character spans."""

    norm: str
    tokens: tuple[tuple[Span, str], ...]

    @classmethod
    def of(cls, text: str) -> _Text:
        norm = segment.normalize(text)
        tokens = tuple(
            ((base + at, base + at + len(token)), token)
            for base, clause in segment.clause_spans(norm)
            for at, token in segment.cut_with_offsets(clause)
        )
        return cls(norm, tokens)

    def spans(self, term: str) -> list[Span]:
        """Where a term occurs: anywhere for two or more characters, whole tokens for one."""
        if len(term) == 1:
            return [span for span, token in self.tokens if token == term]
        found: list[Span] = []
        at = self.norm.find(term)
        while at >= 0:
            found.append((at, at + len(term)))
            at = self.norm.find(term, at + 1)
        return found


def _inside(span: Span, spans: Sequence[Span]) -> bool:
    return any(s[0] <= span[0] and span[1] <= s[1] and s != span for s in spans)


def _within(shorter: Sequence[str], longer: Sequence[str]) -> bool:
    """Every term of `shorter` sits inside some term of `longer`, and `longer` says more."""
    inside = all(any(s in term for term in longer) for s in shorter)
    more = any(not any(term in s for s in shorter) for term in longer)
    return inside and more


class KnowledgeBase:
    """Entries and the confident-answer rule (see the module docstring)."""

    def __init__(self, entries: Sequence[Entry], filler: Sequence[str] = ()) -> None:
        ids = [e.id for e in entries]
        if len(ids) != len(set(ids)):
            raise ValueError("knowledge entry ids must be unique")
        for e in entries:
            stray = set(e.implied_by) - set(e.attribute)
            if stray:
                raise ValueError(f"{e.id}: implied_by terms must be attribute terms: {stray}")
        self.entries = tuple(entries)
        self.filler = frozenset(filler)

    @classmethod
    def from_file(cls, path: Path = KNOWLEDGE_PATH) -> KnowledgeBase:
        data = read_seed(path)
        return cls.from_data(data.entries, data.filler)

    @classmethod
    def from_data(cls, entries: Sequence[EntryData], filler: Sequence[str]) -> KnowledgeBase:
        """Entries as validated data (the seed file's or the table's), normalized once."""
        return cls(
            [
                Entry(
                    id=e.id,
                    title=e.title,
                    subject=_norm(e.subject),
                    attribute=_norm(e.attribute),
                    answer=e.answer,
                    implied_by=_norm(e.implied_by),
                    all_of=tuple(_norm(group) for group in e.all_of),
                    none_of=_norm(e.none_of),
                    examples=tuple(e.examples),
                )
                for e in entries
            ],
            filler=_norm(filler),
        )

    def _match(self, entry: Entry, text: _Text) -> KnowledgeMatch | None:
        """The entry's reading of the text, or None (see the module docstring)."""

        def hits(terms: Sequence[str]) -> dict[str, list[Span]]:
            return {t: s for t in terms if (s := text.spans(t))}

        subject = hits(entry.subject)
        attribute = hits(entry.attribute)
        groups = [hits(group) for group in entry.all_of]
        if not attribute or not all(groups):
            return None
        if not subject and not (set(attribute) & set(entry.implied_by)):
            return None
        found = [subject, attribute, *groups]
        named = [span for group in found for spans in group.values() for span in spans]
        for term in entry.none_of:
            if any(not _inside(span, named) for span in text.spans(term)):
                return None
        if not subject and not self._nothing_else(text, named):
            return None
        terms = tuple(dict.fromkeys(t for group in found for t in group))
        return KnowledgeMatch(entry.id, entry.title, entry.answer, terms, entry.groups)

    def _nothing_else(self, text: _Text, named: Sequence[Span]) -> bool:
        """Every token is filler or overlaps a term the entry matched on: no other subject."""
        return all(
            token in self.filler or any(s < span[1] and span[0] < e for s, e in named)
            for span, token in text.tokens
        )

    def matches(self, text: str) -> list[KnowledgeMatch]:
        """Every entry the text satisfies, in file order."""
        return self._matches(_Text.of(text))

    def _matches(self, read: _Text) -> list[KnowledgeMatch]:
        return [m for entry in self.entries if (m := self._match(entry, read)) is not None]

    @staticmethod
    def _answers_every_question(answer: KnowledgeMatch, read: _Text) -> bool:
        """Each sentence that ends in "?" names a term the answer matched on."""
        questions = [m.span() for m in _SENTENCE.finditer(read.norm) if "?" in m.group(1)]
        if len(questions) < 2:
            return True
        spans = [span for term in answer.terms for span in read.spans(term)]
        return all(any(a <= s and e <= b for s, e in spans) for a, b in questions)

    def lookup(self, text: str) -> Lookup:
        """The answer to send, only when one entry clearly fits."""
        read = _Text.of(text)
        found = self._matches(read)
        standing = [
            m for m in found if not any(o is not m and _within(m.terms, o.terms) for o in found)
        ]
        answer: KnowledgeMatch | None = None
        if standing:
            best = max(m.groups for m in standing)
            top = [m for m in standing if m.groups == best]
            if len(top) == 1 and self._answers_every_question(top[0], read):
                answer = top[0]
        return Lookup(answer=answer, candidates=tuple(m.entry_id for m in found))


def _norm(terms: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(segment.normalize(t) for t in terms))


def read_seed(path: Path = KNOWLEDGE_PATH) -> KnowledgeFile:
    """The seed file, validated (what a deploy and the local stack load into the table)."""
    data = KnowledgeFile.model_validate(json.loads(path.read_text(encoding="utf-8")))
    if data.format != KNOWLEDGE_FORMAT:
        raise ValueError(f"{path}: expected format {KNOWLEDGE_FORMAT}, got {data.format}")
    return data


@cache
def default_knowledge_base() -> KnowledgeBase:
    """The seed's knowledge base, read once per process (tests, the CLI, the evaluation)."""
    return KnowledgeBase.from_file()


@dataclass(frozen=True)
class StoredKnowledge:
    """The table's content as stored: each entry's raw fields by id, and the filler words."""

    entries: Mapping[str, Mapping[str, Any]]
    filler: Sequence[Any] | None = None


class KnowledgeCache:
    """The knowledge base from its table, re-read at most every `ttl` seconds.

    Each entry is validated on its own: a broken one is never applied (its last good version,
    if it had one, stays) and `on_invalid` is told once per broken content, so a bad edit can
    neither fail an event nor take the other answers down. An entry deleted from the table is
    gone at the next read. `forget_cached()` makes the next call read again (the local stack
    calls it after a write, so a new entry answers at once)."""

    def __init__(
        self,
        read: Callable[[], StoredKnowledge],
        on_invalid: Callable[[str, ValidationError], None],
        ttl: float = KNOWLEDGE_TTL_SECONDS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read, self._on_invalid, self._ttl, self._now = read, on_invalid, ttl, now
        self._good: dict[str, EntryData] = {}
        self._filler: list[str] = []
        self._reported: set[str] = set()
        self._kb: KnowledgeBase | None = None
        self._until = 0.0

    def forget_cached(self) -> None:
        self._until = 0.0

    def get(self) -> KnowledgeBase:
        now = self._now()
        if self._kb is not None and now < self._until:
            return self._kb
        stored = self._read()
        good: dict[str, EntryData] = {}
        for entry_id, raw in sorted(stored.entries.items()):
            try:
                entry = EntryData.model_validate({**raw, "id": entry_id})
            except ValidationError as error:
                key = f"{entry_id}|{json.dumps(raw, sort_keys=True, default=str)}"
                if key not in self._reported:
                    self._reported.add(key)
                    self._on_invalid(f"knowledge/{entry_id}", error)
                if entry_id in self._good:
                    good[entry_id] = self._good[entry_id]
                continue
            good[entry_id] = entry
        if stored.filler is not None:
            try:
                self._filler = _Filler.model_validate({"filler": stored.filler}).filler
            except ValidationError as error:
                self._on_invalid("knowledge/filler", error)
        self._good = good
        self._kb = KnowledgeBase.from_data(list(good.values()), self._filler)
        self._until = now + self._ttl
        return self._kb


class _Filler(BaseModel):
    filler: list[Term]
