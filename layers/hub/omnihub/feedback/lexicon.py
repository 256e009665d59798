"""Domain lexicons of the feedback classifier, kept as data so that reviewers can edit them.

Every term here is also written into the compact jieba dictionary by
`scripts/train_classifier.py`, so that it comes out of the tokenizer as one token (or as a run of
whole tokens). Matching is on token boundaries, never on raw substrings, so 米虫 matches the
insect lexicon but 虫草 does not.

Risk levels:
- high: food safety. Foreign objects, insects, mould, spoilage, rancidity, illness after eating,
  expiry. One such term, not negated, makes a text high risk. Hedging keeps it ("怀疑变质").
- medium: a quality defect that may hide a safety problem but does not confirm one, so it is worth
  a quality check, not a food-safety alert: a swollen or leaking seal (胀袋 may mean gas from
  spoilage, or only a lost vacuum), moisture (结块, 受潮), odd colour or clouding of oil (peanut oil
  clouds in the cold), near expiry, impurities. 漏油 on its own is a packaging and logistics loss,
  not a risk: the customer sees it and does not eat it.
- low: everything else, including breakage of things that are not food ("碗摔碎了") and bruised
  fruit ("水果有点磕碰").
"""

from __future__ import annotations

from collections.abc import Mapping

# The lists are written densely on purpose: one term per line would make them hard to review.
# fmt: off
# Words that say what the customer wants. Inquiry also fires on "?" (after NFKC, "？" is "?").
INTENT_CUES: Mapping[str, tuple[str, ...]] = {
    "complaint": (
        "投诉", "差评", "退货", "退款", "退钱", "赔偿", "索赔", "理赔", "太差", "很差", "真差",
        "差劲", "垃圾", "失望", "太失望", "坑人", "被坑", "骗人", "欺骗", "上当", "假货", "无语",
        "气死", "生气", "愤怒", "糟糕", "不满", "不满意", "质量问题", "有问题", "出问题",
        "给个说法", "12315", "曝光", "举报", "再也不买", "不会再买", "别买", "千万别买", "后悔",
        "恶劣", "欺诈", "不怎么样", "要求退", "要求换",
    ),
    "inquiry": (
        "吗", "么", "请问", "咨询", "想问", "问下", "问一下", "怎么", "怎样", "怎么样", "如何",
        "多久", "多长时间", "多少", "什么时候", "哪里", "哪儿", "为什么", "为啥", "能不能",
        "可不可以", "可以吗", "是否", "能否", "怎么办", "咋办", "咋", "是什么", "有哪些",
        "需要多久", "放多久",
    ),
    "suggestion": (
        "建议", "希望", "最好能", "最好是", "期待", "要是能", "如果能", "可以考虑", "考虑一下",
        "改进", "改善", "改良", "推出", "出个", "出一款", "多出", "增加", "加上", "提个意见",
        "提议", "能出",
    ),
    "praise": (
        "好评", "五星", "满意", "很满意", "喜欢", "不错", "挺好", "很好", "真好", "好吃", "很香",
        "喷香", "好用", "赞", "点赞", "棒", "给力", "推荐", "回购", "还会再买", "一直买", "一直吃",
        "放心", "值得", "划算", "实惠", "超值", "物美价廉", "新鲜", "软糯", "香甜", "清香",
        "筋道", "劲道", "完美", "优秀", "感谢", "谢谢", "很快", "及时", "热情", "耐心", "贴心",
        "周到", "信赖", "一如既往", "清亮", "透亮", "完好", "完好无损", "饱满", "干净",
    ),
}

#: Words that ask, beyond the classifier's inquiry cues (which already make an inquiry).
QUESTION_WORDS: tuple[str, ...] = ("什么", "啥", "哪些", "哪个", "哪种", "哪款")
#: ...unless they do not ask: rhetorical ("凭什么", "什么破东西": a complaint) or no question
#: at all ("没什么问题", "什么都好").
NOT_ASKING: tuple[str, ...] = (
    "为什么",
    "为啥",
    "凭什么",
    "什么破",
    "什么玩意",
    "搞什么",
    "干什么吃",
    "算什么",
    "什么意思",
    "这么",
    "那么",
    "没什么",
    "没啥",
    "不是什么",
    "什么都",
    "什么也",
    "啥都",
    "啥也",
)

