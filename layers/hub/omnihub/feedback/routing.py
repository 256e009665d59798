"""Routing: what happens to a piece of feedback once it is classified. Pure.

| reading | outcome | events |
|---|---|---|
| risk high (food safety) | P1 ticket | ticket.requested, alert.food_safety, acknowledgement |
| complaint | P2 ticket | ticket.requested, acknowledgement |
| inquiry the knowledge base answers | answered | notification.requested with the answer |
| inquiry it cannot answer | P3 ticket | ticket.requested, acknowledgement |
| suggestion | product board (P4: no ticket) | notification.requested (thanks) |
| praise | thanked | notification.requested (thanks) |
| anything else | kept | none |

The intent routed on is the classifier's, re-read by READINGS (data, first match wins; D52):
1-2 stars make a complaint (an inquiry too: the knowledge base's answer becomes a hint); a
text that asks without a question mark, left as `other` or as a complaint on tone alone, is a
question ("我的积分能换什么东西": answered, or a P3 ticket); a clearly negative text (sentiment
neg, intensity from NEGATIVE_TONE) that the classifier left as `other` or `suggestion` is a
complaint, whatever the stars ("这油炒菜一直冒烟，呛得不行"; a suggestion made in anger keeps its
place on the board too); 4-5 stars on a text that says nothing are praise. No negative reading
and no question is left without a person.

A further refinement, after the READINGS: a question about a subject the knowledge base
explains ("临期的能退吗", "怎么分辨新米和陈米", "油放冰箱后变浑浊了正常吗") is read as a
complaint because its subject is a medium-risk word. When every risk or problem word of the text
is a term of the one confident answer, nothing else complains and the stars do not either, the
customer asked about that subject and gets the answer. Food-safety reports are never answered
from the knowledge base: they always reach a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from omnihub.clock import iso
from omnihub.events.domain import DomainEvent
from omnihub.feedback import lexicon, segment
from omnihub.feedback.classifier import Classification, Intent, asks_unmarked
from omnihub.feedback.knowledge import KnowledgeBase, KnowledgeMatch, Lookup
from omnihub.feedback.model import Incoming

Priority = Literal["P1", "P2", "P3", "P4"]
Outcome = Literal[
    "food_safety",
    "complaint",
    "knowledge_answer",
    "unanswered_inquiry",
    "product_board",
    "praise",
    "recorded",
]
Purpose = Literal["ticket_acknowledgement", "knowledge_answer", "thanks"]

#: What the customer is told when a ticket is requested, by priority (4.4 targets).
ACKNOWLEDGEMENTS: Mapping[str, str] = {
    "P1": "您的反馈已受理，专员将在30分钟内联系您",
    "P2": "您的反馈已受理，专员将在2小时内联系您",
    "P3": "您的咨询已收到，客服将在2小时内（营业时间09:00–21:00）回复您",
}
THANKS_FOR_PRAISE = "感谢您的认可与支持！我们会继续用心做好每一粒米、每一滴油。"
THANKS_FOR_SUGGESTION = "感谢您的建议！我们已转交产品团队，会认真评估。"
#: P1 notifies these teams at once; a medium-risk complaint tells quality.
FOOD_SAFETY_TEAMS = ("quality", "supply_chain", "pr")
QUALITY_TEAM = ("quality",)
#: Who answers first when the feedback came through a store or a leader (首问负责).
FIRST_RESPONDER_BY_CHANNEL: Mapping[str, str] = {"pos": "store", "groupbuy": "leader"}
LOW_STARS = 2
HIGH_STARS = 4

_INQUIRY_CUES = frozenset(lexicon.INTENT_CUES["inquiry"]) | {"?"}
_COMPLAINT_CUES = frozenset(lexicon.INTENT_CUES["complaint"])
_DEFECT_TERMS = frozenset(lexicon.PROBLEM_TERMS).union(
    *(frozenset(words) for words in lexicon.RISK_MEDIUM.values())
)
_RISK_TERMS = frozenset(lexicon.DISCOMFORT_TERMS).union(
    *(frozenset(words) for words in lexicon.RISK_HIGH.values())
)
#: Evidence that says only what a text is about: topic words that are no defect, risk or
#: complaint word ("积分", "包装"). A complaint with nothing else rests on its tone alone.
_TOPIC_WORDS = (
    frozenset().union(*(frozenset(words) for words in lexicon.TOPIC_TERMS.values()))
    - _DEFECT_TERMS
    - _RISK_TERMS
    - _COMPLAINT_CUES
)
#: Words that ask without a question mark, and the phrases in which they do not (lexicon).
QUESTION_WORDS = lexicon.QUESTION_WORDS
NOT_ASKING = lexicon.NOT_ASKING
#: A reading the classifier left without a person is negative from this intensity on. Below it
#: the sentiment model's noise on short neutral texts ("收到" 0.31, "第一次买" 0.31).
NEGATIVE_TONE = 0.4

Condition = Literal["low_stars", "unmarked_question", "negative_tone", "high_stars"]


@dataclass(frozen=True)
class Reading:
    """One rule of how routing re-reads the classifier's intent (READINGS, first match wins)."""

    name: Condition
    intents: frozenset[Intent]
    becomes: Intent


