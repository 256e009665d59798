"""The knowledge base as data (issue 15, D84): the feedback consumer answers from the
KnowledgeTable (seeded from seed/knowledge.json), and an entry added through the local stack
answers its question at once, without a restart."""

from __future__ import annotations

import json

from devstack.server import LocalHelpers
from tests.integration.test_feedback_flow import domain_events, feedback, post, settle

GIFT_CARD = {
    "id": "service.gift_card",
    "title": "礼品卡使用",
    "subject": ["礼品卡", "提货卡"],
    "attribute": ["怎么用", "如何使用", "怎么使用", "在哪用"],
    "answer": "礼品卡可在小程序「我的-礼品卡」绑定后下单抵扣，也可到门店出示使用。",
    "examples": ["礼品卡怎么用？"],
}


def _notices(stack) -> dict[str, dict]:
    return {
        n["data"]["feedback_id"]: n["data"] for n in domain_events(stack, "notification.requested")
    }


def _put(stack, entry: object) -> tuple[int, dict]:
    body = json.dumps({"entry": entry}, ensure_ascii=False).encode()
    answer = LocalHelpers(stack).handle("POST", "/_local/knowledge", body)
    assert answer is not None
    return answer.status, json.loads(answer.body)


def test_the_local_stack_starts_with_the_seed_in_the_table(stack):
    items = stack.client("dynamodb").query(
        TableName=stack.table_name("KnowledgeTable"),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "faq"}},
    )["Items"]
    keys = {item["sk"]["S"] for item in items}
    assert {"entry#points.redeem", "filler"} <= keys


def test_a_new_entry_answers_its_question_without_a_restart(stack):
    post(stack, feedback("k1", "礼品卡怎么用？", phone="13800000081"))
    settle(stack)
    assert _notices(stack)["FB-k1"]["purpose"] == "ticket_acknowledgement"  # cached, no entry

    assert _put(stack, GIFT_CARD) == (200, {"entry_id": "service.gift_card"})
    post(stack, feedback("k2", "礼品卡怎么用", phone="13800000082"))
    settle(stack)
    notice = _notices(stack)["FB-k2"]
    assert (notice["purpose"], notice["knowledge_entry"]) == ("knowledge_answer", GIFT_CARD["id"])
    assert notice["text"] == GIFT_CARD["answer"]


def test_an_invalid_entry_is_refused_naming_the_field_and_nothing_is_written(stack):
    status, body = _put(stack, {**GIFT_CARD, "id": "service.broken", "attribute": []})
    assert status == 422
    assert [d["field"] for d in body["error"]["details"]] == ["entry.attribute"]
    status, body = _put(stack, {**GIFT_CARD, "implied_by": ["烟点"]})
    assert (status, body["error"]["details"][0]["field"]) == (422, "entry")
    got = stack.client("dynamodb").get_item(
        TableName=stack.table_name("KnowledgeTable"),
        Key={"pk": {"S": "faq"}, "sk": {"S": "entry#service.broken"}},
    )
    assert "Item" not in got
