"""Property (issue 7): for any orders, completions, refunds and withdrawals over a few days,
settling every day once, twice, or with a crash half way and a rerun gives the same statements,
balances and pending amounts, and every leader reconciles to the fen.

Issue 11 adds to the histories refunds that come before their payment, name a line the order
lacks or exceed what is left of a line, and merges of buyers that the leaders consumer hears of
late and in reverse order: a payment always counts, and no binding stays on an absorbed member."""

import contextlib
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnihub.errors import Conflict
from omnihub.leaders.days import add_days
from omnihub.leaders.model import LeadersChange
from omnihub.leaders.settlement import settle_leader_day
from omnihub.leaders.withdrawals import with_payouts
from tests.fakes.leaders_store import FakeLeadersStore
from tests.unit.leaders.leaders_support import DAY0, Hub

LEADERS = {"ldr-a": "mbr_la", "ldr-b": "mbr_lb"}
BUYERS = ["m0", "m1", "m2", "mbr_la"]  # a leader buying through their own link: no commission
MERGING = ["m0", "m1", "m2"]
DAYS = 3
CRASHES: list[int] = []


class Crash(Exception):
    """The process died."""


@dataclass
class CrashingStore(FakeLeadersStore):
    """Dies at the n-th commit it is asked for, before or after writing it."""

    crash_at: int | None = None
    after_write: bool = False
    asked: int = 0
    crashes: int = 0

    def commit(self, change: LeadersChange) -> None:
        self.asked += 1
        if self.asked == self.crash_at and not self.after_write:
            self.crashes += 1
            raise Crash
        super().commit(change)
        if self.asked == self.crash_at:
            self.crashes += 1
            raise Crash


def from_first_principles(store: FakeLeadersStore, leader: str) -> tuple[int, int]:
    """(available, pending) from the orders and withdrawals alone: settled orders are worth
    their commission now (reversals included), unsettled ones are pending."""

    def settled(day: str | None) -> bool:
        item = store.day(leader, day) if day else None
        return item is not None and item.status == "settled"

    mine = [o for o in store.orders.values() if o.leader_id == leader]
    paid_out = sum(
        p.amount_fen
        for w in store.withdrawals(leader, 1_000)
        for p in with_payouts(store, w).payouts
        if p.status != "failed"
    )
    available = sum(o.commission_fen for o in mine if settled(o.eligible_day)) - paid_out
    pending = sum(o.commission_fen for o in mine if not settled(o.eligible_day))
    return available, pending


def live_binding(store: FakeLeadersStore, member_id: str) -> bool:
    binding = store.binding(member_id)
    return binding is not None and binding.moved_to is None


@st.composite
def histories(draw):
    orders = {}
    for n in range(draw(st.integers(1, 6))):
        lines = tuple(
            (f"L{k}", draw(st.sampled_from(["rice", "oil"])), draw(st.integers(0, 50_000)))
            for k in range(draw(st.integers(1, 3)))
        )
        orders[f"o{n}"] = lines
    days = []
    for _ in range(DAYS):
        ops = []
        for _ in range(draw(st.integers(0, 8))):
            order_id = draw(st.sampled_from(sorted(orders)))
            kind = draw(st.sampled_from(["pay", "pay", "complete", "refund", "withdraw", "merge"]))
            if kind == "merge":
                absorbed, survivor = draw(st.permutations(MERGING))[:2]
                ops.append(("merge", absorbed, survivor))
            elif kind == "pay":
                link = draw(st.sampled_from([None, "ldr-a", "ldr-b"]))
                ops.append(("pay", order_id, draw(st.sampled_from(BUYERS)), link))
            elif kind == "complete":
                ops.append(("complete", order_id))
            elif kind == "refund":
                lines = (*orders[order_id], ("L9", "rice", 100))  # L9: a line no order has
                refunded = draw(st.lists(st.sampled_from(lines), min_size=1, unique=True))
                amounts = tuple(  # up to twice the line: some exceed what is left
                    (lid, draw(st.integers(1, max(2 * fen, 1)))) for lid, _, fen in refunded
                )
                ops.append(("refund", order_id, f"r{len(ops)}", amounts))
            else:
                leader = draw(st.sampled_from(sorted(LEADERS)))
                wid = f"w{len(days)}{len(ops)}"
                fails = draw(st.booleans())  # its first payout fails
                ops.append(("withdraw", leader, wid, draw(st.integers(1, 3_000)), fails))
        days.append(ops)
    return orders, days