READINGS: tuple[Reading, ...] = (
    # 1-2 stars: the customer is unhappy whatever the words (D27), and a canned answer alone
    # will not do ("多久能送到？" with one star: it has not come); a complaint stays one.
    Reading(
        "low_stars",
        frozenset({"praise", "other", "suggestion", "inquiry", "complaint"}),
        "complaint",
    ),
    # A question without a question mark ("我的积分能换什么东西"): the classifier left it as
    # `other`, or as a complaint on tone alone; either way nobody would have answered it. Before
    # the tone: the sentiment model reads questions as negative ("你们有什么新品").
    Reading("unmarked_question", frozenset({"other", "complaint"}), "inquiry"),
    # Clearly negative, and nothing else would bring a person: a complaint, whatever the stars
    # (a rating moves only texts that say nothing, D27; and a grievance is never thanked).
    Reading("negative_tone", frozenset({"other", "suggestion"}), "complaint"),
    # 4-5 stars on a text that says nothing: praise.
    Reading("high_stars", frozenset({"other"}), "praise"),
)


NO_KNOWLEDGE = Lookup(answer=None, candidates=())


@dataclass(frozen=True)
class TicketRequest:
    priority: Priority
    reason: Literal["food_safety", "complaint", "unanswered_inquiry"]
    acknowledgement: str
    notify_teams: tuple[str, ...] = ()


@dataclass(frozen=True)
class Notice:
    """A text to send the customer (notification.requested)."""

    purpose: Purpose
    text: str
    priority: Priority | None = None
    knowledge_entry: str | None = None


@dataclass(frozen=True)
class Route:
    outcome: Outcome
    priority: Priority | None
    ticket: TicketRequest | None = None
    alert: bool = False
    notices: tuple[Notice, ...] = ()
    board: bool = False
    knowledge: Lookup = NO_KNOWLEDGE
    #: The READINGS rule that changed the classifier's intent, if one did.
    reading: Condition | None = None

    @property
    def knowledge_entry(self) -> str | None:
        """The entry the customer was answered from, if any."""
        answer = self.knowledge.answer
        return answer.entry_id if answer and self.outcome == "knowledge_answer" else None


def _ticket(
    priority: Priority,
    reason: Literal["food_safety", "complaint", "unanswered_inquiry"],
    knowledge: Lookup,
    teams: tuple[str, ...] = (),
) -> Route:
    outcome: Outcome = reason
    acknowledgement = ACKNOWLEDGEMENTS[priority]
    return Route(
        outcome=outcome,
        priority=priority,
        ticket=TicketRequest(priority, reason, acknowledgement, teams),
        alert=reason == "food_safety",
        notices=(Notice("ticket_acknowledgement", acknowledgement, priority),),
        knowledge=knowledge,
    )


