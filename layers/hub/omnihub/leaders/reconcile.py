"""Reconciliation to the fen: every statement adds up, statements chain, each day's
earnings are the sum of the commission lines it settled, its reversals and withdrawals are the
movements booked into it, and the available balance is the last closing plus what was booked
since. Used by `scripts/reconcile_commission.py`, the demo and the tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from omnihub.leaders.model import LeaderDay
from omnihub.leaders.ports import LeadersStore

ALL_DAYS = ("0001-01-01", "9999-12-31")


@dataclass
class Reconciliation:
    leader_id: str
    statements: int = 0
    earned_fen: int = 0
    settled_lines_fen: int = 0
    settled_lines: int = 0
    closing_fen: int = 0
    available_fen: int = 0
    pending_fen: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def reconcile_leader(store: LeadersStore, leader_id: str) -> Reconciliation:
    """Check every statement of one leader against its lines, movements and account."""
    result = Reconciliation(leader_id=leader_id)
    days = store.days(leader_id, *ALL_DAYS)
    previous: int = 0
    settled_through: str | None = None
    open_since: str | None = None
    booked_since = 0
    for day in days:
        entries, moves = store.day_contents(leader_id, day.day)
        if day.status == "open" or day.statement is None:
            booked_since += sum(m.balance_delta for m in moves)
            open_since = open_since or day.day
            continue
        if open_since is not None:
            result.problems.append(f"{day.day}: settled after the open day {open_since}")
        s = day.statement
        _check(
            result,
            day,
            s.opening_fen + s.earned_fen - s.reversed_fen - s.withdrawn_fen,
            s.closing_fen,
            "closing != opening + earned - reversed - withdrawn",
        )
        _check(result, day, s.opening_fen, previous, "opening != the previous closing")
        lines = sum(sum(e.lines.values()) for e in entries)
        _check(result, day, lines, s.earned_fen, "earned != the sum of its settled lines")
        kinds = {
            k: sum(m.amount_fen for m in moves if m.kind == k)
            for k in ("reversal", "withdrawal", "return")
        }
        _check(result, day, kinds["reversal"], s.reversed_fen, "reversed != its reversals")
        _check(
            result, day, kinds["withdrawal"], s.withdrawals_fen, "withdrawals != its withdrawals"
        )
        _check(result, day, kinds["return"], s.returned_fen, "returned != its failed payouts")
        _check(
            result,
            day,
            s.withdrawals_fen - s.returned_fen,
            s.withdrawn_fen,
            "withdrawn != withdrawals - returned",
        )
        result.statements += 1
        result.earned_fen += s.earned_fen
        result.settled_lines_fen += lines
        result.settled_lines += sum(len(e.lines) for e in entries)
        previous = s.closing_fen
        settled_through = day.day
    account = store.account(leader_id)
    result.closing_fen = previous
    result.available_fen = account.available_fen
    result.pending_fen = store.pending_fen(leader_id)
    if account.last_statement != settled_through or account.closing_fen != previous:
        result.problems.append("the account does not name the last statement and its closing")
    if account.available_fen != previous + booked_since:
        result.problems.append(
            f"available {account.available_fen} != last closing {previous}"
            f" + booked since {booked_since}"
        )
    if result.pending_fen < 0:
        result.problems.append(f"pending is negative: {result.pending_fen}")
    if result.earned_fen != result.settled_lines_fen:
        result.problems.append("total earned != total of settled lines")
    return result


def _check(result: Reconciliation, day: LeaderDay, got: int, want: int, what: str) -> None:
    if got != want:
        result.problems.append(f"{day.day}: {what} ({got} != {want})")
