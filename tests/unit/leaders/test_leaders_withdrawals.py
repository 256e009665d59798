"""Withdrawals: atomic balance check, payouts of at most 200 yuan, requested -> paid or
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
    assert hub.withdrawal("ldr-a", "w1").status == "paid"
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
    w = hub.withdrawal("ldr-a", "w1")
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


# -- issue 12: any amount up to the balance, applied once and completely -------------------------
YUAN = 100


@pytest.fixture
def rich():
    """ldr-a (star) with 120,000 yuan available: one 1,200,000-yuan order at 10%, settled."""
    h = Hub()
    h.register("ldr-a", "mbr_leader_a")
    h.set_tier("ldr-a", "star")
    h.pay("o1", "mbr_1", ("L1", "rice", 1_200_000 * YUAN), leader="ldr-a")
    h.complete("o1")
    h.next_run()
    assert h.balance("ldr-a") == (120_000 * YUAN, 0)
    return h


def requested_ids(hub: Hub) -> list[str]:
    return [e.data["payout_id"] for e in hub.store.events_of("commission.payout_requested")]


@pytest.mark.parametrize(("yuan", "parts"), [(20_000, 100), (100_000, 500)])
def test_a_withdrawal_of_any_size_is_applied_once_and_completely(rich, yuan, parts):
    """20,000 yuan needs 100 payouts of 200 yuan, 100,000 yuan 500: more than one transaction
    holds; the balance goes in the first, the payouts in chunks."""
    w = rich.withdraw("ldr-a", "big", yuan * YUAN)
    assert (w.parts, len(w.payouts), w.status) == (parts, parts, "requested")
    assert {p.amount_fen for p in w.payouts} == {200 * YUAN}
    assert rich.balance("ldr-a") == ((120_000 - yuan) * YUAN, 0)  # taken at once
    assert rich.pay_out() == parts
    assert sorted(requested_ids(rich)) == sorted(f"big-{n}" for n in range(1, parts + 1))
    assert len(rich.provider.sent) == parts  # each payout sent once
    assert rich.withdrawal("ldr-a", "big").status == "paid"
    assert rich.withdraw("ldr-a", "big", yuan * YUAN).withdrawal_id == "big"  # the same again
    assert rich.balance("ldr-a") == ((120_000 - yuan) * YUAN, 0)
    rich.next_run()
    last = rich.statements("ldr-a")[-1]
    assert (last.withdrawals_fen, last.withdrawn_fen) == (yuan * YUAN, yuan * YUAN)
    assert rich.reconciles("ldr-a")


@pytest.mark.parametrize("after_write", [False, True])
def test_a_big_withdrawal_that_crashed_half_way_resumes_on_the_replay(rich, after_write):
    """The process dies in the third chunk (before or after its commit); SQS redelivers the
    continuation (and every event once more): each payout is requested and paid exactly once,
    the balance was taken once."""
    rich.withdraw("ldr-a", "big", 100_000 * YUAN)
    commit = rich.store.commit
    chunks = []

    def dying(change):
        if change.withdrawals and change.withdrawals[0][0].version != 1:
            chunks.append(change.withdrawals[0][0].issued)
            if len(chunks) == 2:
                if after_write:
                    commit(change)
                raise RuntimeError("the payouts function died")
        commit(change)

    rich.store.commit = dying  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        rich.continue_payouts()
    rich.store.commit = commit  # type: ignore[method-assign]
    issued = rich.store.withdrawal("ldr-a", "big").issued
    assert issued == (240 if after_write else 160)
    rich.continue_payouts()  # the redelivered continuations: the done chunk is a duplicate
    rich.continue_payouts()
    assert rich.store.withdrawal("ldr-a", "big").issued == 500
    assert rich.pay_out() == 500
    assert rich.pay_out() == 0  # every payout event delivered again: nothing twice
    ids = requested_ids(rich)
    assert len(ids) == len(set(ids)) == 500
    assert rich.withdrawal("ldr-a", "big").status == "paid"
    assert rich.balance("ldr-a") == (20_000 * YUAN, 0)
    rich.next_run()
    assert rich.reconciles("ldr-a")


def test_a_big_withdrawal_with_failed_payouts_returns_exactly_those(rich):
    rich.provider.failing |= {"big-7", "big-300"}
    rich.withdraw("ldr-a", "big", 100_000 * YUAN)
    rich.pay_out()
    w = rich.withdrawal("ldr-a", "big")
    assert [p.payout_id for p in w.payouts if p.status == "failed"] == ["big-7", "big-300"]
    assert w.status == "partially_paid"
    assert rich.balance("ldr-a") == (20_000 * YUAN + 400 * YUAN, 0)
    rich.next_run()
    assert rich.statements("ldr-a")[-1].returned_fen == 400 * YUAN
    assert rich.reconciles("ldr-a")
