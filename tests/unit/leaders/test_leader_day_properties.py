"""Property (issue 12): for any order of bookings, completions, refunds and T+1 runs
around midnight and 02:00 (completions reported late, a booking planned before a run and
committed after it, runs that rerun or die half way), every completed line is settled exactly
once, in its completion day or the first day after it still open when it was booked, and the
statements reconcile to the fen."""

import contextlib
from dataclasses import dataclass
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnihub.clock import SHANGHAI
from omnihub.errors import Conflict
from omnihub.leaders.days import add_days, day_of, run_due
from omnihub.leaders.model import LeadersChange
from omnihub.leaders.withdrawals import with_payouts
from tests.fakes.leaders_store import FakeLeadersStore
from tests.unit.leaders.leaders_support import DAY0, Hub

LEADERS = {"ldr-a": "mbr_la", "ldr-b": "mbr_lb"}
BUYERS = ["m0", "m1", "m2"]
DAYS = 3
#: the moments of a business day d the histories use ("+1": on the next day), the run of d at
#: 02:00 on d+1 between "before_run" and "after_run"
SLOTS = {
    "noon": (0, "12:00:00"),
    "late": (0, "23:59:50"),
    "midnight": (1, "00:00:10"),
    "before_run": (1, "01:59:59"),
    "after_run": (1, "02:00:30"),
}
ORDERED = list(SLOTS)


def instant(day: str, slot: str) -> datetime:
    plus, clock = SLOTS[slot]
    return datetime.fromisoformat(f"{add_days(day, plus)}T{clock}").replace(tzinfo=SHANGHAI)


class Crash(Exception):
    """The process died."""


@dataclass
class CrashingStore(FakeLeadersStore):
    """Dies at the n-th commit it is asked for, before or after writing it."""

    crash_at: int | None = None
    after_write: bool = False
    asked: int = 0

    def commit(self, change: LeadersChange) -> None:
        self.asked += 1
        if self.asked == self.crash_at and not self.after_write:
            raise Crash
        super().commit(change)
        if self.asked == self.crash_at:
            raise Crash


@st.composite
def histories(draw):
    orders = {
        f"o{n}": tuple(
            (f"L{k}", "rice", draw(st.integers(1, 40_000))) for k in range(draw(st.integers(1, 2)))
        )
        for n in range(draw(st.integers(1, 6)))
    }
    ids = sorted(orders)
    days = []
    for d in range(DAYS):
        slots = {}
        for slot in ORDERED:
            ops = []
            for _ in range(draw(st.integers(0, 2))):
                kind = draw(st.sampled_from(["pay", "complete", "complete", "refund", "withdraw"]))
                order_id = draw(st.sampled_from(ids))
                if kind == "pay":
                    buyer = draw(st.sampled_from(BUYERS))
                    ops.append(("pay", order_id, buyer, draw(st.sampled_from(sorted(LEADERS)))))
                elif kind == "complete":
                    # when it completed: this slot, or an earlier one (a late report)
                    back = draw(st.integers(0, ORDERED.index(slot) + (5 if d else 0)))
                    ops.append(("complete", order_id, back))
                elif kind == "refund":
                    line, _, fen = draw(st.sampled_from(orders[order_id]))
                    amount = draw(st.integers(1, fen))
                    ops.append(("refund", order_id, f"r{d}{slot}{len(ops)}", line, amount))
                else:
                    leader = draw(st.sampled_from(sorted(LEADERS)))
                    ops.append(
                        ("withdraw", leader, f"w{d}{slot}{len(ops)}", draw(st.integers(1, 900)))
                    )
            slots[slot] = ops
        run = draw(st.sampled_from(["once", "twice", "crash", "race"]))
        crash = (draw(st.integers(1, 3)), draw(st.booleans()))
        days.append((slots, run, crash))
    return orders, days


def completed_at(day: str, slot: str, back: int) -> datetime:
    """The instant `back` slots before (day, slot), walking back over earlier days."""
    index = ORDERED.index(slot) - back
    while index < 0:
        day, index = add_days(day, -1), index + len(ORDERED)
    return instant(day, ORDERED[index])


