"""A driver for the leaders domain on the in-memory store, used the way the consumers, the API,
the T+1 run and the payouts function use it (imported, not collected)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from omnihub.clock import SHANGHAI, iso
from omnihub.identity import admin
from omnihub.identity.chain import lineage, live_root
from omnihub.identity.model import HeldIdentity, Member
from omnihub.leaders import binding, orders, settlement, tiers, withdrawals
from omnihub.leaders.days import ACTIVE_SHARDS, add_days, day_of
from omnihub.leaders.model import Statement, TierSpell
from omnihub.leaders.orders import PaidLine, Payment
from omnihub.leaders.ports import PayoutResult
from omnihub.leaders.ratings import record_rating
from omnihub.leaders.reconcile import reconcile_leader
from omnihub.leaders.scheme import CommissionScheme
from tests.fakes.leaders_store import FakeLeadersStore
from tests.fakes.member_store import FakeMemberStore

T0 = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)  # 10:00 on 2026-11-11 in Shanghai
DAY0 = "2026-11-11"
SCHEME = CommissionScheme()


@dataclass
class FakeProvider:
    """Pays, except the payout ids it is told to fail; answers a repeat with the first result."""

    failing: set[str] = field(default_factory=set)
    sent: dict[str, PayoutResult] = field(default_factory=dict)

    def pay(self, leader_id: str, payout_id: str, amount_fen: int) -> PayoutResult:
        key = f"{leader_id}/{payout_id}"
        if key not in self.sent:
            failed = payout_id in self.failing
            self.sent[key] = PayoutResult(
                status="failed" if failed else "paid",
                reference=f"fake-{key}",
                reason="the test made it fail" if failed else "",
            )
        return self.sent[key]


@dataclass(frozen=True)
class _HubClock:
    hub: Hub

    def now(self) -> datetime:
        return self.hub.now


def via(member_id: str) -> str:
    """The lineage of the phone a test member starts with (its id is the phone's key)."""
    return lineage(("phone", member_id))


class Hub:
    """Leaders, members and orders on fake stores with a movable clock. Members exist in the
    members table once a merge, un-merge or erasure names them; each starts with one phone whose
    key is its id (so `via(member_id)` is the identity that brings its events)."""

    def __init__(self, scheme: CommissionScheme = SCHEME, store: FakeLeadersStore | None = None):
        self.store = store or FakeLeadersStore()
        self.members = FakeMemberStore()
        self.scheme = scheme
        self.now = T0
        self.provider = FakeProvider()
        self._events = 0

    @property
    def clock(self) -> _HubClock:
        return _HubClock(self)

    # -- members and leaders -----------------------------------------------------------------
    def root(self, member_id: str) -> str:
        return live_root(self.members, member_id)[0]

    def member(self, member_id: str) -> Member:
        """The member's row, created (with its phone claimed) the first time it is named."""
        rows = self.members.member_rows
        if member_id not in rows:
            at = iso(self.now)
            phone = HeldIdentity("phone", member_id, "***", "", member_id, at)
            rows[member_id] = Member(member_id=member_id, created_at=at, identities=(phone,))
            self.members.claim_rows[phone.ref] = member_id
        return rows[member_id]

    def merge_members(self, absorbed: str, survivor: str) -> None:
        """What One ID commits for a merge (the leaders consumer hears of it later)."""
        gone, kept = self.member(absorbed), self.member(survivor)
        if gone.merged_into == survivor:
            return  # the same merge again
        assert gone.merged_into is None
        assert kept.merged_into is None
        self.members.member_rows[survivor] = kept.bump(
            identities=(*kept.identities, *gone.identities)
        )
        self.members.member_rows[absorbed] = gone.bump(identities=(), merged_into=survivor)
        for held in gone.identities:
            self.members.claim_rows[held.ref] = survivor

    def follow(self, absorbed: str, survivor: str):
        """The leaders consumer handles member.merged."""
        return binding.follow_merge(
            self.store, self.members, absorbed, f"merge:{absorbed}", self.now
        )

    def merge(self, absorbed: str, survivor: str):
        self.merge_members(absorbed, survivor)
        return self.follow(absorbed, survivor)

    def unmerge_members(self, root: str, identity_of: str) -> str:
        """An admin splits the phone that `identity_of` started with (and its origin's other
        identities) out of `root`; the new member's id."""
        self.member(root)
        return admin.unmerge(self.members, root, ("phone", identity_of), "unmerge", self.clock)

    def follow_unmerge(self, root: str, new_id: str):
        """The leaders consumer handles member.unmerged."""
        return binding.follow_unmerge(
            self.store, self.members, root, new_id, f"unmerge:{new_id}", self.now
        )

    def unmerge(self, root: str, identity_of: str) -> str:
        new_id = self.unmerge_members(root, identity_of)
        self.follow_unmerge(root, new_id)
        return new_id

    def erase(self, member_id: str):
        """One ID erases the member; the leaders consumer handles member.erased."""
        self.member(member_id)
        erased = admin.erase(self.members, member_id, f"erase:{member_id}", self.clock)
        assert erased is not None
        return binding.follow_erasure(self.store, erased)

    def register(self, leader_id: str, member_id: str, at: datetime | None = None):
        return binding.register_leader(
            self.store,
            leader_id,
            f"团长{leader_id}",
            "阳光小区",
            member_id,
            at or self.now,
            self.scheme,
            self.now,
            self.members,
        )

    def set_tier(self, leader_id: str, tier: str, since: datetime | None = None) -> None:
        """Put a leader in a tier from `since` (default: registration), as a review would."""
        leader = self.store.leaders[leader_id]
        start = iso(since) if since else leader.registered_at
        spells = (*(s for s in leader.tiers if s.since < start), TierSpell(start, tier))
        self.store.leaders[leader_id] = leader.next(tier=tier, tiers=spells)

    def rebind(self, member_id: str, leader_id: str):
        return binding.rebind(self.store, self.members, member_id, leader_id, "admin-1", self.now)

    # -- orders ----------------------------------------------------------------------------------
    def pay(
        self, order_id, member_id, *lines, leader=None, at=None, channel="groupbuy", stale=False
    ):
        """An order.paid whose identities resolve to `member_id`'s live member (`stale`: the
        member as resolved before a merge that committed since)."""
        self._events += 1
        payment = Payment(
            order_id=order_id,
            member_id=member_id if stale else self.root(member_id),
            channel=channel,
            paid_at=at or self.now,
            lines=[PaidLine(lid, cat, fen) for lid, cat, fen in lines],
            leader_link=leader,
            cause=f"{channel}:e{self._events}",
            via=via(member_id),
        )
        return orders.record_payment(self.store, self.members, payment, self.scheme, self.now)

    def complete(self, order_id, at=None):
        return orders.record_completion(self.store, order_id, at or self.now, self.scheme, self.now)

    def refund(self, order_id, refund_id, **lines):
        return orders.record_refund(self.store, order_id, refund_id, lines, self.scheme, self.now)

    def rate(self, member_id, feedback_id, stars, stale=False):
        rater = member_id if stale else self.root(member_id)
        cause = f"fb:{feedback_id}"
        return record_rating(
            self.store, self.members, rater, via(member_id), cause, stars, self.now
        )

    # -- time and the runs -----------------------------------------------------------------------
    @property
    def today(self) -> str:
        return day_of(self.now)

    def at_day(self, day: str, hour: int = 10) -> None:
        """Move the clock to `hour` o'clock of a Shanghai day (without running anything)."""
        local = datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=SHANGHAI)
        self.now = local.astimezone(UTC)

    def settle(self, day: str | None = None) -> int:
        """The T+1 run for `day` (default: yesterday), every shard."""
        day = day or add_days(self.today, -1)
        return sum(
            settlement.run_settlement(self.store, day, shard, self.now)[0]
            for shard in range(ACTIVE_SHARDS)
        )

    def next_run(self) -> int:
        """02:05 on the next day, then the run for the day before."""
        self.at_day(add_days(self.today, 1), hour=2)
        self.now += timedelta(minutes=5)
        return self.settle()

    def review_tiers(self, month: str) -> int:
        return sum(
            tiers.run_tiers(self.store, month, shard, self.scheme, self.now)[0]
            for shard in range(ACTIVE_SHARDS)
        )

    # -- money out -------------------------------------------------------------------------------
    def withdraw(self, leader_id, withdrawal_id, fen):
        return withdrawals.withdraw(
            self.store, leader_id, withdrawal_id, fen, self.scheme, self.now
        )

    def withdrawal(self, leader_id: str, withdrawal_id: str):
        """The withdrawal with its payouts' results (what the API shows)."""
        stored = self.store.withdrawal(leader_id, withdrawal_id)
        return withdrawals.with_payouts(self.store, stored) if stored else None

    def continue_payouts(self) -> int:
        """What the payouts function does for every commission.payouts_continued on the bus
        (until none is left undone); how many chunks it requested."""
        done = 0
        while True:
            more = 0
            for event in self.store.events_of("commission.payouts_continued"):
                d = event.data
                outcome = withdrawals.continue_payouts(
                    self.store, d["leader_id"], d["withdrawal_id"], d["issued"], self.now
                )
                more += outcome.status == "applied"
            if not more:
                return done
            done += more

    def pay_out(self) -> int:
        """What the payouts function does for every requested payout on the bus (after the
        continuations that request them)."""
        self.continue_payouts()
        done = 0
        for event in self.store.events_of("commission.payout_requested"):
            d = event.data
            outcome = withdrawals.pay_out(
                self.store,
                self.provider,
                d["leader_id"],
                d["withdrawal_id"],
                d["payout_id"],
                self.now,
            )
            done += outcome.status in ("paid", "failed")
        return done

    # -- reading ---------------------------------------------------------------------------------
    def statements(self, leader_id: str) -> list[Statement]:
        days = self.store.days(leader_id, "0001-01-01", "9999-12-31")
        return [d.statement for d in days if d.statement is not None]

    def balance(self, leader_id: str) -> tuple[int, int]:
        """(available, pending)."""
        return (
            self.store.account(leader_id).available_fen,
            self.store.pending_fen(leader_id),
        )

    def reconciles(self, leader_id: str) -> bool:
        result = reconcile_leader(self.store, leader_id)
        assert result.ok, result.problems
        return True


def row(s: Statement) -> tuple[str, int, int, int, int, int]:
    return (s.date, s.opening_fen, s.earned_fen, s.reversed_fen, s.withdrawn_fen, s.closing_fen)
