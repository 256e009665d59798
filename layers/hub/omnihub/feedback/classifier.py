"""Feedback classification: intent, sentiment, intensity, topics, risk and evidence.

`classify(text)` is a pure, deterministic function. Importing this module is cheap: the segmenter,
the compact dictionary and the trained model are loaded by the first call.

How it decides:
- The text is normalized (NFKC, lower case) and split into clauses at punctuation and spaces;
  each clause is cut into jieba's words over the compact dictionary (omnihub.feedback.segment),
  and lexicon terms are matched on token boundaries (longest first). A negation ("没有", "无",
  "不"...) or a suppressor ("防止", "易"...) reaches the risk and problem terms at most
  NEGATION_WINDOW tokens after it in its clause; a hedge ("怀疑", "好像") or a scope breaker
  ("但是", "就") ends that reach.
- What the lexicon found becomes signals (a food-safety term standing, a negated defect, cues of
  each intent, the question mark, concepts met in one clause), which join the character 1-3
  grams and those words as features of the trained heads (omnihub.feedback.heads): sentiment
  from 60,000 reviews; risk, intent, topics and "mixed" from the labelled set (data/feedback-dev).
- Rules that stay rules, on top: a food-safety term left standing is high, hedged or not; the
  model alone never makes a negated or merely asked-about defect high, and makes a question
  high only when it is sure; medium stays the dictionary's quality defect (胀袋, 结块...); an
  inquiry must ask and a suggestion must wish; a problem the dictionary names makes a complaint
  even as a question; a complaint no dictionary word names must sound clearly negative; a text
  the model knows too little of is `other`, unless the risk head reads a food-safety report
  in it.
"""

from __future__ import annotations

import bisect
import math
import operator
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from omnihub.feedback import lexicon

if TYPE_CHECKING:
    from omnihub.feedback.heads import HeadsModel

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

_MAX_SPAN = 4
#: A text with no dictionary cue and fewer known features than this ("收到了", "难闻") is too
#: little to name an intent or a topic: `other`, low, with the model's tone (neu unless clear),
#: unless the risk head reads a food-safety report in it ("烂的！！！", "全坏掉了"): a short
#: report is still a report.
MIN_KNOWN = 10
CLEAR_NEG_BELOW = 0.25  # ...and its tone is neu unless the score is this far from one half
#: A defect the text negates ("没有异味", "无破损") is good news: the sentiment log-odds move by
#: this much, and such a text is no complaint unless it names another problem.
SHIFT_REASSURE = 1.5
#: A dictionary food-safety term standing, with no praise, scores at most this (sigmoid(-1.5)).
HIGH_RISK_MAX_SCORE = 0.1824
# Questions and suggestions are rarely opinions: the review-trained model reads them as mildly
# negative, so they are neu unless the score is this far out.
ASK_NEG_BELOW = 0.05
ASK_POS_ABOVE = 0.95
#: A text that ends as a question ("...是坏了吗", "...能退吗?", "...的烟点是多少") without naming
#: a problem asks: a particle, a question mark, or an interrogative as its last word.
QUESTION_END = re.compile(r"(吗|么|呢|多少|多久|几天|哪里|哪儿|如何|怎么样)[?.!~\s]*$|\?[?!\s]*$")
#: ...or asks how long before something can or will happen ("面粉放多久会坏", "几天能到"),
#: wherever in the text: a report says how long it took ("放了几天就坏了", "三天才到").
ASKS_HOW_LONG = re.compile(r"(多久|多长时间|几天|几个月|几年)(会|能|可以)")
#: A question whether something is wrong ("冬天花生油凝固了是坏了吗？", "是不是变质了") or
#: could go wrong (a modal: "放多久会坏？", "能放多久") is mostly a worry: the model alone makes
#: it high only when this sure. A question that reports ("有一个已经烂掉了?",
#: "京东发货前都不带检查的么？") is judged on the risk threshold.
INQUIRY_HIGH = 0.99
ASKS_WHETHER = re.compile(
    r"是不是|是否|有没有|(是|算)[^,.!?;]{0,6}(吗|么)|" + "|".join(lexicon.QUESTION_MODALS)
)
SURE_TOPIC = 0.5  # beside the dictionary's topics, the model's count from this probability
COMPLAINT_MAX_SCORE = 0.3  # a complaint no dictionary word names scores at most this
PRAISE_MIN_SCORE = 0.6  # a praise no praise word names scores at least this


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
    prefixes: frozenset[str] = frozenset()  # every term's every prefix, the term included


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
    prefixes = frozenset(w[:end] for w in terms for end in range(1, len(w) + 1))
    return _Index(terms=terms, max_len=max(len(w) for w in terms), prefixes=prefixes)


