"""SPEC 4.5 withdrawals: atomic balance check, payouts of at most 200 yuan, requested -> paid or
failed, a failed payout's money comes back, idempotent per withdrawal id."""

import threading

import pytest

from omnihub.errors import Conflict, NotFound
from omnihub.leaders.withdrawals import split
from tests.unit.leaders.leaders_support import Hub, row


@pytest.fixture
def hub():
    """ldr-a with 1,000 yuan available (one 10,000-yuan order at 10%, settled)."""
    h = Hub()
    h.register("ldr-a", "mbr_leader_a")
    h.set_tier("ldr-a", "star")
    h.pay("o1", "mbr_1", ("L1", "rice", 1_000_000), leader="ldr-a")
    h.complete("o1")
    h.next_run()
    assert h.balance("ldr-a") == (100_000, 0)
    return h


def test_split_into_payouts_of_at_most_the_cap():
    assert split(50_000, 20_000) == [20_000, 20_000, 10_000]
    assert split(40_000, 20_000) == [20_000, 20_000]
    assert split(1, 20_000) == [1]


def test_a_withdrawal_takes_the_balance_at_once_and_is_split_into_payouts(hub):
    w = hub.withdraw("ldr-a", "w1", 50_000)
    assert [(p.payout_id, p.amount_fen, p.status) for p in w.payouts] == [
        ("w1-1", 20_000, "requested"),
        ("w1-2", 20_000, "requested"),
        ("w1-3", 10_000, "requested"),
    ]
    assert w.status == "requested"
    assert hub.balance("ldr-a") == (50_000, 0)
    assert len(hub.store.events_of("commission.payout_requested")) == 3
    assert hub.pay_out() == 3
    assert hub.store.withdrawal("ldr-a", "w1").status == "paid"
    assert hub.pay_out() == 0  # redelivered requests change nothing
    hub.next_run()
    assert row(hub.statements("ldr-a")[-1])[1:] == (100_000, 0, 0, 50_000, 50_000)
    assert hub.reconciles("ldr-a")


def test_the_same_withdrawal_again_answers_the_same_and_another_amount_is_refused(hub):
    first = hub.withdraw("ldr-a", "w1", 30_000)
    assert hub.withdraw("ldr-a", "w1", 30_000) == first
    with pytest.raises(Conflict):
        hub.withdraw("ldr-a", "w1", 10_000)
    assert hub.balance("ldr-a") == (70_000, 0)


def test_never_below_zero_and_none_while_negative(hub):
    with pytest.raises(Conflict):
        hub.withdraw("ldr-a", "w1", 100_001)
    hub.withdraw("ldr-a", "w2", 100_000)
    with pytest.raises(Conflict):
        hub.withdraw("ldr-a", "w3", 1)
    hub.refund("o1", "r1", L1=500_000)  # after settlement: -50,000
    assert hub.balance("ldr-a") == (-50_000, 0)
    with pytest.raises(Conflict, match="wait until it is positive"):
        hub.withdraw("ldr-a", "w4", 1)
    with pytest.raises(NotFound):
        hub.withdraw("ldr-nobody", "w5", 1)


def test_racing_withdrawals_cannot_overdraw(hub):
    results: list[str] = []

    def take(n: int) -> None:
        try:
            hub.withdraw("ldr-a", f"w{n}", 30_000)
            results.append("ok")
        except Conflict:
            results.append("short")

    threads = [threading.Thread(target=take, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok"] * 3 + ["short"] * 5
    assert hub.balance("ldr-a") == (10_000, 0)


def test_a_failed_payout_returns_its_money_on_the_next_statement(hub):
    hub.provider.failing.add("w1-2")
    hub.withdraw("ldr-a", "w1", 50_000)
    hub.pay_out()
    w = hub.store.withdrawal("ldr-a", "w1")
    assert [p.status for p in w.payouts] == ["paid", "failed", "paid"]
    assert w.status == "partially_paid"
    assert hub.balance("ldr-a") == (70_000, 0)
    assert [e.data["payout_id"] for e in hub.store.events_of("commission.payout_failed")] == [
        "w1-2"
    ]
    hub.next_run()
    last = hub.statements("ldr-a")[-1]
    assert (last.withdrawals_fen, last.returned_fen, last.withdrawn_fen) == (50_000, 20_000, 30_000)
    assert last.closing_fen == 70_000
    assert hub.reconciles("ldr-a")


def test_a_return_on_a_later_day_is_on_that_days_statement(hub):
    hub.provider.failing.add("w1-1")
    hub.withdraw("ldr-a", "w1", 20_000)
    hub.next_run()
    hub.pay_out()  # the provider answers the next day
    hub.next_run()
    before, after = hub.statements("ldr-a")[-2:]
    assert (before.withdrawn_fen, after.withdrawn_fen) == (20_000, -20_000)
    assert hub.balance("ldr-a") == (100_000, 0)
    assert hub.reconciles("ldr-a")
