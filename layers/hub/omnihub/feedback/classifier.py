"""Feedback classification: intent, sentiment, intensity, topics, risk and evidence.

`classify(text)` is a pure, deterministic function. Importing this module is cheap: jieba, the
compact dictionary and the sentiment model are loaded by the first call.

How it decides:
- The text is normalized (NFKC, lower case) and split into clauses at punctuation and spaces;
  each clause is cut by jieba over the compact dictionary, and lexicon terms are matched on token
  boundaries (longest first).
- A negation ("没有", "无", "不"...) or a suppressor ("防止", "像", "易"...) reaches the risk and
  problem terms at most NEGATION_WINDOW tokens after it in its clause; a hedge ("怀疑", "好像")
  or a scope breaker ("但是", "就") ends that reach. A negated praise cue ("不新鲜" aside, which is
  its own term) counts against the text.
- Risk: any food-safety term left standing is high; else any medium term is medium; else low.
- Sentiment: the logistic model's log-odds, moved by the lexicon (a food-safety report is never
  positive), banded into neg / neu / pos. A text the model knows nothing of, with no lexicon cue,
  is neu at 0.5.
- Intent: a risk, problem or complaint cue makes a complaint (even as a question); then
  suggestion cues; then questions; then positive sentiment is praise and negative sentiment about
  a topic is a complaint.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from omnihub.feedback import lexicon

Intent = Literal["complaint", "inquiry", "suggestion", "praise", "other"]
Sentiment = Literal["neg", "neu", "pos"]
Risk = Literal["high", "medium", "low"]
Topic = Literal[
    "packaging",
    "leakage",
    "logistics",
    "taste_quality",
    "storage",
    "price",
    "service",
    "product_info",
    "other",
]

NEG_BELOW = 0.4  # score under this is neg
POS_ABOVE = 0.6  # score over this is pos; between the two is neu
# Questions and suggestions are rarely opinions: the review-trained model reads them as mildly
# negative, so they are neu unless the score is this far out.
ASK_NEG_BELOW = 0.05
ASK_POS_ABOVE = 0.95
SHIFT_HIGH = -3.0  # log-odds moves applied to the model by the lexicon
SHIFT_COMPLAINT = -1.5
SHIFT_PRAISE = 1.0
SHIFT_REASSURE = 1.5  # "没有异味", "无破损": a negated defect is good news
HIGH_RISK_MAX_LOGIT = -1.5  # a food-safety report scores at most sigmoid(-1.5) = 0.18
_MAX_SPAN = 4  # a lexicon term is at most this many tokens


class Classification(BaseModel):
    """What the hub needs to route one piece of feedback."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    intent: Intent
    sentiment: Sentiment
    score: float = Field(ge=0.0, le=1.0, description="probability that the text is positive")
    intensity: float = Field(ge=0.0, le=1.0)
    topics: list[Topic] = Field(min_length=1)
    risk: Risk
    evidence: list[str]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return self.model_dump()


@dataclass
class _Term:
    """Every role one lexicon term plays."""

    intents: set[str] = field(default_factory=set)
    topics: set[str] = field(default_factory=set)
    risk_high: str | None = None
    risk_medium: str | None = None
    problem: bool = False
    negation: bool = False
    suppressor: bool = False
    modal: bool = False
    hedge: bool = False
    breaker: bool = False
    degree: float | None = None
    discomfort: bool = False
    eating: bool = False
    non_food: bool = False


@dataclass(frozen=True)
class _Index:
    terms: Mapping[str, _Term]
    max_len: int


def _build_index() -> _Index:
    terms: dict[str, _Term] = {}

    def term(word: str) -> _Term:
        return terms.setdefault(word, _Term())

    for intent, words in lexicon.INTENT_CUES.items():
        for w in words:
            term(w).intents.add(intent)
    for topic, words in lexicon.TOPIC_TERMS.items():
        for w in words:
            term(w).topics.add(topic)
    for kind, words in lexicon.RISK_HIGH.items():
        for w in words:
            term(w).risk_high = kind
            term(w).topics.update(lexicon.RISK_TOPICS[kind])
    for kind, words in lexicon.RISK_MEDIUM.items():
        for w in words:
            term(w).risk_medium = kind
            term(w).topics.update(lexicon.RISK_TOPICS[kind])
    for w in lexicon.PROBLEM_TERMS:
        term(w).problem = True
    for w in lexicon.NEGATIONS:
        term(w).negation = True
    for w in lexicon.SUPPRESSORS:
        term(w).suppressor = True
    for w in lexicon.QUESTION_MODALS:
        term(w).modal = True
    for w in lexicon.HEDGES:
        term(w).hedge = True
    for w in lexicon.SCOPE_BREAKERS:
        term(w).breaker = True
    for w, weight in lexicon.DEGREE_WORDS.items():
        term(w).degree = weight
    for w in lexicon.DISCOMFORT_TERMS:
        term(w).discomfort = True
    for w in lexicon.EATING_CUES:
        term(w).eating = True
    for w in lexicon.NON_FOOD_SUBJECTS:
        term(w).non_food = True
    return _Index(terms=terms, max_len=max(len(w) for w in terms))


