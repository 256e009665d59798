"""Leader tiers, monthly: rookie, growing, star, up and down.

The figures of a month come from data the hub holds, derived when the month is reviewed:
- sales: the net paid of the orders settled in the month (each statement's `sales_fen`) minus
  what refunds after settlement took back in the month (`refunded_sales_fen`);
- repurchase rate: the share of the month's settled orders whose buyer was bound to the leader
  before the month (a returning customer), in basis points;
- NPS: from the star ratings that members bound to the leader gave in their feedback that month:
  5 promoter, 4 passive, 3 or less detractor; NPS = (promoters - detractors) x 100 / ratings.
Rules: rookie while registered under 30 days or under 5,000 yuan; star over 20,000 yuan with NPS
over 80; otherwise growing from 5,000 yuan with repurchase over 40%; else rookie. The tier the
review of a month decides holds for the next month from 00:00 on its 1st (Asia/Shanghai),
whenever the review runs: orders paid from then on and counted before the review were
priced provisionally (marked); the review re-prices them at the decided tier.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from omnihub.clock import iso, parse_iso
from omnihub.leaders.booking import Outcome, commit_with_retry, leader_event
from omnihub.leaders.days import day_start, month_days, month_of, next_month
from omnihub.leaders.model import Leader, LeadersChange, TierSpell
from omnihub.leaders.orders import reprice
from omnihub.leaders.ports import LeadersStore
from omnihub.leaders.scheme import BASIS_POINTS, CommissionScheme, Tier
from omnihub.leaders.settlement import settle_leader_day

MAX_TIER_SPELLS = 36


@dataclass(frozen=True)
class MonthFigures:
    sales_fen: int = 0
    orders: int = 0
    returning_orders: int = 0
    ratings: int = 0
    promoters: int = 0
    detractors: int = 0

    @property
    def repurchase_bp(self) -> int:
        return self.returning_orders * BASIS_POINTS // self.orders if self.orders else 0

    @property
    def nps(self) -> int | None:
        """Rounded toward minus infinity for display; the rules compare exactly."""
        if not self.ratings:
            return None
        return (self.promoters - self.detractors) * 100 // self.ratings


def month_figures(store: LeadersStore, leader_id: str, month: str) -> MonthFigures:
    first, last = month_days(month)
    statements = [d.statement for d in store.days(leader_id, first, last) if d.statement]
    ratings = store.ratings(leader_id, month)
    return MonthFigures(
        sales_fen=sum(s.sales_fen - s.refunded_sales_fen for s in statements),
        orders=sum(s.orders for s in statements),
        returning_orders=sum(s.returning_orders for s in statements),
        ratings=len(ratings),
        promoters=sum(1 for r in ratings if r.rating == 5),
        detractors=sum(1 for r in ratings if r.rating <= 3),
    )


def tier_for(leader: Leader, month: str, figures: MonthFigures, scheme: CommissionScheme) -> Tier:
    """The tier a month earns. Age is taken at the month's end, so a rerun decides the same."""
    month_end = day_start(month_days(month)[1]) + timedelta(days=1)
    if month_end - parse_iso(leader.registered_at) < timedelta(days=scheme.rookie_days):
        return "rookie"
    if figures.sales_fen < scheme.growing_min_sales_fen:
        return "rookie"
    if (
        figures.sales_fen > scheme.star_min_sales_fen
        and figures.ratings >= scheme.nps_min_ratings
        and (figures.promoters - figures.detractors) * 100 > scheme.star_min_nps * figures.ratings
    ):
        return "star"
    if figures.returning_orders * BASIS_POINTS > scheme.growing_min_repurchase_bp * figures.orders:
        return "growing"
    return "rookie"