# Issue words: a text that has one (not negated) is a complaint even when it also asks something
# ("漏油了怎么办?"). Each is also listed under its topic below.
PROBLEM_TERMS: tuple[str, ...] = (
    # packaging
    "破损", "破了", "破洞", "破口", "压坏", "压扁", "压碎", "变形", "瘪了", "裂开", "裂了",
    "开裂", "漏气", "封口开了", "没封口", "封口不严", "包装差", "简陋",
    # leakage
    "漏油", "渗油", "漏了", "洒了", "撒了", "漏出来", "流出来", "溢出", "油渍",
    # logistics
    "太慢", "很慢", "慢", "延迟", "迟到", "超时", "丢件", "漏发", "少发", "发错", "错发",
    "没收到", "还没到", "还没收到", "还没发货", "不发货", "摔碎", "摔坏", "摔破", "碎了",
    "磕碰", "碰伤", "磕伤", "碰坏", "压伤", "烂了",
    # taste and quality
    "难吃", "不好吃", "不香", "夹生", "发硬", "太硬", "碎米", "口感差", "味道差", "不新鲜",
    "发苦", "掺假", "掺杂", "陈米", "以次充好", "缺斤少两", "分量不足", "少了",
    # price
    "太贵", "贵了", "不值", "涨价",
    # service
    "态度差", "不理", "不回复", "没人回复", "没人管", "敷衍", "推诿", "踢皮球", "不处理", "拖延",
    # storage
    "受潮", "返潮", "结块",
)

TOPIC_TERMS: Mapping[str, tuple[str, ...]] = {
    "packaging": (
        "包装", "外包装", "内包装", "包装袋", "袋子", "包装盒", "盒子", "纸箱", "箱子", "瓶子",
        "瓶身", "瓶盖", "盖子", "油桶", "桶", "封口", "密封", "真空", "真空包装", "小包装",
        "大包装", "礼盒", "胀袋", "胀气", "鼓包", "漏气", "破损", "破了", "破洞", "破口", "压坏",
        "压扁", "压碎", "变形", "瘪了", "裂开", "裂了", "开裂", "封口开了", "没封口", "封口不严",
        "包装差", "简陋",
    ),
    "leakage": (
        "漏油", "渗油", "漏了", "洒了", "撒了", "漏出来", "流出来", "溢出", "油渍", "漏",
    ),
    "logistics": (
        "物流", "快递", "配送", "送货", "发货", "到货", "收货", "送达", "派送", "快递员", "骑手",
        "小哥", "运输", "运费", "包邮", "速度", "很快", "及时", "太慢", "很慢", "慢", "延迟",
        "迟到", "超时", "丢件", "漏发", "少发", "发错", "错发", "没收到", "还没到", "还没收到",
        "还没发货", "不发货", "摔碎", "摔坏", "摔破", "碎了", "磕碰", "碰伤", "磕伤", "碰坏",
        "压伤", "压坏", "烂了",
    ),
    "taste_quality": (
        "口感", "味道", "口味", "好吃", "难吃", "不好吃", "香", "很香", "喷香", "不香", "米香",
        "油香", "清香", "香味", "软糯", "香甜", "筋道", "劲道", "新鲜", "不新鲜", "品质", "质量",
        "质量问题", "颗粒", "饱满", "米粒", "色泽", "油烟", "起沫", "泡沫", "夹生", "发硬",
        "太硬", "碎米", "口感差", "味道差", "发苦", "掺假", "掺杂", "以次充好", "变色", "发黄",
        "发黑", "黑点", "浑浊", "沉淀", "絮状物", "杂质",
    ),
    "storage": (
        "储存", "存储", "保存", "存放", "储藏", "受潮", "返潮", "回潮", "结块", "防潮", "潮湿",
        "阴凉", "干燥", "避光", "常温", "冷藏", "冰箱", "开封后", "放多久",
    ),
    "price": (
        "价格", "价钱", "贵", "太贵", "贵了", "便宜", "划算", "实惠", "性价比", "优惠", "优惠券",
        "打折", "折扣", "降价", "涨价", "差价", "满减", "原价", "不值", "物美价廉", "超值", "积分",
        "红包",
    ),
    "service": (
        "客服", "服务", "态度", "售后", "退货", "退款", "换货", "补发", "投诉", "回复", "处理",
        "赔偿", "专员", "店员", "导购", "团长", "门店", "热线", "发票", "热情", "耐心", "贴心",
        "周到",
        "态度差", "不理", "不回复", "没人回复", "没人管", "敷衍", "推诿", "踢皮球", "不处理",
        "拖延",
    ),
    "product_info": (
        "保质期", "生产日期", "配料", "配料表", "成分", "产地", "原产地", "烟点", "营养",
        "营养成分", "规格", "净含量", "非转基因", "转基因", "压榨", "物理压榨", "浸出", "标签",
        "说明书", "等级", "批次", "批号", "有机", "品种", "新米", "陈米", "正品", "食用方法",
        "做法", "蛋白质", "热量", "添加剂", "防腐剂", "含量", "分量不足", "缺斤少两", "少了",
    ),
}