def _answered(answer: KnowledgeMatch, knowledge: Lookup) -> Route:
    return Route(
        outcome="knowledge_answer",
        priority=None,
        notices=(Notice("knowledge_answer", answer.answer, knowledge_entry=answer.entry_id),),
        knowledge=knowledge,
    )


def asks_about_known_subject(
    c: Classification, text: str, knowledge: Lookup, rating: int | None
) -> bool:
    """A medium-risk 'complaint' that is really a question the knowledge base answers."""
    answer = knowledge.answer
    if answer is None or c.intent != "complaint" or c.risk != "medium":
        return False
    if rating is not None and rating <= LOW_STARS:
        return False
    asks = "?" in segment.normalize(text) or any(e in _INQUIRY_CUES for e in c.evidence)
    complains = any(e in _COMPLAINT_CUES for e in c.evidence)
    defects = [e for e in c.evidence if e in _DEFECT_TERMS]
    return asks and not complains and bool(defects) and set(defects) <= set(answer.terms)


def _holds(name: Condition, c: Classification, feedback: Incoming) -> bool:
    stars = feedback.rating
    if name == "low_stars":
        return stars is not None and stars <= LOW_STARS
    if name == "high_stars":
        return stars is not None and stars >= HIGH_STARS
    if name == "negative_tone":
        return c.sentiment == "neg" and c.intensity >= NEGATIVE_TONE and not _reassures(c)
    tone_only = c.intent == "other" or complains_by_tone_alone(c)
    return tone_only and asks(feedback.text)


def _reassures(c: Classification) -> bool:
    """A negated defect in the evidence ("没有破损也没有漏油"): good news, not a grievance."""
    return any(e != n and e.startswith(n) for e in c.evidence for n in lexicon.NEGATIONS)


def complains_by_tone_alone(c: Classification) -> bool:
    """A complaint with no risk, defect or complaint word: only the sentiment model said so."""
    return (
        c.intent == "complaint" and c.risk == "low" and all(e in _TOPIC_WORDS for e in c.evidence)
    )


def asks(text: str) -> bool:
    """The text asks something, and not rhetorically."""
    return asks_unmarked(segment.normalize(text))


def reading(c: Classification, feedback: Incoming) -> tuple[Intent, Condition | None]:
    """The intent routing acts on, and the READINGS rule that set it (None: the classifier's)."""
    for rule in READINGS:
        if c.intent in rule.intents and _holds(rule.name, c, feedback):
            return rule.becomes, rule.name
    return c.intent, None


def route(c: Classification, feedback: Incoming, kb: KnowledgeBase) -> Route:
    """Decide where one classified piece of feedback goes (table in the module docstring)."""
    if c.risk == "high":
        return _ticket("P1", "food_safety", NO_KNOWLEDGE, FOOD_SAFETY_TEAMS)
    intent, why = reading(c, feedback)
    decided = _route(intent, c, feedback, kb)
    if intent != c.intent:
        decided = replace(decided, reading=why)
    if c.intent == "suggestion" and intent == "complaint":
        decided = replace(decided, board=True)  # the product team still hears the idea
    return decided


