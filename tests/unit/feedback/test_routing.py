"""Routing and receiving feedback on an in-memory store: who gets what, once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from omnihub.clock import VirtualClock
from omnihub.feedback.classifier import classify
from omnihub.feedback.knowledge import default_knowledge_base
from omnihub.feedback.model import Incoming
from omnihub.feedback.routing import ACKNOWLEDGEMENTS, route, routing_events
from omnihub.feedback.service import follow_member, forget, receive
from omnihub.identity.chain import live_root
from omnihub.identity.model import Member
from omnihub.identity.resolver import Resolution
from tests.fakes.feedback_store import FakeFeedbackStore
from tests.fakes.member_store import FakeMemberStore

NOW = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
KB = default_knowledge_base()
RANCID = "花生油有哈喇味，怀疑变质了"
LEAKING = "油桶漏油了，箱子里全是油"
SMOKE_POINT = "高油酸花生油的烟点是多少？"


def incoming(text: str, n: int = 1, channel: str = "tmall", **fields: object) -> Incoming:
    base: dict[str, object] = {
        "channel": channel,
        "feedback_id": f"FB-{n}",
        "text": text,
        "kind": "review",
        "causing_event_id": f"{channel}:ev-{n}",
        "occurred_at": NOW,
        "received_at": NOW,
    }
    base.update(fields)
    return Incoming(**base)  # type: ignore[arg-type]


def routed(text: str, **fields: object):
    feedback = incoming(text, **fields)
    c = classify(text)
    decided = route(c, feedback, KB)
    return decided, {e.type: e for e in routing_events(decided, c, feedback, "mbr_1", NOW)}


# --- the table of the routing module --------------------------------------------------------


def test_a_food_safety_report_is_a_p1_ticket_with_an_alert_naming_the_batch() -> None:
    decided, events = routed(RANCID, sku="OIL-PN-1L8", batch_no="B20260901", order_id="SO1")
    assert (decided.outcome, decided.priority, decided.alert) == ("food_safety", "P1", True)
    ticket = events["ticket.requested"].data
    assert ticket["priority"] == "P1"
    assert ticket["reason"] == "food_safety"
    assert ticket["notify_teams"] == ["quality", "supply_chain", "pr"]
    assert (ticket["sku"], ticket["batch_no"], ticket["order_id"]) == (
        "OIL-PN-1L8",
        "B20260901",
        "SO1",
    )
    assert {"哈喇味", "变质"} <= set(ticket["evidence"])
    alert = events["alert.food_safety"].data
    assert (alert["batch_no"], alert["sku"], alert["risk"]) == ("B20260901", "OIL-PN-1L8", "high")
    assert "哈喇味" in alert["evidence"]
    ack = events["notification.requested"].data
    assert (ack["purpose"], ack["text"]) == (
        "ticket_acknowledgement",
        "您的反馈已受理，专员将在30分钟内联系您",
    )


def test_a_leaking_bottle_is_a_p2_complaint_without_an_alert() -> None:
    decided, events = routed(LEAKING, sku="OIL-PN-5L")
    assert (decided.outcome, decided.priority, decided.alert) == ("complaint", "P2", False)
    assert events["ticket.requested"].data["priority"] == "P2"
    assert "alert.food_safety" not in events
    assert events["notification.requested"].data["text"] == "您的反馈已受理，专员将在2小时内联系您"


def test_an_inquiry_the_knowledge_base_answers_gets_the_answer_and_no_ticket() -> None:
    decided, events = routed(SMOKE_POINT)
    assert (decided.outcome, decided.priority) == ("knowledge_answer", None)
    assert set(events) == {"notification.requested"}
    notice = events["notification.requested"].data
    assert notice["purpose"] == "knowledge_answer"
    assert notice["knowledge_entry"] == "smoke_point.high_oleic_peanut_oil"
    assert "230℃" in notice["text"]
    assert decided.knowledge_entry == "smoke_point.high_oleic_peanut_oil"


def test_an_inquiry_it_cannot_answer_is_a_p3_ticket_for_business_hours() -> None:
    decided, events = routed("你们周末门店几点关门？")
    assert (decided.outcome, decided.priority) == ("unanswered_inquiry", "P3")
    assert events["ticket.requested"].data["reason"] == "unanswered_inquiry"
    assert "09:00–21:00" in events["notification.requested"].data["text"]


def test_a_suggestion_goes_to_the_product_board_without_a_ticket() -> None:
    decided, events = routed("希望出个两斤装的小包装大米")
    assert (decided.outcome, decided.priority, decided.board) == ("product_board", "P4", True)
    assert set(events) == {"notification.requested"}
    assert events["notification.requested"].data["purpose"] == "thanks"


def test_praise_is_thanked() -> None:
    decided, events = routed("米很香，孩子爱吃，下次还买")
    assert (decided.outcome, decided.ticket) == ("praise", None)
    assert set(events) == {"notification.requested"}
    assert "感谢" in events["notification.requested"].data["text"]


def test_low_stars_turn_a_neutral_or_praising_text_into_a_complaint() -> None:
    assert routed("收到了", rating=1)[0].priority == "P2"
    assert routed("米很香，孩子爱吃，下次还买", rating=2)[0].priority == "P2"
    assert routed("收到了", rating=5)[0].outcome == "praise"
    assert routed("收到了")[0].outcome == "recorded"
    assert routed("收到了")[1] == {}


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("临期的能退吗", "returns.near_expiry"),
        ("怎么分辨新米和陈米？", "quality.new_rice"),
        ("油放冰箱后变浑浊了正常吗", "quality.peanut_oil_cold"),
    ],
)
def test_a_question_about_a_subject_the_knowledge_base_explains_is_answered(
    text: str, entry: str
) -> None:
    assert classify(text).intent == "complaint"  # the classifier's reading, corrected here
    decided, events = routed(text)
    assert decided.outcome == "knowledge_answer"
    assert events["notification.requested"].data["knowledge_entry"] == entry


def test_the_same_question_with_one_star_or_a_spoilage_word_reaches_a_person() -> None:
    assert routed("临期的能退吗", rating=1)[0].priority == "P2"
    assert routed("油有点浑浊，是不是坏了？")[0].priority == "P2"
    assert routed("冬天花生油凝固了，有股哈喇味，是坏了吗？")[0].priority == "P1"


def test_a_medium_risk_complaint_also_tells_quality() -> None:
    decided, events = routed("大米胀袋了")
    assert decided.priority == "P2"
    assert events["ticket.requested"].data["notify_teams"] == ["quality"]


@pytest.mark.parametrize(
    ("channel", "kind", "role"),
    [("pos", "review", "store"), ("groupbuy", "chat", "leader"), ("wecom", "store_note", "store")],
)
def test_a_store_or_leader_that_took_the_feedback_is_its_first_responder(
    channel: str, kind: str, role: str
) -> None:
    _, events = routed(LEAKING, channel=channel, kind=kind, order_id="SO9")
    responder = events["ticket.requested"].data["first_responder"]
    assert responder == {"role": role, "channel": channel, "id": None, "order_id": "SO9"}


def test_online_feedback_has_no_first_responder() -> None:
    assert routed(LEAKING)[1]["ticket.requested"].data["first_responder"] is None


def test_event_ids_derive_from_the_feedback_and_differ_by_kind() -> None:
    first = routed(RANCID, batch_no="B1")[1]
    again = routed(RANCID, batch_no="B1")[1]
    assert {k: e.event_id for k, e in first.items()} == {k: e.event_id for k, e in again.items()}
    assert len({e.event_id for e in first.values()}) == 3


def test_no_event_carries_the_customers_words() -> None:
    text = "我是张三电话13800000001，花生油有哈喇味"
    _, events = routed(text, batch_no="B1")
    for event in events.values():
        dumped = json.dumps(event.detail(), ensure_ascii=False)
        assert "13800000001" not in dumped
        assert "张三" not in dumped


def test_acknowledgements_name_each_priority_target() -> None:
    assert "30分钟" in ACKNOWLEDGEMENTS["P1"]
    assert "2小时" in ACKNOWLEDGEMENTS["P2"]
    assert "2小时" in ACKNOWLEDGEMENTS["P3"]


# --- receiving: once, for a live member ------------------------------------------------------


def test_receiving_keeps_the_feedback_and_publishes_its_route_once() -> None:
    store = FakeFeedbackStore()
    clock = VirtualClock(NOW)
    first = receive(store, incoming(RANCID, batch_no="B1"), lambda: "mbr_1", clock)
    assert first.recorded
    published = dict(store.published)
    assert {e.type for e in published.values()} == {
        "ticket.requested",
        "alert.food_safety",
        "notification.requested",
    }
    clock.advance(timedelta(minutes=5))
    replay = receive(store, incoming(RANCID, batch_no="B1"), lambda: "mbr_1", clock)
    assert not replay.recorded
    assert store.published == published
    assert store.writes == 1


def test_the_record_keeps_the_text_and_the_file_shows_only_the_reading() -> None:
    store = FakeFeedbackStore()
    receive(store, incoming(LEAKING), lambda: "mbr_1", VirtualClock(NOW))
    assert store.text_of("tmall:FB-1") == LEAKING
    (summary,) = store.recent_feedback("mbr_1", 10)
    assert summary["intent"] == "complaint"
    assert summary["priority"] == "P2"
    assert LEAKING not in json.dumps(summary, ensure_ascii=False)


def test_a_member_merged_before_the_write_is_resolved_again() -> None:
    live = {"mbr_old": False, "mbr_new": True}
    answers = iter(["mbr_old", "mbr_new"])
    store = FakeFeedbackStore(member_is_live=lambda m: live[m])
    received = receive(store, incoming(LEAKING), lambda: next(answers), VirtualClock(NOW))
    assert received.member_id == "mbr_new"
    assert {e.member_id for e in store.published.values()} == {"mbr_new"}
    assert store.records["tmall:FB-1"].member_id == "mbr_new"


def test_feedback_without_a_usable_identity_is_still_kept_and_routed() -> None:
    store = FakeFeedbackStore()
    received = receive(store, incoming(LEAKING), lambda: None, VirtualClock(NOW))
    assert received.recorded
    assert received.member_id is None
    assert store.events_of("ticket.requested")[0].data["member_id"] is None


# --- merges and erasure ------------------------------------------------------------------------


def _members(*members: Member) -> FakeMemberStore:
    return FakeMemberStore(member_rows={m.member_id: m for m in members})


def test_feedback_follows_a_merge_to_the_end_of_the_chain() -> None:
    members = _members(
        Member("mbr_a", "2026-01-01T00:00:00.000Z", merged_into="mbr_b"),
        Member("mbr_b", "2026-01-01T00:00:00.000Z", merged_into="mbr_c"),
        Member("mbr_c", "2026-01-01T00:00:00.000Z"),
    )
    store = FakeFeedbackStore()
    receive(store, incoming(LEAKING), lambda: "mbr_a", VirtualClock(NOW))
    assert live_root(members, "mbr_b") == ("mbr_c", False)
    assert follow_member(store, members, "mbr_a") == 1
    assert follow_member(store, members, "mbr_a") == 0
    assert [f["feedback_id"] for f in store.recent_feedback("mbr_c", 10)] == ["FB-1"]
    assert store.recent_feedback("mbr_a", 10) == []


def test_feedback_merged_into_an_erased_member_loses_its_text() -> None:
    members = _members(
        Member("mbr_a", "2026-01-01T00:00:00.000Z", merged_into="mbr_b"),
        Member("mbr_b", "2026-01-01T00:00:00.000Z", erased_at="2026-11-10T00:00:00.000Z"),
    )
    store = FakeFeedbackStore()
    receive(store, incoming(LEAKING), lambda: Resolution("mbr_a", via=PHONE), VirtualClock(NOW))
    follow_member(store, members, "mbr_a")
    assert store.text_of("tmall:FB-1") is None
    assert store.records["tmall:FB-1"].via is None  # no lineage left on an erased member


def test_erasure_drops_the_texts_and_keeps_the_readings() -> None:
    store = FakeFeedbackStore()
    clock = VirtualClock(NOW)
    receive(store, incoming(LEAKING, 1), lambda: "mbr_1", clock)
    receive(store, incoming(SMOKE_POINT, 2), lambda: "mbr_1", clock)
    receive(store, incoming(RANCID, 3), lambda: "mbr_2", clock)
    assert forget(store, "mbr_1", clock) == 2
    assert store.text_of("tmall:FB-1") is None
    assert store.text_of("tmall:FB-2") is None
    assert store.text_of("tmall:FB-3") == RANCID
    assert len(store.recent_feedback("mbr_1", 10)) == 2


# --- the lineage that brought it: un-merges and erasure -----------------------------------------

PHONE = "phone|k-phone"
UNIONID = "wechat_unionid|k-union"


def test_the_record_and_its_ticket_request_keep_the_lineage_that_brought_the_feedback() -> None:
    store = FakeFeedbackStore()
    receive(store, incoming(LEAKING), lambda: Resolution("mbr_1", via=UNIONID), VirtualClock(NOW))
    assert store.records["tmall:FB-1"].via == UNIONID
    (request,) = store.events_of("ticket.requested")
    assert (request.data["member_id"], request.data["via"]) == ("mbr_1", UNIONID)


def _split() -> FakeMemberStore:
    """R absorbed B (whose identity was the unionid), then an admin split it out into N."""
    return FakeMemberStore(
        member_rows={
            "mbr_r": Member("mbr_r", "2026-01-01T00:00:00.000Z"),
            "mbr_b": Member("mbr_b", "2026-01-02T00:00:00.000Z", merged_into="mbr_r"),
            "mbr_n": Member("mbr_n", "2026-11-11T00:00:00.000Z", split_from="mbr_r"),
        },
        claim_rows={("phone", "k-phone"): "mbr_r", ("wechat_unionid", "k-union"): "mbr_n"},
    )


def test_an_unmerge_takes_the_feedback_its_identity_brought_and_leaves_the_rest() -> None:
    store = FakeFeedbackStore()
    clock = VirtualClock(NOW)
    receive(store, incoming(LEAKING, 1), lambda: Resolution("mbr_r", via=PHONE), clock)
    receive(store, incoming(SMOKE_POINT, 2), lambda: Resolution("mbr_r", via=UNIONID), clock)
    receive(store, incoming(RANCID, 3), lambda: "mbr_r", clock)  # no lineage: stays
    members = _split()
    assert follow_member(store, members, "mbr_r") == 1
    assert [f["feedback_id"] for f in store.recent_feedback("mbr_n", 10)] == ["FB-2"]
    assert sorted(f["feedback_id"] for f in store.recent_feedback("mbr_r", 10)) == [
        "FB-1",
        "FB-3",
    ]
    assert follow_member(store, members, "mbr_r") == 0


def test_a_merge_handled_after_the_unmerge_does_not_drag_the_feedback_back() -> None:
    store = FakeFeedbackStore()
    receive(
        store, incoming(SMOKE_POINT), lambda: Resolution("mbr_b", via=UNIONID), VirtualClock(NOW)
    )
    members = _split()
    assert follow_member(store, members, "mbr_r") == 0  # the un-merge first: nothing on R yet
    assert follow_member(store, members, "mbr_b") == 1  # R<-B, late
    assert store.records["tmall:FB-1"].member_id == "mbr_n"


def test_erasure_clears_the_lineage_of_the_members_feedback() -> None:
    store = FakeFeedbackStore()
    clock = VirtualClock(NOW)
    receive(store, incoming(LEAKING, 1), lambda: Resolution("mbr_1", via=PHONE), clock)
    receive(store, incoming(RANCID, 2), lambda: Resolution("mbr_2", via=UNIONID), clock)
    forget(store, "mbr_1", clock)
    assert store.records["tmall:FB-1"].via is None
    assert store.records["tmall:FB-2"].via == UNIONID
