"""Property (issue 4, extended in issue 11): any interleaving and duplication of a member's order,
completion, refund and activity events ends in the same balances as applying each event once in
time order. Histories hold refunds dated before their payment (held, then applied), refunds that
no order of events could apply (a line the order lacks, more than a line was paid: refused
whatever the order), and refunds that arrive after the order's points expired (phase 2, after a
year: they take nothing), with late redeliveries of the first phase among them."""

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.points.points_support import T0, Points

KINDS = ("checkin", "survey", "review")
NOW = T0 + timedelta(days=1, hours=12)  # the first phase is processed then
LATER = T0 + timedelta(days=400)  # every bucket of the first phase has expired


def _refund_lines(draw, lines, left):
    """Valid amounts: a line is never refunded beyond what is left of it."""
    chosen = draw(st.lists(st.sampled_from(lines), min_size=1, max_size=len(lines), unique=True))
    amounts = []
    for lid, _, _ in chosen:
        if left[lid] >= 1:
            fen = draw(st.integers(1, left[lid]))
            left[lid] -= fen
            amounts.append((lid, fen))
    return tuple(amounts)


@st.composite
def histories(draw):
    first, second = [], []
    for o in range(draw(st.integers(1, 3))):
        order_id = f"o{o}"
        paid_at = T0 + timedelta(hours=o)
        lines = [
            (f"L{n}", draw(st.sampled_from(["rice", "oil"])), draw(st.integers(0, 60_000)))
            for n in range(draw(st.integers(1, 3)))
        ]
        left = {lid: fen for lid, _, fen in lines}
        channel = draw(st.sampled_from(["tmall", "jd"]))
        first.append((paid_at, ("pay", order_id, tuple(lines), channel, paid_at)))
        if draw(st.booleans()):
            first.append((paid_at + timedelta(hours=5), ("complete", order_id)))
        for r in range(draw(st.integers(0, 2))):
            amounts = _refund_lines(draw, lines, left)
            if amounts:  # dated from before the payment to after it
                at = paid_at + timedelta(hours=draw(st.integers(-2, 8)), minutes=r)
                first.append((at, ("refund", order_id, f"r{o}{r}", amounts)))
        bad = draw(st.sampled_from(["none", "unknown_line", "over_line"]))
        if bad != "none":
            lid, _, fen = lines[0]
            amounts = (("LX", 100),) if bad == "unknown_line" else ((lid, fen + 1),)
            at = paid_at + timedelta(hours=draw(st.integers(-2, 8)), minutes=30)
            first.append((at, ("refund", order_id, f"bad{o}", amounts)))
        if draw(st.booleans()):  # a year later: its points expired, if they ever matured
            amounts = _refund_lines(draw, lines, left)
            if amounts:
                second.append(
                    (LATER + timedelta(hours=o), ("refund", order_id, f"late{o}", amounts))
                )
    for a in range(draw(st.integers(0, 6))):
        at = T0 + timedelta(days=draw(st.integers(0, 1)), minutes=a)
        first.append((at, ("activity", f"a{a}", draw(st.sampled_from(KINDS)), at)))
    first_delivered = draw(
        st.permutations(first + draw(st.lists(st.sampled_from(first), max_size=len(first))))
    )
    late = draw(st.lists(st.sampled_from(first), max_size=3))  # redelivered a year late
    second_delivered = draw(
        st.permutations(
            second + late + draw(st.lists(st.sampled_from(second or first), max_size=2))
        )
    )
    in_time_order = (sorted(first, key=lambda e: e[0]), sorted(second, key=lambda e: e[0]))
    return in_time_order, (first_delivered, second_delivered)


def apply(p, event):
    _, (kind, *args) = event
    if kind == "pay":
        order_id, lines, channel, paid_at = args
        p.pay(order_id, *lines, channel=channel, at=paid_at)
    elif kind == "complete":
        p.complete(args[0], at=T0 + timedelta(hours=5))
    elif kind == "refund":
        order_id, refund_id, amounts = args
        p.refund(order_id, refund_id, **dict(amounts))
    else:
        activity_id, activity_kind, at = args
        p.activity(activity_id, activity_kind, at=at)


def outcome(phases):
    first, second = phases
    p = Points()
    p.now = NOW
    for event in first:
        apply(p, event)
    before = p.balances()
    p.daily(days=10)
    matured = (p.balances(), p.account.tier)
    p.now = LATER
    p.daily()  # expiry
    for event in second:
        apply(p, event)
    refused = sorted((o.order_id, r) for o in p.store.orders.values() for r in o.rejected)
    return before, matured, p.balances(), p.account.tier, refused


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_balances_do_not_depend_on_delivery_order_or_repeats(history):
    in_time_order, as_delivered = history
    assert outcome(as_delivered) == outcome(in_time_order)