def _route(intent: Intent, c: Classification, feedback: Incoming, kb: KnowledgeBase) -> Route:
    knowledge = kb.lookup(feedback.text) if intent in ("complaint", "inquiry") else NO_KNOWLEDGE
    stars = feedback.rating
    if intent == "complaint":
        if knowledge.answer and asks_about_known_subject(c, feedback.text, knowledge, stars):
            return _answered(knowledge.answer, knowledge)
        teams = QUALITY_TEAM if c.risk == "medium" else ()
        return _ticket("P2", "complaint", knowledge, teams)
    if intent == "inquiry":
        if knowledge.answer is not None:
            return _answered(knowledge.answer, knowledge)
        return _ticket("P3", "unanswered_inquiry", knowledge)
    if intent == "suggestion":
        return Route(
            outcome="product_board",
            priority="P4",
            notices=(Notice("thanks", THANKS_FOR_SUGGESTION),),
            board=True,
        )
    if intent == "praise":
        return Route(
            outcome="praise", priority=None, notices=(Notice("thanks", THANKS_FOR_PRAISE),)
        )
    return Route(outcome="recorded", priority=None)


def first_responder(feedback: Incoming) -> dict[str, Any] | None:
    """The store or leader who took the feedback (首问负责), by channel.

    feedback.received names neither the store nor the leader, so `id` stays null
    here; the ticket service fills it from the order (`order_id`) when it has one.
    """
    role = FIRST_RESPONDER_BY_CHANNEL.get(feedback.channel)
    if role is None and feedback.kind == "store_note":
        role = "store"
    if role is None:
        return None
    return {"role": role, "channel": feedback.channel, "id": None, "order_id": feedback.order_id}


def _about(feedback: Incoming, c: Classification) -> dict[str, Any]:
    return {
        "feedback_id": feedback.feedback_id,
        "channel": feedback.channel,
        "kind": feedback.kind,
        "topics": list(c.topics),
        "risk": c.risk,
        "evidence": list(c.evidence),
        "sku": feedback.sku,
        "batch_no": feedback.batch_no,
        "order_id": feedback.order_id,
    }


def routing_events(
    decided: Route,
    c: Classification,
    feedback: Incoming,
    member_id: str | None,
    now: datetime,
    via: str | None = None,
) -> list[DomainEvent]:
    """The domain events a route publishes; ids derive from the feedback, so a replay that
    somehow got this far would publish the same ids. A ticket request carries `via`, the
    lineage of the identity that brought the feedback, so the ticket follows an un-merge too."""

    def event(kind: str, subject: str, data: dict[str, Any]) -> DomainEvent:
        return DomainEvent(
            type=kind,
            member_id=member_id,
            causing_event_id=feedback.causing_event_id,
            occurred_at=now,
            data=data,
            subject=subject,
        )

    events: list[DomainEvent] = []
    received_at = iso(feedback.received_at)
    ticket = decided.ticket
    if ticket is not None:
        events.append(
            event(
                "ticket.requested",
                feedback.ref,
                {
                    **_about(feedback, c),
                    "priority": ticket.priority,
                    "reason": ticket.reason,
                    "member_id": member_id,
                    "via": via,
                    "intent": c.intent,
                    "sentiment": c.sentiment,
                    "intensity": c.intensity,
                    "rating": feedback.rating,
                    "first_responder": first_responder(feedback),
                    "acknowledgement": ticket.acknowledgement,
                    "notify_teams": list(ticket.notify_teams),
                    "knowledge_entries": list(decided.knowledge.candidates),
                    "received_at": received_at,
                },
            )
        )
    if decided.alert:
        events.append(
            event(
                "alert.food_safety",
                feedback.ref,
                {
                    **_about(feedback, c),
                    "priority": "P1",
                    "member_id": member_id,
                    "notify_teams": list(FOOD_SAFETY_TEAMS),
                    "received_at": received_at,
                },
            )
        )
    for notice in decided.notices:
        events.append(
            event(
                "notification.requested",
                f"{notice.purpose}|{feedback.ref}",
                {
                    "purpose": notice.purpose,
                    "text": notice.text,
                    "member_id": member_id,
                    "channel": feedback.channel,
                    "feedback_id": feedback.feedback_id,
                    "kind": feedback.kind,
                    "priority": notice.priority,
                    "knowledge_entry": notice.knowledge_entry,
                },
            )
        )
    return events