_index_lock = threading.Lock()
_index: _Index | None = None


def _get_index() -> _Index:
    global _index
    if _index is None:
        with _index_lock:
            if _index is None:
                _index = _build_index()
    return _index


class _Match(NamedTuple):
    """A lexicon term found in a clause: token span [start, end) and character offset."""

    word: str
    info: _Term
    start: int
    end: int
    offset: int


def _match_clause(tokens: list[tuple[int, str]], base: int, index: _Index) -> list[_Match]:
    """Longest-first, left-to-right lexicon matches over whole tokens, at most _MAX_SPAN of
    them. A run of tokens that begins no term ends the search from its first token: most
    tokens start none, and cost one set lookup."""
    matches: list[_Match] = []
    prefixes = index.prefixes
    terms = index.terms
    i = 0
    n = len(tokens)
    while i < n:
        text = tokens[i][1]
        if text not in prefixes:
            i += 1
            continue
        best: tuple[int, str] | None = None
        j = i
        while True:
            if text in terms:
                best = (j + 1, text)
            j += 1
            if j >= n or j - i >= _MAX_SPAN:
                break
            text += tokens[j][1]
            if text not in prefixes:
                break
        if best is None:
            i += 1
            continue
        end, word = best
        matches.append(_Match(word, terms[word], i, end, base + tokens[i][0]))
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
    scoped: int = 0  # risk terms under a negation, a suppressor or a question's modal
    clauses: list[tuple[int, str]] = field(default_factory=list)  # (start, clause), split once
    evidence: list[tuple[int, str]] = field(default_factory=list)
    any_cue: bool = False

    def cue(self, intent: str, word: str) -> None:
        self.intents.setdefault(intent, []).append(word)


_QUESTION_MARK_NEXT = re.compile(r"\s*\?")


def _asks(text: str, clause_end: int, matches: list[_Match]) -> bool:
    """Is this clause a question: 吗/么 in it, or "?" right after it."""
    if any("inquiry" in m.info.intents and m.word in ("吗", "么") for m in matches):
        return True
    return _QUESTION_MARK_NEXT.match(text, clause_end) is not None


_second = operator.itemgetter(1)


def _scan(text: str, findings: _Findings) -> list[str]:
    """Lexicon pass over normalized text; returns all tokens (for the sentiment model)."""
    # Imports in the hot functions name a module, not a package: `from package import module`
    # runs importlib's Python-level _handle_fromlist on every call.
    from omnihub.feedback.segment import clause_spans, get_segmenter

    index = _get_index()
    all_tokens: list[str] = []
    eaten = False
    words = get_segmenter().words
    findings.clauses = clause_spans(text)
    for base, clause in findings.clauses:
        tokens = words(clause)
        all_tokens.extend(map(_second, tokens))
        matches = _match_clause(tokens, base, index)
        if not matches:
            continue
        asks: bool | None = None  # only a modal verb needs to know (see lexicon.QUESTION_MODALS)
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
            if info.modal and asks is None:
                asks = _asks(text, base + len(clause), matches)
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
                findings.scoped += 1
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


def signals(found: _Findings, norm: str) -> list[str]:
    """What the lexicon pass saw, as model features: the rules feed the trained heads."""
    out = [f"cue:{intent}" for intent, words in found.intents.items() if words]
    out.extend(f"topic:{t}" for t in found.topics)
    if found.high:
        out.append("high")
    if found.medium:
        out.append("medium")
    if found.problems:
        out.append("problem")
    if found.reassured:
        out.append("reassured")
    if "?" in norm:
        out.append("asked")
    if asks_unmarked(norm):
        out.append("asks_unmarked")
    out.extend(concept_signals(norm, [start for start, _ in found.clauses]))
    return out


@dataclass(frozen=True)
class _Concepts:
    pattern: re.Pattern[str]
    of_word: Mapping[str, tuple[str, ...]]


_concepts: _Concepts | None = None


def _get_concepts() -> _Concepts:
    global _concepts
    if _concepts is None:
        of_word: dict[str, tuple[str, ...]] = {}
        for name, words in lexicon.CONCEPTS.items():
            for w in words:
                of_word[w] = (*of_word.get(w, ()), name)
        ordered = sorted(of_word, key=lambda w: (-len(w), w))
        _concepts = _Concepts(re.compile("|".join(map(re.escape, ordered))), of_word)
    return _concepts


