"""Behaviour of the feedback classifier: risk, negation, hedging, topics, intents."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from omnihub.feedback import heads, lexicon, segment
from omnihub.feedback.classifier import Classification, classify, decide, featurize

RISK_CASES = Path(__file__).with_name("risk_cases.jsonl")


# --- the contract's examples --------------------------------------------------------------------


def test_rancid_oil_is_high_risk_negative_complaint() -> None:
    result = classify("花生油有哈喇味")
    assert result.risk == "high"
    assert result.sentiment == "neg"
    assert result.intent == "complaint"
    assert "taste_quality" in result.topics
    assert result.evidence == ["哈喇味"]


def test_leaking_oil_is_a_leakage_complaint_without_safety_risk() -> None:
    result = classify("油桶漏油了，箱子里全是油")
    assert result.intent == "complaint"
    assert result.sentiment == "neg"
    assert "leakage" in result.topics
    assert result.risk == "low"
    assert "漏油" in result.evidence


def test_swollen_bag_is_medium_risk_packaging() -> None:
    result = classify("大米胀袋了")
    assert result.risk == "medium"
    assert "packaging" in result.topics
    assert result.intent == "complaint"
    assert "胀袋" in result.evidence


def test_insects_are_high_risk() -> None:
    result = classify("米里生虫了")
    assert result.risk == "high"
    assert "生虫" in result.evidence
    assert "storage" in result.topics


def test_caking_is_medium_risk_storage() -> None:
    result = classify("面粉结块了")
    assert result.risk == "medium"
    assert "storage" in result.topics
    assert "结块" in result.evidence


def test_small_packs_taking_up_moisture_is_a_storage_topic() -> None:
    result = classify("小包装米易受潮")
    assert "storage" in result.topics
    assert result.risk != "high"


def test_example_sentences_keep_domain_words_whole() -> None:
    tokens = segment.tokenize("五常大米和花生油，一个受潮一个漏油")
    assert {"五常大米", "花生油", "受潮", "漏油"} <= set(tokens)


# --- negation, hedging, and not crying wolf ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("没有异味", "没有异味"),
        ("米没发霉", "没发霉"),
        ("无异物，很干净", "无异物"),
        ("没有发现虫子", "没有发现虫子"),
        ("油很清亮，没有任何哈喇味", "没有任何哈喇味"),
        ("请问大米怎么储存才不会生虫?", "不会生虫"),
        ("怎样防止面粉受潮结块？", "防止面粉受潮结块"),
    ],
)
def test_negation_suppresses_risk_in_its_clause(text: str, span: str) -> None:
    result = classify(text)
    assert result.risk == "low"
    assert span in result.evidence


@pytest.mark.parametrize(
    ("text", "hedge", "term"),
    [
        ("怀疑变质", "怀疑", "变质"),
        ("好像有虫", "好像", "虫"),
        ("感觉油有点哈喇味", "感觉", "哈喇味"),
        ("疑似霉变", "疑似", "霉变"),
        ("是不是过期了？", "是不是", "过期"),
    ],
)
def test_hedging_keeps_risk(text: str, hedge: str, term: str) -> None:
    result = classify(text)
    assert result.risk == "high"
    assert result.sentiment == "neg"
    assert result.evidence.index(hedge) < result.evidence.index(term)


@pytest.mark.parametrize(
    "text",
    [
        "米有点霉味，但是包装没有破损",  # the negation is in another clause
        "没有破损但是有异味",  # the contrast ends the negation's reach
        "不到一周就发霉了",  # 不到 is not a negation of 发霉
        "发现不少米虫",  # 不少 means "many"
        "没想到里面有虫子",  # 没想到 means "unexpectedly"
        "没有异味 有虫",  # a space is a clause boundary too
        "没怎么吃，过了两天发现有很多虫",
    ],
)
def test_negation_does_not_reach_beyond_its_scope(text: str) -> None:
    assert classify(text).risk == "high"


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("碗摔碎了", "logistics"),
        ("水果有点磕碰", "logistics"),
        ("包装盒压坏了", "packaging"),
        ("玻璃瓶碎了", "logistics"),
        ("优惠券过期了", "price"),
        ("客服态度恶心", "service"),
    ],
)
def test_no_crying_wolf_on_non_food_damage(text: str, topic: str) -> None:
    result = classify(text)
    assert result.risk == "low"
    assert result.intent == "complaint"
    assert result.sentiment == "neg"
    assert topic in result.topics


def test_expiry_of_food_is_high_but_of_points_is_not() -> None:
    assert classify("收到的油已经过期了").risk == "high"
    assert classify("积分过期了").risk == "low"


def test_discomfort_is_high_only_after_eating() -> None:
    assert classify("吃了以后一直恶心想吐").risk == "high"
    assert classify("这种态度真让人恶心").risk == "low"


def test_simile_is_not_a_foreign_object() -> None:
    assert classify("米饭硬得像石头").risk == "low"
    assert classify("米里有石头").risk == "high"


def test_generic_question_about_insects_is_not_a_report() -> None:
    assert classify("米会生虫吗？").risk == "low"
    assert classify("米生虫了怎么办？").risk == "high"


def test_risk_cases_file_is_classified_as_labelled() -> None:
    cases = [json.loads(line) for line in RISK_CASES.read_text(encoding="utf-8").splitlines()]
    assert len(cases) >= 60
    wrong = [(c["text"], c["risk"], classify(c["text"]).risk) for c in cases]
    wrong = [w for w in wrong if w[1] != w[2]]
    assert wrong == []


# --- topics -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("包装袋破了", "packaging"),
        ("油洒了一箱子", "leakage"),
        ("快递三天才到，太慢了", "logistics"),
        ("米饭口感很软糯", "taste_quality"),
        ("开封后怎么保存比较好", "storage"),
        ("价格比超市便宜", "price"),
        ("客服回复很及时", "service"),
        ("这款油的烟点是多少", "product_info"),
    ],
)
def test_each_topic(text: str, topic: str) -> None:
    assert topic in classify(text).topics


def test_topics_are_sorted_and_other_when_nothing_matches() -> None:
    assert classify("收到了").topics == ["other"]
    topics = classify("物流很快，包装完好，米也好吃").topics
    assert topics == sorted(topics)
    assert {"logistics", "packaging", "taste_quality"} <= set(topics)


# --- intents ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("物流太慢了，差评", "complaint"),
        ("请问这个米保质期多久？", "inquiry"),
        ("花生油能不能用来凉拌", "inquiry"),
        ("建议出个小包装", "suggestion"),
        ("希望以后能有更小的包装", "suggestion"),
        ("米饭软糯香甜，一家人都爱吃，还会再买", "praise"),
        ("收到了", "other"),
        ("漏油了怎么办？", "complaint"),  # a question about a defect is a complaint
    ],
)
def test_each_intent(text: str, intent: str) -> None:
    assert classify(text).intent == intent


def test_inquiry_is_neutral_and_points_at_the_question() -> None:
    result = classify("这个油的烟点是多少？")
    assert result.sentiment == "neu"
    assert result.evidence[-1] == "?"
    assert "烟点" in result.evidence


def test_praise_is_positive() -> None:
    result = classify("五常大米很香，软糯好吃，还会再买")
    assert result.sentiment == "pos"
    assert result.score > 0.6
    assert result.risk == "low"


def test_negated_praise_counts_against() -> None:
    result = classify("米饭不好吃，一点都不香")
    assert result.sentiment == "neg"
    assert result.intent == "complaint"


def test_negated_defects_alone_are_no_complaint() -> None:
    result = classify("没有破损也没有漏油")
    assert result.intent != "complaint"
    assert result.risk == "low"


# --- sentiment, intensity, evidence -----------------------------------------------------------


def test_text_without_signal_is_neutral_at_one_half() -> None:
    for text in ("", "   ", "!!!", "🙂", "ꙮꙮꙮꙮ"):  # ("qq" is a word the model knows)
        result = classify(text)
        assert result.sentiment == "neu", text
        assert result.score == 0.5
        assert result.topics == ["other"]


def test_degree_words_and_exclamations_raise_intensity() -> None:
    mild = classify("米有点硬")
    strong = classify("米非常非常难吃！！！")
    assert strong.intensity > mild.intensity


def test_evidence_is_in_order_of_appearance_without_duplicates() -> None:
    result = classify("包装破了，米里有虫，包装太差")
    assert result.evidence.index("包装") < result.evidence.index("破了")
    assert result.evidence.index("破了") < result.evidence.index("虫")
    assert len(result.evidence) == len(set(result.evidence))


def test_full_width_and_case_are_normalised() -> None:
    assert classify("油有哈喇味！").to_dict() == classify("油有哈喇味!").to_dict()


def test_classification_is_frozen_and_serialisable() -> None:
    result = classify("油有哈喇味")
    with pytest.raises(Exception, match="frozen"):
        result.risk = "low"  # type: ignore[misc]
    data = result.to_dict()
    assert list(data) == [
        "intent",
        "sentiment",
        "score",
        "intensity",
        "topics",
        "risk",
        "evidence",
    ]
    assert Classification.model_validate(data) == result


def test_classify_is_deterministic() -> None:
    text = "米饭很香，就是物流有点慢，包装也压坏了"
    assert classify(text) == classify(text)


@pytest.mark.parametrize("text", ["这个油的烟点是多少？", "这米放了几天就坏了", "收到就烂了一半"])
def test_decide_reads_the_findings_and_never_changes_them(text: str) -> None:
    """Training passes one featurized text through many candidate models."""
    norm, found, feats = featurize(text)
    before = copy.deepcopy(found)
    first = decide(norm, found, feats, heads.get_model())
    assert found == before
    assert decide(norm, found, feats, heads.get_model()) == first == classify(text)


@pytest.mark.parametrize(
    ("text", "intent", "risk"),
    [("面粉放多久会坏", "inquiry", "low"), ("这米放了几天就坏了", "complaint", "high")],
)
def test_asking_how_long_asks_and_saying_how_long_reports(
    text: str, intent: str, risk: str
) -> None:
    result = classify(text)
    assert (result.intent, result.risk) == (intent, risk)


def test_every_lexicon_term_is_a_dictionary_word() -> None:
    words = {
        line.split(" ")[0]
        for line in segment.DICT_PATH.read_text(encoding="utf-8").splitlines()
        if line
    }
    missing = [t for t in lexicon.all_terms() if t not in words]
    assert missing == [], "rerun make train-classifier after editing the lexicon"


@pytest.mark.parametrize(
    "term",
    sorted(
        {t for terms in lexicon.RISK_HIGH.values() for t in terms}
        | {t for terms in lexicon.RISK_MEDIUM.values() for t in terms}
    ),
)
def test_risk_terms_come_out_of_the_tokenizer_whole(term: str) -> None:
    for context in ("{}", "有{}", "没有{}", "怀疑{}", "{}了"):
        text = context.format(term)
        tokens = segment.tokenize(text)
        start = context.index("{}")
        edges = {0}
        for token in tokens:
            edges.add(max(edges) + len(token))
        assert start in edges, (text, tokens)
        assert start + len(term) in edges, (text, tokens)


@pytest.mark.parametrize("text", ["烂的！！！！！！", "全坏掉了，哎......"])
def test_a_short_report_of_rotten_food_is_still_high(text: str) -> None:
    """Too few known features to name an intent alone, but the risk head reads a report."""
    result = classify(text)
    assert (result.risk, result.sentiment) == ("high", "neg")


def test_a_short_text_the_risk_head_does_not_read_as_a_report_says_nothing() -> None:
    result = classify("收到了")
    assert (result.intent, result.risk, result.topics) == ("other", "low", ["other"])


@pytest.mark.parametrize("text", ["刚到货就有两个烂掉了？", "寄过来全是坏的，这怎么吃？"])
def test_a_report_in_the_form_of_a_question_is_still_high(text: str) -> None:
    """The model's threshold, as for any report: the question mark does not make it a worry."""
    assert classify(text).risk == "high"


def test_a_report_ending_in_a_modal_question_is_high_when_the_model_is_sure() -> None:
    """A modal (可以, 能, 会) makes a question a worry, which needs the model to be sure; it no
    longer keeps a plain report of rot from being high."""
    result = classify("打开一看全是烂的，坏了好几个，都烂透了，可以给0星吗？")
    assert (result.intent, result.risk) == ("inquiry", "high")


@pytest.mark.parametrize(
    "text", ["冬天花生油凝固了是坏了吗？", "米饭放了一晚上是不是坏了？", "面粉放多久会坏？"]
)
def test_a_question_whether_food_went_bad_needs_the_model_to_be_sure(text: str) -> None:
    result = classify(text)
    assert (result.intent, result.risk) == ("inquiry", "low")
