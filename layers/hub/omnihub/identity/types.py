"""Identity types: which may merge members, and how many one member may hold."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IdentityRule:
    merges: bool
    limit: int
    scoped: bool = False


RULES: dict[str, IdentityRule] = {
    "phone": IdentityRule(merges=True, limit=2),
    "wechat_unionid": IdentityRule(merges=True, limit=1),
    "alipay_user_id": IdentityRule(merges=True, limit=1),
    "tmall_omid": IdentityRule(merges=True, limit=1),
    "store_card": IdentityRule(merges=True, limit=3),
    "wechat_openid": IdentityRule(merges=False, limit=10, scoped=True),
    "tmall_ouid": IdentityRule(merges=False, limit=10, scoped=True),
    "jd_pin": IdentityRule(merges=False, limit=10),
    "douyin_open_id": IdentityRule(merges=False, limit=10),
    "pdd_buyer_id": IdentityRule(merges=False, limit=10),
    "device_id": IdentityRule(merges=False, limit=10),
}


def rule(identity_type: str) -> IdentityRule:
    return RULES[identity_type]
