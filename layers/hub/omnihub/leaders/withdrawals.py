"""Withdrawals and payouts (SPEC 4.5).

A withdrawal takes its amount from the available balance at once, in one transaction conditioned
on the account's version (two racing withdrawals cannot both pass the balance check), never below
zero and never while the balance is negative. It is split into payouts of at most the payout
channel's cap; each goes out through the payout port (`commission.payout_requested` on the bus,
the payouts function calls the provider) and ends paid or failed. A failed payout's money comes
back to the balance, booked into the leader's open day. Idempotent per withdrawal id.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from omnihub.clock import iso
from omnihub.errors import Conflict, InvalidInput, NotFound
from omnihub.leaders.booking import Outcome, book_day, commit_with_retry, leader_event
from omnihub.leaders.days import day_of
from omnihub.leaders.model import LeadersChange, Movement, Payout, Withdrawal
from omnihub.leaders.ports import LeadersStore, PayoutProvider, PayoutResult
from omnihub.leaders.scheme import CommissionScheme


def split(amount_fen: int, cap_fen: int) -> list[int]:
    """Payout amounts: as many full caps as fit, then the rest."""
    full, rest = divmod(amount_fen, cap_fen)
    return [cap_fen] * full + ([rest] if rest else [])


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
        payouts = tuple(
            Payout(payout_id=f"{withdrawal_id}-{n}", amount_fen=part)
            for n, part in enumerate(split(amount_fen, scheme.payout_cap_fen), start=1)
        )
        requested = Withdrawal(
            leader_id=leader_id,
            withdrawal_id=withdrawal_id,
            amount_fen=amount_fen,
            requested_at=iso(now),
            day=day,
            payouts=payouts,
            version=1,
        )
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
        for payout in payouts:
            change.events.append(
                leader_event(
                    "commission.payout_requested",
                    f"withdrawal:{leader_id}:{withdrawal_id}",
                    now,
                    {
                        "leader_id": leader_id,
                        "withdrawal_id": withdrawal_id,
                        "payout_id": payout.payout_id,
                        "amount_fen": payout.amount_fen,
                    },
                    subject=payout.payout_id,
                )
            )
        return Outcome("applied", leader_id, amount_fen), change

    if commit_with_retry(store, plan).status == "duplicate":
        stored = store.withdrawal(leader_id, withdrawal_id)
        assert stored is not None
        return _same(stored, amount_fen)
    return result[0]


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
    if payout.status != "requested":
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

    def plan() -> tuple[Outcome, LeadersChange]:
        withdrawal = store.withdrawal(leader_id, withdrawal_id)
        payout = _payout(withdrawal, withdrawal_id, payout_id)
        if withdrawal is None or payout.status != "requested":
            return Outcome("duplicate", leader_id), LeadersChange()
        ended = replace(
            payout,
            status="paid" if result.status == "paid" else "failed",
            reference=result.reference,
            reason=result.reason,
            at=iso(now),
        )
        payouts = tuple(ended if p.payout_id == payout_id else p for p in withdrawal.payouts)
        change = LeadersChange(withdrawals=[(withdrawal.next(payouts=payouts), withdrawal.version)])
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
