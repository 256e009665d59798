"""Builders shared by the points tests (imported, not collected)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from omnihub.identity.model import Member
from omnihub.points import ledger, merges
from omnihub.points.daily import SHARDS, run_due
from omnihub.points.rules import PointsRules
from tests.fakes.member_store import FakeMemberStore
from tests.fakes.points_store import FakePointsStore

T0 = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
RULES = PointsRules()


def paid(order_id: str, *lines: tuple[str, str, int]) -> dict:
    items = [
        {"line_id": lid, "sku": f"SKU-{lid}", "category": cat, "qty": 1, "paid_fen": fen}
        for lid, cat, fen in lines
    ]
    return {"order_id": order_id, "amount_fen": sum(i["paid_fen"] for i in items), "items": items}


class Points:
    """One member's points, driven the way the consumer and the daily job drive them."""

    def __init__(self, rules: PointsRules = RULES, member: str = "mbr_a") -> None:
        self.store = FakePointsStore()
        self.members = FakeMemberStore()  # the members table: merge chains and claims
        self.rules = rules
        self.member = member
        self.now = T0

    def person(self, member_id, merged_into=None, erased=False, holds=()):
        """A row of the members table; `holds` are lineages ("type|key") it claims."""
        self.members.member_rows[member_id] = Member(
            member_id=member_id,
            created_at=member_id,
            merged_into=merged_into,
            erased_at="2026-01-01T00:00:00.000Z" if erased else None,
        )
        for via in holds:
            identity_type, _, key = via.partition("|")
            self.members.claim_rows[(identity_type, key)] = member_id

    def pay(self, order_id, *lines, channel="tmall", at=None, via=None):
        at = at or self.now
        return ledger.earn_order(
            self.store,
            self.member,
            channel,
            at,
            paid(order_id, *lines),
            self.rules,
            self.now,
            via=via,
            members=self.members,
        )

    def complete(self, order_id, at=None):
        return ledger.complete_order(self.store, order_id, at or self.now, self.rules)

    def refund(self, order_id, refund_id, **lines):
        return ledger.refund_order(self.store, order_id, refund_id, lines, self.rules, self.now)

    def activity(self, activity_id, kind, at=None):
        return ledger.award_activity(
            self.store,
            self.member,
            activity_id,
            kind,
            at or self.now,
            self.rules,
            self.now,
            members=self.members,
        )

    def redeem(self, redemption_id, points):
        return ledger.redeem(
            self.store,
            self.member,
            redemption_id,
            points,
            "oil-1L",
            self.rules,
            self.now,
            members=self.members,
        )

    def absorb(self, absorbed, survivor, cause="merge:e"):
        return merges.absorb(
            self.store, absorbed, survivor, cause, self.rules, self.now, members=self.members
        )

    def balances_of(self, member_id):
        a = self.store.account(member_id)
        return {"available": a.available, "pending": a.pending, "debt": a.debt}

    def daily(self, days: float = 0):
        self.now += timedelta(days=days)
        done = 0
        for kind in ("order", "account"):
            for shard in range(SHARDS):
                done += run_due(self.store, kind, shard, self.now, self.rules)[0]
        return done

    @property
    def account(self):
        return self.store.account(self.member)

    def balances(self):
        a = self.account
        return {"available": a.available, "pending": a.pending, "debt": a.debt}
