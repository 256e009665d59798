"""Plan, commit, re-plan on a lost race: the optimistic loop the stores' units of work share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from omnihub.errors import AlreadyApplied, ConcurrentChange

MAX_ATTEMPTS = 12


class Change(Protocol):
    def is_empty(self) -> bool: ...


OutcomeT = TypeVar("OutcomeT")
ChangeT = TypeVar("ChangeT", bound=Change)


def commit_with_retry(
    commit: Callable[[ChangeT], None],
    plan: Callable[[], tuple[OutcomeT, ChangeT]],
    duplicate: Callable[[OutcomeT], OutcomeT],
    what: str,
) -> OutcomeT:
    """Plan against fresh state and commit; re-plan when another writer was first; when the
    cause was applied before, answer `duplicate(outcome)`. Raises ConcurrentChange after
    MAX_ATTEMPTS (the message is retried later)."""
    for _ in range(MAX_ATTEMPTS):
        outcome, change = plan()
        if change.is_empty():
            return outcome
        try:
            commit(change)
        except AlreadyApplied:
            return duplicate(outcome)
        except ConcurrentChange:
            continue
        return outcome
    raise ConcurrentChange(f"{what} kept changing; the request will be retried")