def run(history) -> dict[str, str]:
    """Play the history; check the property; answer the day each completed order settled in."""
    orders, days = history
    store = CrashingStore()
    hub = Hub(store=store)
    for leader, member in LEADERS.items():
        hub.register(leader, member, at=instant(add_days(DAY0, -1), "noon"))
    started: set[str] = set()  # days whose run has started
    expected: dict[str, str] = {}  # order -> the day it must be settled in

    def first_open(day: str) -> str:
        """The first day from `day` whose run has neither started nor come due."""
        while day in started or hub.now >= run_due(day):
            day = add_days(day, 1)
        return day

    def note_booking(order_id: str) -> None:
        order = store.order(order_id)
        if order is None or not order.attributed or not order.completed_at:
            return
        if order_id not in expected:
            when = datetime.fromisoformat(order.completed_at.replace("Z", "+00:00"))
            expected[order_id] = first_open(day_of(when))

    def apply(op, day: str, slot: str) -> None:
        kind, *args = op
        if kind == "pay":
            order_id, buyer, link = args
            hub.pay(order_id, buyer, *orders[order_id], leader=link)
            note_booking(order_id)
        elif kind == "complete":
            order_id, back = args
            hub.complete(order_id, at=completed_at(day, slot, back))
            note_booking(order_id)
        elif kind == "refund":
            order_id, refund_id, line, amount = args
            hub.refund(order_id, refund_id, **{line: amount})
        else:
            leader, wid, fen = args
            if fen % 3 == 0:
                hub.provider.failing.add(f"{wid}-1")
            with contextlib.suppress(Conflict):
                hub.withdraw(leader, wid, fen)
            hub.pay_out()

    def settle(day: str, mode: str, crash: tuple[int, bool]) -> None:
        hub.now = instant(day, "after_run").replace(minute=0, second=0)  # 02:00
        started.add(day)
        if mode == "crash":
            store.asked, (store.crash_at, store.after_write) = 0, crash
            with contextlib.suppress(Crash):
                hub.settle(day)
            store.crash_at = None
        hub.settle(day)
        if mode == "twice":
            hub.settle(day)

    for d, (slots, mode, crash) in enumerate(days):
        day = add_days(DAY0, d)
        for slot in ORDERED:
            ops = slots[slot]
            if slot == "after_run" and mode != "race":
                settle(day, mode, crash)
            for n, op in enumerate(ops):
                hub.now = instant(day, slot)
                racing = mode == "race" and slot == "before_run" and n == len(ops) - 1
                if racing:  # planned before the run, committed after it

                    def run_first(change, day=day, crash=crash):
                        if change.entries or change.movements or change.withdrawals:
                            store.before_commit = None
                            when = hub.now
                            settle(day, "once", crash)
                            hub.now = when

                    store.before_commit = run_first
                apply(op, day, slot)
                store.before_commit = None
            if slot == "before_run" and mode == "race" and day not in started:
                settle(day, "once", crash)
    for extra in range(DAYS, DAYS + 2):  # the runs after the last day settle what is left
        settle(add_days(DAY0, extra), "once", crash)

    for leader in LEADERS:
        assert hub.reconciles(leader)
    settled_lines = 0
    for order in store.orders.values():
        if not order.attributed:
            continue
        entries = [e for (lid, _, oid), e in store.entries.items() if oid == order.order_id]
        if not order.completed_at:
            assert entries == []
            continue
        (entry,) = entries  # booked once
        assert entry.day == expected[order.order_id], (order.order_id, order.completed_at)
        assert entry.day >= day_of(
            datetime.fromisoformat(order.completed_at.replace("Z", "+00:00"))
        )
        assert store.day(entry.leader_id, entry.day).status == "settled"
        assert set(entry.lines) == set(order.lines)  # every line, once
        assert entry.commission_fen - order.reversed_fen == order.commission_fen
        settled_lines += entry.commission_fen
    statements = [s for leader in LEADERS for s in hub.statements(leader)]
    assert sum(s.earned_fen for s in statements) == settled_lines
    for leader in LEADERS:
        available, pending = hub.balance(leader)
        mine = [o for o in store.orders.values() if o.leader_id == leader]
        assert pending == sum(o.commission_fen for o in mine if not o.completed_at)
        paid_out = sum(
            p.amount_fen
            for w in store.withdrawals(leader, 1_000)
            for p in with_payouts(store, w).payouts
            if p.status != "failed"
        )
        assert available == sum(o.commission_fen for o in mine if o.completed_at) - paid_out
    return expected


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_every_line_is_settled_once_in_its_day_or_the_first_open_day_after_it(history):
    run(history)


def test_the_property_sees_the_midnight_and_02_00_cases():
    """A fixed history through the same runner: a completion at 23:59:50 reported at 00:00:10,
    one planned before the run and committed after it, one reported after the run."""
    orders = {"o0": (("L0", "rice", 10_000),), "o1": (("L0", "rice", 20_000),)}
    day0 = {slot: [] for slot in ORDERED}
    day0["noon"] = [("pay", "o0", "m0", "ldr-a"), ("pay", "o1", "m0", "ldr-a")]
    day0["midnight"] = [("complete", "o0", 1)]  # completed at 23:59:50
    day0["before_run"] = [("complete", "o1", 0)]  # races the run
    quiet: dict[str, list] = {slot: [] for slot in ORDERED}
    run(
        (
            orders,
            [(day0, "race", (1, False)), (quiet, "once", (1, False)), (quiet, "twice", (1, False))],
        )
    )
