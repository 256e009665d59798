"""Property (issue 4): any interleaving and duplication of a member's order, completion, refund
and activity events ends in the same balances as applying each event once in time order."""

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.points.points_support import T0, Points

KINDS = ("checkin", "survey", "review")


@st.composite
def histories(draw):
    events = []
    for o in range(draw(st.integers(1, 3))):
        order_id = f"o{o}"
        paid_at = T0 + timedelta(hours=o)
        lines = [
            (f"L{n}", draw(st.sampled_from(["rice", "oil"])), draw(st.integers(0, 60_000)))
            for n in range(draw(st.integers(1, 3)))
        ]
        events.append(
            (paid_at, ("pay", order_id, tuple(lines), draw(st.sampled_from(["tmall", "jd"]))))
        )
        if draw(st.booleans()):
            events.append((paid_at + timedelta(hours=5), ("complete", order_id)))
        for r in range(draw(st.integers(0, 2))):
            refunded = draw(
                st.lists(st.sampled_from(lines), min_size=1, max_size=len(lines), unique=True)
            )
            amounts = tuple((lid, draw(st.integers(1, max(fen, 1)))) for lid, _, fen in refunded)
            events.append(
                (paid_at + timedelta(hours=6 + r), ("refund", order_id, f"r{o}{r}", amounts))
            )
    for a in range(draw(st.integers(0, 6))):
        at = T0 + timedelta(days=draw(st.integers(0, 1)), minutes=a)
        events.append((at, ("activity", f"a{a}", draw(st.sampled_from(KINDS)), at)))
    replays = draw(st.lists(st.sampled_from(events), max_size=len(events)))
    shuffled = draw(st.permutations(events + replays))
    return sorted(events, key=lambda e: e[0]), shuffled


def apply(p, event):
    _, (kind, *args) = event
    if kind == "pay":
        order_id, lines, channel = args
        p.pay(order_id, *lines, channel=channel)
    elif kind == "complete":
        p.complete(args[0], at=T0 + timedelta(hours=5))
    elif kind == "refund":
        order_id, refund_id, amounts = args
        p.refund(order_id, refund_id, **dict(amounts))
    else:
        activity_id, activity_kind, at = args
        p.activity(activity_id, activity_kind, at=at)


def outcome(events):
    p = Points()
    for event in events:
        apply(p, event)
    before = p.balances()
    p.daily(days=10)
    return before, p.balances(), p.account.tier


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_balances_do_not_depend_on_delivery_order_or_repeats(history):
    in_time_order, as_delivered = history
    assert outcome(as_delivered) == outcome(in_time_order)