_index_lock = threading.Lock()
_index: _Index | None = None


def _get_index() -> _Index:
    global _index
    if _index is None:
        with _index_lock:
            if _index is None:
                _index = _build_index()
    return _index


@dataclass(frozen=True)
class _Match:
    """A lexicon term found in a clause: token span [start, end) and character offset."""

    word: str
    info: _Term
    start: int
    end: int
    offset: int


def _match_clause(tokens: list[tuple[int, str]], base: int, index: _Index) -> list[_Match]:
    """Longest-first, left-to-right lexicon matches over whole tokens."""
    matches: list[_Match] = []
    i = 0
    n = len(tokens)
    while i < n:
        best: tuple[int, str] | None = None
        text = ""
        for j in range(i, min(n, i + _MAX_SPAN)):
            text += tokens[j][1]
            if len(text) > index.max_len:
                break
            if text in index.terms:
                best = (j + 1, text)
        if best is None:
            i += 1
            continue
        end, word = best
        matches.append(_Match(word, index.terms[word], i, end, base + tokens[i][0]))
        i = end
    return matches


@dataclass
class _Findings:
    """What the lexicon pass found in the whole text."""

    high: list[str] = field(default_factory=list)
    medium: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    intents: dict[str, list[str]] = field(default_factory=dict)
    topics: set[str] = field(default_factory=set)
    degrees: list[float] = field(default_factory=list)
    reassured: int = 0
    evidence: list[tuple[int, str]] = field(default_factory=list)
    any_cue: bool = False

    def cue(self, intent: str, word: str) -> None:
        self.intents.setdefault(intent, []).append(word)


def _asks(text: str, clause_end: int, matches: list[_Match]) -> bool:
    """Is this clause a question: 吗/么 in it, or "?" right after it."""
    if any("inquiry" in m.info.intents and m.word in ("吗", "么") for m in matches):
        return True
    rest = text[clause_end:].lstrip()
    return rest.startswith("?")


def _scan(text: str, findings: _Findings) -> list[str]:
    """Lexicon pass over normalized text; returns all tokens (for the sentiment model)."""
    from omnihub.feedback import segment

    index = _get_index()
    all_tokens: list[str] = []
    eaten = False
    for base, clause in segment.clause_spans(text):
        tokens = segment.cut_with_offsets(clause)
        all_tokens.extend(t for _, t in tokens)
        matches = _match_clause(tokens, base, index)
        asks = _asks(text, base + len(clause), matches)
        scope: _Match | None = None  # the negation or suppressor in reach, if any
        non_food = False
        hedge: _Match | None = None
        for m in matches:
            info = m.info
            findings.any_cue = True
            if info.hedge or info.breaker:
                scope = None
                if info.hedge:
                    hedge = m
            if info.negation or info.suppressor or (info.modal and asks):
                scope = m
                continue
            if info.eating:
                eaten = True
            if info.non_food:
                non_food = True
            if info.risk_high == "expiry" and non_food:
                continue  # a coupon or points expiring: not about food at all
            if info.degree is not None:
                findings.degrees.append(info.degree)
            in_scope = scope is not None and m.start - scope.end < lexicon.NEGATION_WINDOW
            negated = in_scope and scope is not None and scope.info.negation
            span = ""
            if in_scope and scope is not None:
                span = "".join(t for _, t in tokens[scope.start : m.end])
            relied = False
            risky = info.risk_high or info.risk_medium or info.problem or info.discomfort
            if risky and in_scope and scope is not None:
                # One span per negation: "防止受潮结块" replaces "防止受潮".
                findings.evidence = [e for e in findings.evidence if e[0] != scope.offset]
                findings.evidence.append((scope.offset, span))
                findings.reassured += negated
            elif risky:
                if info.risk_high:
                    findings.high.append(m.word)
                    relied = True
                elif info.discomfort and eaten:
                    findings.high.append(m.word)
                    findings.topics.update(lexicon.RISK_TOPICS["illness"])
                    relied = True
                elif info.risk_medium:
                    findings.medium.append(m.word)
                    relied = True
                if info.problem:
                    findings.problems.append(m.word)
                    relied = True
                if relied and hedge is not None:
                    findings.evidence.append((hedge.offset, hedge.word))
            for intent in sorted(info.intents):
                if negated and intent == "praise":
                    findings.cue("complaint", span)
                    findings.evidence.append((scope.offset if scope else m.offset, span))
                elif negated and intent == "complaint":
                    findings.evidence.append((scope.offset if scope else m.offset, span))
                else:
                    findings.cue(intent, m.word)
                    relied = True
            if info.topics:
                findings.topics.update(info.topics)
                if not (risky and in_scope):
                    relied = True
            if relied:
                findings.evidence.append((m.offset, m.word))
    return all_tokens


