"""The knowledge base: FAQ answers the hub may send on its own (SPEC 4.3), kept as data.

The entries live in `data/knowledge.json` so that the service team can edit answers without a
code change. An entry matches a text when every one of its `all_of` groups has a term in the text
and none of its `none_of` terms is there. Terms of two or more characters match anywhere in the
normalized text (jieba may glue "开发票" into one token, and "发票" must still match); a
one-character term ("米", "油", "退") only matches a whole token, so 玉米油 is no rice.

An answer is only sent when it is confident:
- an entry whose matched terms all sit inside another matching entry's longer terms is that
  other entry's weaker reading ("大米保存多久": 保存 sits in 保存多久, so shelf life, not storage);
- of what remains, the entry with the most groups wins ("花生油保质期" is the oil entry, not the
  general one), but only if it is alone: two equally specific answers mean the customer asked two
  things, or something we cannot tell apart, and a person answers instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from omnihub.feedback import segment

KNOWLEDGE_PATH = Path(__file__).with_name("data") / "knowledge.json"
KNOWLEDGE_FORMAT = "omnihub-faq/1"

Term = Annotated[str, Field(min_length=1, max_length=32)]


class EntryData(BaseModel):
    """One FAQ entry as written in the JSON file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[a-z0-9_.]+$")]
    title: str
    all_of: Annotated[list[Annotated[list[Term], Field(min_length=1)]], Field(min_length=1)]
    none_of: list[Term] = []
    answer: Annotated[str, Field(min_length=1, max_length=500)]
    examples: list[str] = []


class KnowledgeFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str
    about: str = ""
    entries: Annotated[list[EntryData], Field(min_length=1)]


@dataclass(frozen=True)
class Entry:
    """An entry with its terms normalized the way texts are."""

    id: str
    title: str
    all_of: tuple[tuple[str, ...], ...]
    none_of: tuple[str, ...]
    answer: str
    examples: tuple[str, ...]


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


def _found(term: str, text: str, tokens: frozenset[str]) -> bool:
    return term in tokens if len(term) == 1 else term in text


def _within(shorter: Sequence[str], longer: Sequence[str]) -> bool:
    """Every term of `shorter` sits inside some term of `longer`, and `longer` says more."""
    inside = all(any(s in term for term in longer) for s in shorter)
    more = any(not any(term in s for s in shorter) for term in longer)
    return inside and more


class KnowledgeBase:
    """Entries and the confident-answer rule (see the module docstring)."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        ids = [e.id for e in entries]
        if len(ids) != len(set(ids)):
            raise ValueError("knowledge entry ids must be unique")
        self.entries = tuple(entries)

    @classmethod
    def from_file(cls, path: Path = KNOWLEDGE_PATH) -> KnowledgeBase:
        data = KnowledgeFile.model_validate(json.loads(path.read_text(encoding="utf-8")))
        if data.format != KNOWLEDGE_FORMAT:
            raise ValueError(f"{path}: expected format {KNOWLEDGE_FORMAT}, got {data.format}")
        norm = segment.normalize
        return cls(
            [
                Entry(
                    id=e.id,
                    title=e.title,
                    all_of=tuple(tuple(norm(t) for t in group) for group in e.all_of),
                    none_of=tuple(norm(t) for t in e.none_of),
                    answer=e.answer,
                    examples=tuple(e.examples),
                )
                for e in data.entries
            ]
        )

    def matches(self, text: str) -> list[KnowledgeMatch]:
        """Every entry the text satisfies, in file order."""
        norm = segment.normalize(text)
        tokens = frozenset(segment.tokenize(text))
        found: list[KnowledgeMatch] = []
        for entry in self.entries:
            if any(_found(t, norm, tokens) for t in entry.none_of):
                continue
            terms: list[str] = []
            for group in entry.all_of:
                hits = [t for t in group if _found(t, norm, tokens)]
                if not hits:
                    break
                terms.extend(hits)
            else:
                found.append(
                    KnowledgeMatch(
                        entry_id=entry.id,
                        title=entry.title,
                        answer=entry.answer,
                        terms=tuple(dict.fromkeys(terms)),
                        groups=len(entry.all_of),
                    )
                )
        return found

    def lookup(self, text: str) -> Lookup:
        """The answer to send, only when one entry clearly fits."""
        found = self.matches(text)
        standing = [
            m for m in found if not any(o is not m and _within(m.terms, o.terms) for o in found)
        ]
        answer: KnowledgeMatch | None = None
        if standing:
            best = max(m.groups for m in standing)
            top = [m for m in standing if m.groups == best]
            if len(top) == 1:
                answer = top[0]
        return Lookup(answer=answer, candidates=tuple(m.entry_id for m in found))


@cache
def default_knowledge_base() -> KnowledgeBase:
    """The packaged knowledge base, read once per process."""
    return KnowledgeBase.from_file()
