"""How `make demo` speaks to a business reader: Shanghai times, Chinese labels with the codes
beside them, and words where a figure does not exist yet."""

from __future__ import annotations

from typing import Any

from omnihub.clock import SHANGHAI, parse_iso

INTENTS = {
    "complaint": "投诉",
    "inquiry": "咨询",
    "suggestion": "建议",
    "praise": "表扬",
    "other": "其他",
}
SENTIMENTS = {"neg": "负面", "neu": "中性", "pos": "正面"}
RISKS = {"high": "高", "medium": "中", "low": "低"}
TOPICS = {
    "packaging": "包装",
    "leakage": "漏油",
    "logistics": "物流",
    "taste_quality": "口味品质",
    "storage": "储存",
    "price": "价格",
    "service": "服务",
    "product_info": "产品信息",
    "other": "其他",
}


def labelled(code: str, names: dict[str, str]) -> str:
    """`投诉(complaint)`: the word a reader knows, the code the data holds."""
    return f"{names[code]}({code})" if code in names else code


def shanghai(instant: str | None) -> str:
    """An RFC 3339 instant as Shanghai wall time (`11-15 12:36 上海时间`)."""
    if not instant:
        return "未定 (none)"
    return parse_iso(instant).astimezone(SHANGHAI).strftime("%m-%d %H:%M 上海时间")


def figure(value: Any, unit: str = "", none: str = "not yet (nothing to measure)") -> str:
    """A figure with its unit, or words when there is none yet."""
    if value is None:
        return none
    return f"{value:g}{unit}" if isinstance(value, int | float) else f"{value}{unit}"


def percent(share: float | None, none: str = "not yet (nothing due)") -> str:
    return none if share is None else f"{share:.0%}"