def asks_unmarked(norm: str) -> bool:
    """A question without a question mark or inquiry cue: it names what it asks for ("什么",
    "哪些"), and not rhetorically ("凭什么", "没什么问题")."""
    return any(w in norm for w in lexicon.QUESTION_WORDS) and not any(
        w in norm for w in lexicon.NOT_ASKING
    )


def _band(score: float, neg_below: float, pos_above: float) -> Sentiment:
    if score < neg_below:
        return "neg"
    if score > pos_above:
        return "pos"
    return "neu"


def classify(text: str) -> Classification:
    """Classify one piece of feedback from any channel; never raises on any string."""
    from omnihub.feedback import segment, sentiment

    norm = segment.normalize(text)
    found = _Findings()
    tokens = _scan(norm, found)
    model_logit, known = sentiment.get_model().logit(tokens)
    complaint_cues = bool(found.intents.get("complaint"))
    praise_cues = bool(found.intents.get("praise"))
    asked = "?" in norm

    if known == 0 and not found.any_cue:
        score = 0.5
        label: Sentiment = "neu"
    else:
        logit = model_logit if known else 0.0
        if found.high:
            logit = min(logit + SHIFT_HIGH, HIGH_RISK_MAX_LOGIT)
        elif found.medium or found.problems or complaint_cues:
            logit += SHIFT_COMPLAINT
        else:
            logit += SHIFT_REASSURE * bool(found.reassured) + SHIFT_PRAISE * praise_cues
        score = round(sentiment.sigmoid(logit), 4)
        label = _band(score, NEG_BELOW, POS_ABOVE)

    topics = sorted(found.topics) or ["other"]
    on_topic = topics != ["other"]
    intent: Intent
    if found.high or found.medium or found.problems or complaint_cues:
        intent = "complaint"
    elif found.intents.get("suggestion"):
        intent = "suggestion"
    elif found.intents.get("inquiry") or asked:
        intent = "inquiry"
        if asked:
            found.evidence.append((norm.index("?"), "?"))
    elif label == "pos":
        intent = "praise"
    elif asks_unmarked(norm):
        intent = "inquiry"  # "我的积分能换什么东西": a question, whatever tone the model reads
    elif label == "neg" and on_topic and not found.reassured:
        intent = "complaint"  # but "没有破损也没有漏油" is no complaint, whatever the model says
    else:
        intent = "other"
    if intent in ("inquiry", "suggestion") and label != "neu":
        label = _band(score, ASK_NEG_BELOW, ASK_POS_ABOVE)
    if intent == "complaint" and label == "neu":
        label = "neg"

    risk: Risk = "high" if found.high else "medium" if found.medium else "low"
    intensity = _intensity(score, label, found, norm)
    evidence: list[str] = []
    for _, word in sorted(found.evidence, key=lambda e: e[0]):
        if word and word not in evidence:
            evidence.append(word)
    return Classification(
        intent=intent,
        sentiment=label,
        score=score,
        intensity=intensity,
        topics=topics,
        risk=risk,
        evidence=evidence,
    )


def _intensity(score: float, label: Sentiment, found: _Findings, norm: str) -> float:
    """How strongly it is felt: polarity, degree words, exclamation marks, a safety scare."""
    polarity = abs(2.0 * score - 1.0)
    boosts = [d for d in found.degrees if d > 1.0]
    softeners = [d for d in found.degrees if d < 1.0]
    factor = max(boosts) if boosts else min(softeners) if softeners else 1.0
    value = 0.8 * polarity * factor + 0.1 * min(norm.count("!"), 3)
    if found.high:
        value += 0.15
    if label == "neu" and not found.high:
        value = min(value, 0.3)
    return round(max(0.0, min(1.0, value)), 4)
