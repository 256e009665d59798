"""The points scheme as data: multipliers, thresholds, periods, campaign rules.

Stored as JSON in SSM (`/omnihub/<stage>/points/rules`, template `PointsRulesParameter`),
merged over these defaults and validated here (omnihub.rulesets: a partial map such as
`{"tier_thresholds_fen": {"gold": 50000}}` keeps the default `diamond`), so marketing can change
a campaign without a deploy. Multipliers are decimals, never floats: an order earns
floor(its whole yuan x its lines' multipliers, weighted by the lines' amounts), rounded once per
order, each line's multiplier being the tier's times every matching rule's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

Tier = Literal["silver", "gold", "diamond"]
TIERS: tuple[Tier, ...] = ("silver", "gold", "diamond")


class EarningRule(BaseModel):
    """A campaign: a multiplier for matching lines (an empty list matches everything)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule_id: str
    multiplier: Decimal = Field(gt=0, le=100)
    channels: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None

    def matches(self, channel: str, category: str, at: datetime) -> bool:
        return (
            (not self.channels or channel in self.channels)
            and (not self.categories or category in self.categories)
            and (self.starts_at is None or at >= self.starts_at)
            and (self.ends_at is None or at < self.ends_at)
        )


class PointsRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tier_multipliers: dict[Tier, Annotated[Decimal, Field(gt=0, le=100)]] = {
        "silver": Decimal("1.0"),
        "gold": Decimal("1.2"),
        "diamond": Decimal("1.5"),
    }
    tier_thresholds_fen: dict[Tier, Annotated[int, Field(ge=0)]] = {
        "gold": 100_000,
        "diamond": 500_000,
    }
    pending_days: int = Field(7, ge=0, le=90)
    expiry_months: int = Field(12, ge=1, le=120)
    expiry_notice_days: int = Field(30, ge=0, le=180)
    spend_window_months: int = Field(12, ge=1, le=36)
    activity_points: dict[str, int] = {"checkin": 5, "survey": 20, "review": 10}
    activity_daily_cap: int = Field(30, ge=0)
    earning_rules: tuple[EarningRule, ...] = ()

    @field_validator("tier_multipliers")
    @classmethod
    def _every_tier(cls, value: dict[Tier, Decimal]) -> dict[Tier, Decimal]:
        """Earning reads the member's tier's multiplier for every order."""
        missing = [t for t in TIERS if t not in value]
        if missing:
            raise ValueError(f"needs {', '.join(missing)}")
        return value

    @field_validator("tier_thresholds_fen")
    @classmethod
    def _rising(cls, value: dict[Tier, int]) -> dict[Tier, int]:
        """`tier_for` reads a threshold for each tier above silver (a gap was a KeyError on
        every order), rising with the tier."""
        if "gold" not in value or "diamond" not in value:
            raise ValueError("needs gold and diamond")
        if value["gold"] > value["diamond"]:
            raise ValueError("must rise with the tier (gold <= diamond)")
        return value

    def multiplier(self, tier: Tier, channel: str, category: str, at: datetime) -> Decimal:
        """The frozen multiplier of an order line: tier times every matching campaign."""
        value = self.tier_multipliers[tier]
        for rule in self.earning_rules:
            if rule.matches(channel, category, at):
                value *= rule.multiplier
        return value

    def tier_for(self, spend_fen: int) -> Tier:
        tier: Tier = "silver"
        for candidate in TIERS[1:]:
            if spend_fen >= self.tier_thresholds_fen[candidate]:
                tier = candidate
        return tier


def order_points(lines: Iterable[tuple[int, Decimal]]) -> int:
    """1 point per whole yuan of the order's paid amount, rounded down once per order (not per
    line: 3 lines of 9.90 yuan earn 29), times the multipliers: each line's (paid fen,
    multiplier) weighs its multiplier by its share of the amount. Exact (fractions): no float,
    no Decimal precision limit."""
    paid = [(max(fen, 0), Fraction(multiplier)) for fen, multiplier in lines]
    total = sum(fen for fen, _ in paid)
    if total <= 0:
        return 0
    weighted = sum((fen * multiplier for fen, multiplier in paid), Fraction(0))
    return math.floor(Fraction(total // 100) * weighted / total)


def tier_rank(tier: str) -> int:
    return TIERS.index(tier)
