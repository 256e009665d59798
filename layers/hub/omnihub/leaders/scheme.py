"""The commission scheme as data: rates by leader tier, category overrides, the payout
cap and the monthly tier thresholds.

Stored as JSON in SSM (`/omnihub/<stage>/leaders/scheme`, template `LeadersSchemeParameter`) and
validated here, so the brand changes a rate without a deploy. Rates are integer basis points
(500 = 5%), never floats: a line's commission is floor(net paid fen x rate / 10,000).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

Tier = Literal["rookie", "growing", "star"]
TIERS: tuple[Tier, ...] = ("rookie", "growing", "star")
BASIS_POINTS = 10_000

RateBp = Annotated[StrictInt, Field(ge=0, le=BASIS_POINTS)]
Fen = Annotated[StrictInt, Field(ge=0)]


class CommissionScheme(BaseModel):
    """Every field has the contract's default; the parameter holds only what differs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rates_bp: dict[Tier, RateBp] = {"rookie": 500, "growing": 800, "star": 1000}
    #: category -> tier -> rate; a tier missing here takes its rate from `rates_bp`
    category_rates_bp: dict[str, dict[Tier, RateBp]] = {}
    #: the payout channel's cap per transfer (200 yuan)
    payout_cap_fen: Annotated[StrictInt, Field(gt=0)] = 20_000
    #: monthly tiers: rookie under `rookie_days` or below `growing_min_sales_fen`; growing from
    #: there with repurchase over `growing_min_repurchase_bp`; star over `star_min_sales_fen`
    #: with NPS over `star_min_nps` (from at least `nps_min_ratings` ratings)
    rookie_days: int = Field(30, ge=0)
    growing_min_sales_fen: Fen = 500_000
    growing_min_repurchase_bp: int = Field(4_000, ge=0, le=BASIS_POINTS)
    star_min_sales_fen: Fen = 2_000_000
    star_min_nps: int = Field(80, ge=-100, le=100)
    nps_min_ratings: int = Field(1, ge=1)
    #: completions and refunds of orders that never reach a leader are kept this long
    placeholder_days: int = Field(90, ge=1)

    def rate_bp(self, tier: Tier, category: str) -> int:
        """The rate a line is frozen at: the category's override for the tier, else the tier's."""
        override = self.category_rates_bp.get(category, {})
        return override.get(tier, self.rates_bp[tier])


def commission_fen(net_paid_fen: int, rate_bp: int) -> int:
    """A line's commission at its frozen rate, rounded down to the fen (integers only)."""
    return max(net_paid_fen, 0) * rate_bp // BASIS_POINTS