def run(history, mode: str, crash_at: int = 1, after_write: bool = False):
    orders, days = history
    store = CrashingStore()
    hub = Hub(store=store)
    for leader, member in LEADERS.items():
        hub.register(leader, member)
    for d, ops in enumerate(days):
        hub.at_day(add_days(DAY0, d))
        merged: list[tuple[str, str]] = []
        for op in ops:
            kind, *args = op
            if kind == "merge":
                absorbed, survivor = args
                if hub.root(absorbed) == absorbed and hub.root(survivor) == survivor:
                    hub.merge_members(absorbed, survivor)
                    merged.append((absorbed, survivor))
            elif kind == "pay":
                order_id, buyer, link = args
                hub.pay(order_id, buyer, *orders[order_id], leader=link)
            elif kind == "complete":
                hub.complete(args[0])
            elif kind == "refund":
                order_id, refund_id, amounts = args
                hub.refund(order_id, refund_id, **dict(amounts))
            else:
                leader, wid, fen, fails = args
                if fails:
                    hub.provider.failing.add(f"{wid}-1")
                with contextlib.suppress(Conflict):
                    hub.withdraw(leader, wid, fen)
        for absorbed, survivor in reversed(merged):  # heard of late, the last merge first
            hub.follow(absorbed, survivor)
        hub.pay_out()
        hub.at_day(add_days(DAY0, d + 1), hour=2)
        if mode == "once":
            hub.settle()
        elif mode == "twice":
            hub.settle()
            hub.settle()
            for leader in LEADERS:  # as a stale index (the GSI is eventually consistent) would
                settle_leader_day(store, leader, add_days(DAY0, d), hub.now)
        else:
            store.asked, store.crash_at, store.after_write = 0, crash_at, after_write
            with contextlib.suppress(Crash):
                hub.settle()
            store.crash_at = None
            hub.settle()
    for leader in LEADERS:
        assert hub.reconciles(leader)
        assert hub.balance(leader) == from_first_principles(store, leader)
        assert all(hub.root(b.member_id) == b.member_id for b in store.bound_members(leader, 99))
    for member_id in store.bindings:  # nothing bound stays on an absorbed member
        assert hub.root(member_id) == member_id or not live_binding(store, member_id)
    for order_id, lines in orders.items():  # every order that counts, counts in full or less
        order = store.order(order_id)
        if order is not None and order.attributed:
            assert {k: x.paid_fen for k, x in order.lines.items()} == {
                lid: fen for lid, _, fen in lines
            }
            assert all(0 <= x.refunded_fen <= x.paid_fen for x in order.lines.values())
    CRASHES.append(store.crashes)
    return {
        leader: (
            hub.statements(leader),
            hub.balance(leader),
            len(hub.store.events_of("commission.settled")),
        )
        for leader in LEADERS
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.integers(1, 4), st.booleans())
def test_settling_once_twice_or_after_a_crash_gives_the_same_statements(history, crash_at, after):
    once = run(history, "once")
    assert run(history, "twice") == once
    assert run(history, "crash", crash_at, after) == once


def test_the_property_sees_refunds_before_payments_and_late_merges():
    """A fixed history: B's refund names a line its order lacks and comes first; C absorbs A
    after A absorbed B, and the leaders consumer hears of C<-A first."""
    orders = {"o0": (("L0", "rice", 10_000),), "o1": (("L0", "oil", 20_000),)}
    days = [
        [
            ("refund", "o0", "r0", (("L9", 100),)),
            ("pay", "o0", "m2", "ldr-a"),
            ("pay", "o1", "m0", "ldr-b"),
            ("merge", "m2", "m1"),
            ("merge", "m1", "m0"),
            ("complete", "o0"),
        ],
        [("refund", "o1", "r1", (("L0", 30_000),))],  # beyond the line: applies nothing
    ]
    result = run((orders, days), "once")
    assert result["ldr-a"][1] == (500, 0)
    assert result["ldr-b"][1] == (0, 1_000)


def test_the_property_sees_money_move():
    """A fixed history through the same runner: not everything is zero."""
    orders = {"o0": (("L0", "rice", 10_000),), "o1": (("L0", "oil", 20_000),)}
    days = [
        [("pay", "o0", "m0", "ldr-a"), ("pay", "o1", "m1", "ldr-b"), ("complete", "o0")],
        [
            ("complete", "o1"),
            ("refund", "o0", "r0", (("L0", 2_000),)),
            ("withdraw", "ldr-a", "w10", 300, False),
        ],
        [("refund", "o1", "r1", (("L0", 20_000),))],
    ]
    result = run((orders, days), "crash", crash_at=1, after_write=True)
    assert CRASHES[-1] == 3  # each of the three runs died once, after its first write
    statements_a, balance_a, _ = result["ldr-a"]
    assert [
        (s.earned_fen, s.reversed_fen, s.withdrawn_fen, s.closing_fen) for s in statements_a
    ] == [
        (500, 0, 0, 500),
        (0, 100, 300, 100),
    ]
    assert balance_a == (100, 0)
    statements_b, balance_b, _ = result["ldr-b"]
    assert [s.closing_fen for s in statements_b] == [1_000, 0]
    assert balance_b == (0, 0)
