"""scripts/reconcile_commission.py's report: reconciled books pass, a statement that does not add
up (or a balance that moved without a movement) fails with the leader and the day named."""

from dataclasses import replace

from scripts.reconcile_commission import report
from tests.unit.leaders.leaders_support import Hub


def books() -> Hub:
    hub = Hub()
    hub.register("ldr-a", "mbr_la")
    hub.pay("o1", "m1", ("L1", "rice", 10_000), ("L2", "oil", 3_333), leader="ldr-a")
    hub.complete("o1")
    hub.next_run()
    hub.refund("o1", "r1", L2=3_333)
    hub.withdraw("ldr-a", "w1", 300)
    hub.pay_out()
    hub.next_run()
    return hub


def test_reconciled_books_pass():
    lines, ok = report(books().store, ["ldr-a"])
    assert ok
    assert lines[1].split() == ["ldr-a", "2", "666", "666", "(", "2)", "200", "200", "0", "ok"]
    assert lines[-1].endswith("earned 666 fen = settled lines 666 fen: reconciled")


def test_a_statement_that_does_not_add_up_fails():
    hub = books()
    key = ("ldr-a", hub.statements("ldr-a")[1].date)
    day = hub.store.leader_days[key]
    hub.store.leader_days[key] = replace(day, statement=replace(day.statement, reversed_fen=165))
    lines, ok = report(hub.store, ["ldr-a"])
    assert not ok
    assert any("closing != opening + earned - reversed - withdrawn" in line for line in lines)
    assert any("reversed != its reversals (166 != 165)" in line for line in lines)


def test_money_that_moved_without_a_movement_fails():
    hub = books()
    account = hub.store.accounts["ldr-a"]
    hub.store.accounts["ldr-a"] = replace(account, available_fen=account.available_fen + 1)
    lines, ok = report(hub.store, ["ldr-a"])
    assert not ok
    assert "available 201 != last closing 200 + booked since 0" in "\n".join(lines)