def concept_signals(norm: str, starts: Sequence[int]) -> set[str]:
    """Each lexicon concept in the text ("k:decay"), and each pair met in one clause
    ("k:decay&fruit"): the trained heads weigh them (see lexicon.CONCEPTS). One regular
    expression finds every concept word (longest first); a word counts for the clause it is in
    (`starts`: the clauses' offsets)."""
    concepts = _get_concepts()
    by_clause: dict[int, set[str]] = {}
    for m in concepts.pattern.finditer(norm):
        clause = bisect.bisect_right(starts, m.start())
        by_clause.setdefault(clause, set()).update(concepts.of_word[m.group()])
    found: set[str] = set()
    for here in by_clause.values():
        found.update(_concept_features(frozenset(here)))
    return found


_concept_cache: dict[frozenset[str], tuple[str, ...]] = {}


def _concept_features(names: frozenset[str]) -> tuple[str, ...]:
    """The features of the concepts met in one clause: each, and each pair. Few sets of
    concepts ever meet, so they are kept (at most 4,096, then begun anew)."""
    out = _concept_cache.get(names)
    if out is None:
        ordered = sorted(names)
        out = (
            *(f"k:{n}" for n in ordered),
            *(f"k:{a}&{b}" for i, a in enumerate(ordered) for b in ordered[i + 1 :]),
        )
        if len(_concept_cache) >= 4096:
            _concept_cache.clear()
        _concept_cache[names] = out
    return out


def featurize(text: str) -> tuple[str, _Findings, set[str]]:
    """Normalized text, the lexicon's findings and the heads' features of one text."""
    from omnihub.feedback.heads import features
    from omnihub.feedback.segment import normalize

    norm = normalize(text)
    found = _Findings()
    tokens = _scan(norm, found)
    clauses = [clause for _, clause in found.clauses]
    return norm, found, features(clauses, tokens, signals(found, norm))


def classify(text: str) -> Classification:
    """Classify one piece of feedback from any channel; never raises on any string."""
    from omnihub.feedback.heads import get_model

    norm, found, feats = featurize(text)
    return decide(norm, found, feats, get_model())