def review_leader(
    store: LeadersStore, leader_id: str, month: str, scheme: CommissionScheme, now: datetime
) -> Outcome:
    """Decide the leader's tier for the month after `month`, from 00:00 on its 1st (once: a
    second review of a month decides nothing), then re-price the orders that were priced before
    the decision (a rerun finishes what a review that died half way left). A day of the month
    its T+1 run has not settled yet (late, or failed) is settled first: the figures are the
    whole month's."""
    decided = next_month(month)
    leader = store.leader(leader_id)
    if leader is not None and not (leader.tier_month and leader.tier_month >= decided):
        first, last = month_days(month)
        unsettled = [d.day for d in store.days(leader_id, first, last) if d.status != "settled"]
        if unsettled:
            settle_leader_day(store, leader_id, unsettled[-1], now)  # and the earlier ones

    def plan() -> tuple[Outcome, LeadersChange]:
        leader = store.leader(leader_id)
        if (
            leader is None
            or (leader.tier_month is not None and leader.tier_month >= decided)
            or leader.review.get("month") == month
        ):
            return Outcome("duplicate", leader_id), LeadersChange()
        figures = month_figures(store, leader_id, month)
        tier = tier_for(leader, month, figures, scheme)
        review: dict[str, int | str] = {
            "month": month,
            "sales_fen": figures.sales_fen,
            "orders": figures.orders,
            "repurchase_bp": figures.repurchase_bp,
            "ratings": figures.ratings,
        }
        if figures.nps is not None:
            review["nps"] = figures.nps
        spells = leader.tiers
        if tier != leader.tier:
            since = iso(day_start(f"{decided}-01"))
            spells = (*(s for s in leader.tiers if s.since < since), TierSpell(since, tier))
        reviewed = leader.next(
            tier=tier, tiers=spells[-MAX_TIER_SPELLS:], review=review, tier_month=decided
        )
        change = LeadersChange(leaders=[(reviewed, leader.version)])
        if tier == leader.tier:
            return Outcome("unchanged", leader_id), change
        change.events.append(
            leader_event(
                "leader.tier_changed",
                f"leader-tiers:{month}",
                now,
                {"leader_id": leader_id, "from": leader.tier, "to": tier, **review},
                member_id=leader.member_id,
                subject=leader_id,
            )
        )
        return Outcome("applied", leader_id), change

    outcome = commit_with_retry(store, plan)
    reprice_marked(store, leader_id, scheme, now)
    return outcome


def reprice_marked(
    store: LeadersStore, leader_id: str, scheme: CommissionScheme, now: datetime
) -> int:
    """Re-price the leader's marked orders whose paid month has its tier decided now; returns
    how many."""
    leader = store.leader(leader_id)
    if leader is None:
        return 0
    done = 0
    for mark in store.price_marks(leader_id):
        if leader.tier_decided(month_of(parse_iso(mark.paid_at))):
            reprice(store, leader, mark, scheme, now)
            done += 1
    return done


def run_tiers(
    store: LeadersStore,
    month: str,
    shard: int,
    scheme: CommissionScheme,
    now: datetime,
    *,
    after: str | None = None,
    page_size: int = 50,
    keep_going: Callable[[], bool] | None = None,
) -> tuple[int, str | None]:
    """Review one shard: the leaders who sold in `month` (they may move up), then the leaders
    above rookie (they may move down). Returns (changed, cursor); a cursor is "m:..." or "t:..."
    for the list it stopped in. The shard's review of `month` is marked started first: a rating
    of the month recorded from then on counts for the next month (`record_rating`)."""
    if after is None:
        store.start_run(month, shard, iso(now))
    phase, _, rest = (after or "m:").partition(":")
    cursor: str | None = rest or None
    changed = 0
    seen: set[str] = set()
    while True:
        if phase == "m":
            leaders, cursor = store.month_leaders(month, shard, cursor, page_size)
        else:
            leaders, cursor = store.tiered_leaders(shard, cursor, page_size)
        for leader_id in leaders:
            if leader_id in seen:
                continue
            seen.add(leader_id)
            if review_leader(store, leader_id, month, scheme, now).status == "applied":
                changed += 1
        if cursor is None:
            if phase == "t":
                return changed, None
            phase = "t"
        if keep_going is not None and not keep_going():
            return changed, f"{phase}:{cursor or ''}"