# Concepts for the trained heads: broad classes of words whose meeting in one clause tells more
# than either alone ("烂" with a fruit is decay, with 碰/压 a bruise; "酸" of congee is spoilage,
# of an apple taste). They decide nothing by themselves: each concept and each pair of concepts
# in a clause becomes a model feature, and the labelled set teaches what they weigh.
CONCEPTS: Mapping[str, tuple[str, ...]] = {
    "decay": ("烂", "坏", "腐", "霉", "变质", "馊", "发黑", "黑心", "长毛", "流脓", "软塌"),
    "sour": ("酸",),
    "smell": ("味", "臭", "馊", "腥"),
    "ill": (
        "吐", "拉肚子", "腹泻", "闹肚子", "肚子", "胃", "医院", "中毒", "过敏", "不舒服", "难受",
        "恶心", "发麻", "发烧", "头晕", "反胃",
    ),
    "foreign": (
        "头发", "毛", "虫", "石", "沙", "砂", "塑料", "钢丝", "清洁球", "铁", "玻璃", "蟑螂",
        "苍蝇", "蚂蚁", "纸", "异物", "蛆", "钉", "渣",
    ),
    "chemical": (
        "农药", "化工", "化学", "蜡", "腊", "色素", "香精", "添加", "药", "塑化", "煤油", "汽油",
        "消毒", "胶",
    ),
    "date": ("日期", "过期", "保质期", "生产", "篡改", "改日期", "陈", "去年"),
    "cooked": (
        "饭", "粥", "汤", "菜", "面", "肉", "饼", "粉", "鸡", "鱼", "包子", "饺", "米线", "豆浆",
        "奶", "酱", "油", "米", "蛋", "卷", "披萨", "汉堡", "沙拉",
    ),
    "fruit": (
        "果", "梨", "橙", "桔", "橘", "芒", "蕉", "葡萄", "猕猴桃", "柚", "瓜", "枣", "莓", "桃",
        "柠檬", "荔枝", "龙眼",
    ),
    "impact": ("碰", "压", "摔", "撞", "磕", "挤", "伤", "破"),
    "almost": ("快", "差点", "感觉", "怀疑", "好像", "可能", "估计", "会不会", "是不是"),
    "eat": ("吃", "喝", "咬", "尝", "入口"),
    "swollen": ("胀", "鼓"),
    "third_party": ("新闻", "曝", "事件", "报道", "http", "三聚氰胺", "黄曲霉", "召回", "抽检"),
    "non_food": (
        "酒店", "房间", "前台", "手机", "电脑", "衣服", "洗发", "屏幕", "书", "平板", "热水器",
    ),
    "negation": ("没有", "没", "无", "不"),
    "question": ("?", "吗", "么", "请问", "怎么", "能不能", "可以", "多久"),
    "wish": ("希望", "建议", "最好", "下次", "改进", "注意", "别再"),
}

