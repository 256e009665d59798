"""Withdrawals and payouts.

A withdrawal takes its amount from the available balance at once, in one transaction conditioned
on the account's version (two racing withdrawals cannot both pass the balance check), never below
zero and never while the balance is negative. It is split into payouts of at most the payout
channel's cap; each goes out through the payout port (`commission.payout_requested` on the bus,
the payouts function calls the provider) and ends paid or failed. A failed payout's money comes
back to the balance, booked into the leader's open day. Idempotent per withdrawal id.

Any amount up to the balance works, however many payouts it needs: the withdrawal item keeps the
plan (amount, cap) and how many payouts have been requested; the first transaction takes the
balance and requests the first chunk of payouts, and each chunk's transaction carries a
`commission.payouts_continued` event for the next one (through the outbox, so a crash between
chunks resumes when the event is redelivered, and a repeat finds the chunk done). A payout's
result is its own item, written once, so payouts ending at the same time do not contend.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from omnihub.clock import iso
from omnihub.errors import Conflict, InvalidInput, NotFound
from omnihub.events.domain import DomainEvent
from omnihub.leaders.booking import Outcome, book_day, commit_with_retry, leader_event
from omnihub.leaders.days import day_of
from omnihub.leaders.model import (
    EndedPayout,
    LeadersChange,
    Movement,
    Payout,
    Withdrawal,
    split,
)
from omnihub.leaders.ports import LeadersStore, PayoutProvider, PayoutResult
from omnihub.leaders.scheme import CommissionScheme

__all__ = ["PAYOUT_CHUNK", "continue_payouts", "pay_out", "record_payout", "split", "withdraw"]

#: payouts requested per transaction (DynamoDB takes 100 actions; the first transaction also
#: writes the withdrawal, the account, the movement, the day and the continuation)
PAYOUT_CHUNK = 80


def withdraw(
    store: LeadersStore,
    leader_id: str,
    withdrawal_id: str,
    amount_fen: int,
    scheme: CommissionScheme,
    now: datetime,
) -> Withdrawal:
    """Request a withdrawal; Conflict when the balance does not allow it or the id was used for
    another amount; the same request again answers the same withdrawal."""
    if store.leader(leader_id) is None:
        raise NotFound(f"no leader {leader_id}")
    done = store.withdrawal(leader_id, withdrawal_id)
    if done is not None:
        return _same(done, amount_fen)
    result: list[Withdrawal] = []

    def plan() -> tuple[Outcome, LeadersChange]:
        account = store.account(leader_id)
        if account.available_fen <= 0 or amount_fen > account.available_fen:
            raise Conflict(
                f"the available balance is {account.available_fen} fen; {amount_fen} were asked"
                + ("; withdrawals wait until it is positive" if account.available_fen < 0 else ""),
                details=[{"field": "amount_fen", "message": "more than the available balance"}],
            )
        change = LeadersChange()
        day = book_day(store, leader_id, day_of(now), change, now)
        planned = Withdrawal(
            leader_id=leader_id,
            withdrawal_id=withdrawal_id,
            amount_fen=amount_fen,
            requested_at=iso(now),
            day=day,
            cap_fen=scheme.payout_cap_fen,
            version=1,
        )
        requested = replace(planned, issued=min(PAYOUT_CHUNK, planned.parts))
        result[:] = [requested]
        change.withdrawals.append((requested, 0))
        change.accounts.append(
            (account.next(available_fen=account.available_fen - amount_fen), account.version)
        )
        change.movements.append(
            Movement(
                leader_id=leader_id,
                day=day,
                cause=f"withdrawal:{withdrawal_id}",
                kind="withdrawal",
                amount_fen=amount_fen,
                at=iso(now),
            )
        )
        change.events += _requests(requested, 0, now)
        return Outcome("applied", leader_id, amount_fen), change

    if commit_with_retry(store, plan).status == "duplicate":
        stored = store.withdrawal(leader_id, withdrawal_id)
        assert stored is not None
        return _same(stored, amount_fen)
    return result[0]


def _requests(withdrawal: Withdrawal, issued_before: int, now: datetime) -> list[DomainEvent]:
    """The payout requests from `issued_before` up to `withdrawal.issued`, and the continuation
    when payouts remain."""
    leader_id, withdrawal_id = withdrawal.leader_id, withdrawal.withdrawal_id
    cause = f"withdrawal:{leader_id}:{withdrawal_id}"
    events = [
        leader_event(
            "commission.payout_requested",
            cause,
            now,
            {
                "leader_id": leader_id,
                "withdrawal_id": withdrawal_id,
                "payout_id": payout.payout_id,
                "amount_fen": payout.amount_fen,
            },
            subject=payout.payout_id,
        )
        for payout in withdrawal.planned(issued_before + 1, withdrawal.issued)
    ]
    if withdrawal.issued < withdrawal.parts:
        events.append(
            leader_event(
                "commission.payouts_continued",
                cause,
                now,
                {
                    "leader_id": leader_id,
                    "withdrawal_id": withdrawal_id,
                    "issued": withdrawal.issued,
                    "parts": withdrawal.parts,
                },
                subject=f"{withdrawal_id}@{withdrawal.issued}",
            )
        )
    return events


def continue_payouts(
    store: LeadersStore, leader_id: str, withdrawal_id: str, issued: int, now: datetime
) -> Outcome:
    """Request the next chunk of a withdrawal's payouts after the first `issued` (on
    `commission.payouts_continued`); a chunk requested before is a duplicate."""

    def plan() -> tuple[Outcome, LeadersChange]:
        withdrawal = store.withdrawal(leader_id, withdrawal_id)
        if withdrawal is None:
            raise InvalidInput(
                f"no withdrawal {withdrawal_id} of leader {leader_id}",
                details=[{"field": "data.withdrawal_id"}],
            )
        if withdrawal.issued != issued or issued >= withdrawal.parts:
            return Outcome("duplicate", leader_id), LeadersChange()
        more = withdrawal.next(issued=min(issued + PAYOUT_CHUNK, withdrawal.parts))
        change = LeadersChange(withdrawals=[(more, withdrawal.version)])
        change.events += _requests(more, issued, now)
        return Outcome("applied", leader_id, more.issued - issued), change

    return commit_with_retry(store, plan)


def with_payouts(store: LeadersStore, withdrawal: Withdrawal) -> Withdrawal:
    """The withdrawal with the results of its payouts that ended (for views)."""
    ended = store.ended_payouts(withdrawal.leader_id, withdrawal.withdrawal_id)
    return replace(withdrawal, ended={p.payout_id: p for p in ended})


def _same(done: Withdrawal, amount_fen: int) -> Withdrawal:
    if done.amount_fen != amount_fen:
        raise Conflict(
            f"withdrawal_id '{done.withdrawal_id}' was used for another amount",
            details=[{"field": "withdrawal_id", "message": "already used"}],
        )
    return done


def pay_out(
    store: LeadersStore,
    provider: PayoutProvider,
    leader_id: str,
    withdrawal_id: str,
    payout_id: str,
    now: datetime,
) -> Outcome:
    """Send one requested payout through the provider and record its result (once)."""
    payout = _payout(store.withdrawal(leader_id, withdrawal_id), withdrawal_id, payout_id)
    if store.ended_payout(leader_id, withdrawal_id, payout_id) is not None:
        return Outcome("duplicate", leader_id)
    result = provider.pay(leader_id, payout_id, payout.amount_fen)
    return record_payout(store, leader_id, withdrawal_id, payout_id, result, now)


def _payout(withdrawal: Withdrawal | None, withdrawal_id: str, payout_id: str) -> Payout:
    payout = withdrawal.payout(payout_id) if withdrawal else None
    if payout is None:
        raise InvalidInput(
            f"no payout {payout_id} of withdrawal {withdrawal_id}",
            details=[{"field": "data.payout_id"}],
        )
    return payout


def record_payout(
    store: LeadersStore,
    leader_id: str,
    withdrawal_id: str,
    payout_id: str,
    result: PayoutResult,
    now: datetime,
) -> Outcome:
    """requested -> paid, or -> failed with the money back on the balance; the outcome's status
    is the payout's (or duplicate when it had ended before)."""
    if result.status not in ("paid", "failed"):
        raise InvalidInput(f"a payout ends paid or failed, not {result.status}")
    payout = _payout(store.withdrawal(leader_id, withdrawal_id), withdrawal_id, payout_id)

    def plan() -> tuple[Outcome, LeadersChange]:
        if store.ended_payout(leader_id, withdrawal_id, payout_id) is not None:
            return Outcome("duplicate", leader_id), LeadersChange()
        ended = replace(
            payout,
            status="paid" if result.status == "paid" else "failed",
            reference=result.reference,
            reason=result.reason,
            at=iso(now),
        )
        change = LeadersChange(ended_payouts=[EndedPayout(leader_id, withdrawal_id, ended)])
        if ended.status == "failed":
            day = book_day(store, leader_id, day_of(now), change, now)
            account = store.account(leader_id)
            change.accounts.append(
                (
                    account.next(available_fen=account.available_fen + payout.amount_fen),
                    account.version,
                )
            )
            change.movements.append(
                Movement(
                    leader_id=leader_id,
                    day=day,
                    cause=f"payout-failed:{payout_id}",
                    kind="return",
                    amount_fen=payout.amount_fen,
                    at=iso(now),
                )
            )
        change.events.append(
            leader_event(
                f"commission.payout_{ended.status}",
                f"payout:{leader_id}:{payout_id}",
                now,
                {
                    "leader_id": leader_id,
                    "withdrawal_id": withdrawal_id,
                    "payout_id": payout_id,
                    "amount_fen": payout.amount_fen,
                    "reason": result.reason,
                },
                subject=payout_id,
            )
        )
        return Outcome(ended.status, leader_id, payout.amount_fen), change

    return commit_with_retry(store, plan)