def decide(norm: str, found: _Findings, feats: set[str], model: HeadsModel) -> Classification:
    """The answer for a featurized text under one model: its heads' scores, then the rules.
    Reads `found` and never changes it, so training can pass one text through many candidate
    models (scripts/train_classifier.py chooses the thresholds on what this answers)."""
    from omnihub.feedback.heads import ASK_SIGNALS, TOPICS, sigmoid

    scores = model.score(feats)
    limits = model.thresholds
    if not norm.strip() or (scores.known == 0 and not found.any_cue):
        return _nothing_to_go_on(0.5, "neu", found, norm)
    says_little = scores.known < MIN_KNOWN and not found.any_cue
    if says_little and scores.risk["high"] < limits.risk_high:
        # Too little to name an intent or a topic; its tone still counts ("难闻": routing reads a
        # clearly negative `other` as a complaint).
        score = round(scores.sentiment, 4)
        return _nothing_to_go_on(
            score, _band(score, CLEAR_NEG_BELOW, 1 - CLEAR_NEG_BELOW), found, norm
        )

    reassured_only = bool(found.reassured) and not _names_problem(found)
    raw = scores.sentiment
    if reassured_only:
        raw = sigmoid(math.log(raw / (1.0 - raw)) + SHIFT_REASSURE)
    score = round(raw, 4)
    label: Sentiment = "neu" if scores.mixed >= limits.mixed else "pos" if score >= 0.5 else "neg"

    intent = _intent(scores, found, feats, score, norm)
    # Rules that stay rules: a food-safety term left standing is high (hedged or not); a text
    # whose defects are all negated or asked about ("没有异味", "米会生虫吗？") is never made
    # high by the model alone, and a question whether something is or could go wrong
    # ("放多久会坏？") needs the model to be sure. Medium stays the dictionary's quality defect
    # (胀袋, 结块, 不新鲜...), which routing reads.
    asking = not ASK_SIGNALS.isdisjoint(feats)
    worry = intent == "inquiry" and ASKS_WHETHER.search(norm) is not None
    model_high = (
        scores.risk["high"] >= (INQUIRY_HIGH if worry else limits.risk_high)
        and not (found.scoped and not found.high)
        # "油有点浑浊，是不是坏了？": asking about a look that has an innocent cause (peanut oil
        # clouds in the cold) is the dictionary's medium, not an alarm
        and not (asking and any(w in lexicon.RISK_MEDIUM["appearance"] for w in found.medium))
    )
    risk: Risk = "high" if found.high or model_high else "medium" if found.medium else "low"
    spots = list(found.evidence)
    if risk == "high" and not found.high:
        grams = [f for _, f in model.contributions(feats, "risk:high") if f[0] not in "\x01\x02"]
        spots.extend((norm.find(g), g) for g in grams[:2] if len(g) > 1)
    if "?" in norm and intent == "inquiry":
        spots.append((norm.index("?"), "?"))
    if found.high and not found.intents.get("praise"):
        score = min(score, HIGH_RISK_MAX_SCORE)  # a food-safety report is not good news
        label = "neu" if label == "neu" else "neg"
    if intent in ("inquiry", "suggestion") and label != "neu":
        label = _band(score, ASK_NEG_BELOW, ASK_POS_ABOVE)
    if intent == "complaint" and label == "neu" and score < 0.5:
        label = "neg"

    # Topics, primary first. Where the domain dictionary names topics (漏油, 结块, 胀袋...),
    # those, with the model's only where it is sure; elsewhere the model's.
    ranked = sorted(TOPICS, key=lambda t: -scores.topics[t])
    named = found.topics | ({"packaging"} if "leakage" in found.topics else set())
    floor = max(limits.topic, SURE_TOPIC) if named else limits.topic
    chosen: list[str] = [t for t in ranked if t in named or scores.topics[t] >= floor]
    chosen = chosen or [ranked[0]]
    chosen += sorted(named - set(chosen))  # leakage, product_info: the dictionary's own
    if intent == "other" and not found.topics:
        chosen = ["other"]

    intensity = _intensity(score, label, found, norm)
    evidence: list[str] = []
    for _, word in sorted(spots, key=lambda e: e[0]):
        if word and word not in evidence:
            evidence.append(word)
    return Classification(
        intent=intent,
        sentiment=label,
        score=score,
        intensity=intensity,
        topics=chosen,
        risk=risk,
        evidence=evidence,
    )


def _intent(scores: Any, found: _Findings, feats: set[str], score: float, norm: str) -> Intent:
    """The model's intent among those the rules allow (an inquiry asks, a suggestion wishes).

    Two more rules: a problem the domain dictionary names, not negated, makes a complaint even
    as a question ("漏油了怎么办？"); a text whose only defects are negated is no complaint.
    """
    from omnihub.feedback.heads import allowed_intents

    allowed = list(allowed_intents(feats))
    if found.reassured and not _names_problem(found):
        allowed[0] = False  # "没有异味，很新鲜" is no complaint
    intent: Intent = scores.top_intent(allowed)
    problem = _names_problem(found)
    if problem and intent == "inquiry":
        return "complaint"
    # The labelled set is mostly complaints, so the model leans that way on texts that say
    # little: without a named problem, a complaint must sound clearly negative and a praise
    # clearly positive; else the text is recorded as `other` ("第一次买", "好的", "没什么问题").
    if intent == "complaint" and not problem:
        asks_form = QUESTION_END.search(norm) or ASKS_HOW_LONG.search(norm)
        ends_asking = allowed[1] and asks_form and scores.intent["inquiry"] > 0.2
        if asks_unmarked_signal(feats) or ends_asking:
            return "inquiry"  # "你们有什么新品", "...是坏了吗": a question, whatever the tone
        if score > COMPLAINT_MAX_SCORE:
            return "other"
    if intent == "praise" and not found.intents.get("praise") and score < PRAISE_MIN_SCORE:
        return "other"
    return intent


def asks_unmarked_signal(feats: set[str]) -> bool:
    from omnihub.feedback.heads import SIGNAL

    return SIGNAL + "asks_unmarked" in feats


def _nothing_to_go_on(
    score: float, label: Sentiment, found: _Findings, norm: str
) -> Classification:
    return Classification(
        intent="other",
        sentiment=label,
        score=score,
        intensity=_intensity(score, label, found, norm),
        topics=["other"],
        risk="low",
        evidence=[],
    )


def _names_problem(found: _Findings) -> bool:
    """A risk, problem or complaint term the dictionary found standing (not negated)."""
    return bool(found.high or found.medium or found.problems or found.intents.get("complaint"))


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