# Food safety (high risk), by kind. "玻璃" fires, but 玻璃瓶/玻璃杯 are guard words below.
RISK_HIGH: Mapping[str, tuple[str, ...]] = {
    "foreign_object": (
        "异物", "头发", "毛发", "石子", "小石子", "石头", "沙子", "砂子", "沙粒", "砂石", "玻璃",
        "玻璃渣", "碎玻璃", "玻璃碴", "铁丝", "铁屑", "金属片", "金属丝", "塑料片", "塑料丝",
        "烟头", "指甲", "创可贴",
    ),
    "insects": (
        "虫", "虫子", "生虫", "长虫", "米虫", "小虫", "小黑虫", "活虫", "死虫", "虫卵", "虫眼",
        "蛀虫", "虫蛀", "米象", "谷象", "蛾", "飞蛾", "蛾子", "蛆", "蟑螂", "苍蝇", "蚂蚁",
    ),
    "mould": (
        "发霉", "霉变", "霉味", "霉斑", "霉点", "长霉", "长毛", "霉菌", "黄曲霉", "黄曲霉素",
        "绿毛", "白毛",
    ),
    "spoilage": (
        "变质", "馊", "馊味", "发馊", "发酸", "酸味", "酸臭", "异味", "怪味", "臭", "臭味", "发臭",
        "腐烂", "腐败", "变味", "有股味",
    ),
    "rancidity": (
        "哈喇味", "哈喇", "哈拉味", "哈味", "酸败", "油耗味", "耗味", "油哈了",
    ),
    "illness": (
        "拉肚子", "闹肚子", "腹泻", "呕吐", "上吐下泻", "食物中毒", "中毒", "过敏", "肚子疼",
        "肚子痛", "胃疼", "胃痛", "住院", "急诊", "进医院",
    ),
    "expiry": ("过期", "已过期", "超过保质期", "过了保质期", "超保质期"),
}

# Quality defects that are not confirmed food safety (see the module docstring).
RISK_MEDIUM: Mapping[str, tuple[str, ...]] = {
    "seal_integrity": ("胀袋", "胀气", "鼓包", "漏气", "封口开了", "没封口", "封口不严"),
    "moisture": ("结块", "受潮", "返潮", "回潮"),
    "appearance": ("变色", "发黄", "发黑", "黑点", "浑浊", "沉淀", "絮状物", "杂质"),
    "freshness": ("不新鲜", "快过期", "临期", "陈米", "掺假", "以次充好"),
}

# Topics each risk kind adds (a risk term is also about something).
RISK_TOPICS: Mapping[str, tuple[str, ...]] = {
    "foreign_object": ("taste_quality",),
    "insects": ("storage", "taste_quality"),
    "mould": ("storage", "taste_quality"),
    "spoilage": ("taste_quality",),
    "rancidity": ("taste_quality",),
    "illness": ("taste_quality",),
    "expiry": ("product_info",),
    "seal_integrity": ("packaging",),
    "moisture": ("storage",),
    "appearance": ("taste_quality",),
    "freshness": ("taste_quality",),
}

# Discomfort is food safety only after eating or drinking ("吃了以后恶心"): on its own, 恶心 is
# mostly disgust ("客服态度恶心").
DISCOMFORT_TERMS: tuple[str, ...] = (
    "恶心", "想吐", "吐了", "头晕", "头疼", "头痛", "不舒服", "难受", "胃不舒服",
)
EATING_CUES: tuple[str, ...] = (
    "吃", "吃了", "吃完", "吃后", "吃过", "食用", "食用后", "喝", "喝了", "喝完", "喝过",
)

# Expiry of a coupon, points or a link is no food-safety matter ("优惠券过期了").
NON_FOOD_SUBJECTS: tuple[str, ...] = (
    "优惠券", "券", "积分", "红包", "会员", "活动", "链接", "二维码", "验证码", "兑换码",
    "礼品卡", "卡", "密码", "账号", "码",
)

# Negation: suppresses risk and problem terms a few tokens after it in its clause, and turns a
# praise cue into a complaint cue ("不满意" is listed as a whole word anyway).
NEGATIONS: tuple[str, ...] = (
    "不", "没", "没有", "无", "未", "并非", "并不", "并没有", "并无", "从未", "从没", "从来没有",
    "毫无", "绝无", "没什么", "未见", "未发现", "没发现", "没见", "不含", "不存在", "不是",
    "杜绝", "不会", "还没", "还没有",
)

# Prevention, comparison and tendency: suppress risk and problem terms like a negation does, but
# do not flip praise ("怎么防止生虫", "硬得像石头", "小包装米易受潮" is about the product, not an
# incident).
SUPPRESSORS: tuple[str, ...] = (
    "防止", "避免", "预防", "以免", "防", "像", "如同", "好比", "容易", "易",
)

