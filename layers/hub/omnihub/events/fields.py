"""The contract's field types: ids, fen, identities. Channel events and the staff API's bodies
share them; a module of their own, so that an API function gets them without building every
channel event's model (docs/performance.md, "Cold start")."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

IdentityType = Literal[
    "phone",
    "wechat_unionid",
    "alipay_user_id",
    "tmall_omid",
    "store_card",
    "wechat_openid",
    "tmall_ouid",
    "jd_pin",
    "douyin_open_id",
    "pdd_buyer_id",
    "device_id",
]

Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@/+=-]+$")]
Fen = Annotated[StrictInt, Field(ge=0, le=10**12)]
PositiveFen = Annotated[StrictInt, Field(gt=0, le=10**12)]
ShortText = Annotated[str, Field(max_length=256)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Identity(Strict):
    type: IdentityType
    value: Annotated[str, Field(max_length=256)]