# Modal verbs that make a question generic ("米会生虫吗?"): they suppress like SUPPRESSORS, but
# only in a clause that asks (吗/么 in it, or "?" right after it). "吃了会拉肚子" stays high.
QUESTION_MODALS: tuple[str, ...] = ("会", "能", "可以")

# Hedging keeps a risk term ("怀疑变质", "好像有虫") and ends a negation's reach.
HEDGES: tuple[str, ...] = (
    "怀疑", "好像", "似乎", "可能", "感觉", "疑似", "貌似", "像是", "估计", "大概", "也许",
    "应该是", "是不是", "有没有", "会不会", "不知道", "不确定", "有点像", "仿佛",
)

# Words that end a negation's reach inside a clause ("没有破损但是有异味", "不到一周就发霉").
SCOPE_BREAKERS: tuple[str, ...] = (
    "但", "但是", "可是", "却", "不过", "然而", "就", "才", "还是", "竟然", "居然", "结果",
    "又", "而且", "并且", "还", "反而", "只是", "就是",
)

# Tokens after a negation within this many tokens are in its reach.
NEGATION_WINDOW = 4

# Degree adverbs, as multipliers of intensity (above 1 strengthens, below 1 softens).
DEGREE_WORDS: Mapping[str, float] = {
    "极其": 2.0, "极": 1.9, "极度": 2.0, "超级": 1.8, "非常": 1.8, "特别": 1.8, "十分": 1.7,
    "太": 1.7, "相当": 1.5, "真": 1.4, "真是": 1.4, "很": 1.4, "好": 1.2, "挺": 1.2, "蛮": 1.2,
    "比较": 1.1, "还": 1.0, "有点": 0.7, "有点儿": 0.7, "有些": 0.7, "稍微": 0.6, "稍": 0.6,
    "略": 0.6, "略微": 0.6, "一点": 0.8, "一点点": 0.7,
}

# Product names: dictionary entries only (they must stay whole), never evidence on their own.
PRODUCT_TERMS: tuple[str, ...] = (
    "五常大米", "东北大米", "稻花香", "长粒香", "泰国香米", "香米", "粳米", "籼米", "糙米",
    "大米", "新米", "花生油", "菜籽油", "大豆油", "玉米油", "葵花籽油", "橄榄油", "调和油",
    "芝麻油", "香油", "食用油", "面粉", "小麦粉", "高筋面粉", "低筋面粉", "中筋面粉",
    "饺子粉", "面包粉", "挂面",
)

# Dictionary-only words that keep tokens from being misread: 不少 is "many", not a negation,
# 玻璃瓶 is packaging, not broken glass, 臭豆腐 is a dish, 没想到 is "unexpectedly".
GUARD_WORDS: tuple[str, ...] = (
    "玻璃瓶", "玻璃杯", "玻璃罐", "玻璃碗", "玻璃盖", "臭豆腐", "虫草", "酸奶", "不少", "不到",
    "不久", "不断", "不停", "不止", "不仅", "不但", "不敢", "不用", "不管", "不错", "无法",
    "无论", "没想到", "没料到", "没过", "没多久", "非常", "防虫", "防霉", "防潮", "不一会",
    "无所谓", "毛病", "还没", "还好", "好好", "慢慢", "快过期", "临期", "小包装", "哈喇味",
    "吃出", "里面", "发现", "塑料袋", "塑料瓶", "塑料桶", "塑料盒",
)

# fmt: on


def all_terms() -> tuple[str, ...]:
    """Every word the compact dictionary must keep whole, sorted (the training script uses it)."""
    words: set[str] = set(PROBLEM_TERMS)
    for group in (INTENT_CUES, TOPIC_TERMS, RISK_HIGH, RISK_MEDIUM):
        for terms in group.values():
            words.update(terms)
    for extra in (
        DISCOMFORT_TERMS,
        EATING_CUES,
        NON_FOOD_SUBJECTS,
        NEGATIONS,
        SUPPRESSORS,
        QUESTION_MODALS,
        HEDGES,
        SCOPE_BREAKERS,
        tuple(DEGREE_WORDS),
        PRODUCT_TERMS,
        GUARD_WORDS,
    ):
        words.update(extra)
    return tuple(sorted(w for w in words if w.strip()))
