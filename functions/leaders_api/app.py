"""Leaders' API: the leader's balance and tier, daily statements, withdrawals, bound members; an
admin's rebinding of a member. A leader sees only their own leader id."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict

from omnihub import wiring
from omnihub.adapters.leaders_store import commission_scheme, leaders_store
from omnihub.api.auth import Principal
from omnihub.api.http import build_resolver, caller, handle
from omnihub.api.openapi import responses
from omnihub.api.params import Day, WholeNumber
from omnihub.clock import default_clock
from omnihub.errors import Forbidden, InvalidInput, NotFound
from omnihub.events.fields import Id, PositiveFen
from omnihub.identity.admin import current
from omnihub.leaders.binding import rebind
from omnihub.leaders.days import add_days, day_of
from omnihub.leaders.model import Withdrawal
from omnihub.leaders.withdrawals import with_payouts, withdraw
from omnihub.observability import powertools
from omnihub.privacy import mask_text

logger, tracer, metrics = powertools()

LEADER_OR_ADMIN = frozenset({"leader", "admin"})
POLICIES = {
    "GET /v1/leaders/{id}": LEADER_OR_ADMIN,
    "GET /v1/leaders/{id}/statements": LEADER_OR_ADMIN,
    "POST /v1/leaders/{id}/withdrawals": LEADER_OR_ADMIN,
    "GET /v1/leaders/{id}/withdrawals": LEADER_OR_ADMIN,
    "GET /v1/leaders/{id}/members": LEADER_OR_ADMIN,
    "POST /v1/members/{id}/leader": frozenset({"admin"}),
}
app = build_resolver(logger, POLICIES)
MAX_STATEMENT_DAYS = 366
LeaderId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@/+=-]+$")]
MemberId = Annotated[str, Path(min_length=4, max_length=64, pattern=r"^mbr_[0-9a-f]+$")]
Limit = Annotated[int, Query(ge=1, le=200)]


class LeaderView(BaseModel):
    leader_id: str
    name: str
    community: str
    tier: str
    available_fen: int
    pending_fen: int
    closing_fen: int
    last_statement_date: str | None
    registered_at: str
    member_id: str
    review: dict[str, int | str]


class StatementView(BaseModel):
    date: str
    opening_fen: int
    earned_fen: int
    reversed_fen: int
    withdrawn_fen: int
    closing_fen: int
    withdrawals_fen: int
    returned_fen: int
    orders: int
    lines: int
    sales_fen: int
    settled_at: str


class Statements(BaseModel):
    leader_id: str
    items: list[StatementView]


class WithdrawalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    withdrawal_id: Id
    amount_fen: Annotated[PositiveFen, WholeNumber]


class PayoutView(BaseModel):
    payout_id: str
    amount_fen: int
    status: str
    reason: str = ""


class WithdrawalView(BaseModel):
    withdrawal_id: str
    leader_id: str
    amount_fen: int
    status: str
    requested_at: str
    payouts: list[PayoutView]


class Withdrawals(BaseModel):
    items: list[WithdrawalView]


class MaskedIdentity(BaseModel):
    type: str
    value: str


class BoundMember(BaseModel):
    member_id: str
    bound_at: str
    by: str
    identities: list[MaskedIdentity]


class BoundMembers(BaseModel):
    leader_id: str
    items: list[BoundMember]


class RebindRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    leader_id: Id


class Rebound(BaseModel):
    member_id: str
    leader_id: str
    previous_leader_id: str | None
    bound_at: str


def _view(w: Withdrawal) -> WithdrawalView:
    """`w` with its ended payouts loaded (`with_payouts`)."""
    return WithdrawalView(
        withdrawal_id=w.withdrawal_id,
        leader_id=w.leader_id,
        amount_fen=w.amount_fen,
        status=w.status,
        requested_at=w.requested_at,
        payouts=[PayoutView(**p.__dict__) for p in w.payouts],
    )


@app.get("/v1/leaders/<leader_id>", responses=responses(200, 404))
def get_leader(leader_id: LeaderId) -> LeaderView:
    """The leader's tier, balances (available, pending, closing) and review state; a leader
    may name only their own id."""
    _own(leader_id)
    store = leaders_store()
    leader = store.leader(leader_id)
    if leader is None:
        raise NotFound(f"no leader {leader_id}")
    account = store.account(leader_id)
    return LeaderView(
        leader_id=leader_id,
        name=mask_text(leader.name),  # rows from before masking at intake
        community=mask_text(leader.community),
        tier=leader.tier,
        available_fen=account.available_fen,
        pending_fen=store.pending_fen(leader_id),
        closing_fen=account.closing_fen,
        last_statement_date=account.last_statement,
        registered_at=leader.registered_at,
        member_id=leader.member_id,
        review=dict(leader.review),
    )


@app.get("/v1/leaders/<leader_id>/statements", responses=responses(200, 404))
def get_statements(
    leader_id: LeaderId,
    from_: Annotated[Day | None, Query(alias="from")] = None,
    to: Annotated[Day | None, Query()] = None,
) -> Statements:
    """Daily statements in [from, to] (default: the 30 days to yesterday, at most 366), oldest
    first; each reconciles opening + earned - reversed - withdrawn = closing."""
    _own(leader_id)
    last = to.isoformat() if to else add_days(day_of(default_clock().now()), -1)
    first = from_.isoformat() if from_ else add_days(last, -29)
    span = (date.fromisoformat(last) - date.fromisoformat(first)).days
    if not 0 <= span < MAX_STATEMENT_DAYS:
        raise InvalidInput(
            f"from must not be after to, and the range at most {MAX_STATEMENT_DAYS} days",
            details=[{"field": "from", "message": "range"}],
        )
    store = leaders_store()
    if store.leader(leader_id) is None:
        raise NotFound(f"no leader {leader_id}")
    items = [
        StatementView(**d.statement.__dict__)
        for d in store.days(leader_id, first, last)
        if d.statement is not None
    ]
    return Statements(leader_id=leader_id, items=items)


@app.post(
    "/v1/leaders/<leader_id>/withdrawals",
    status_code=201,
    responses=responses(201, 404, 409, ok_description="Requested, with its payouts"),
)
def request_withdrawal(leader_id: LeaderId, request: WithdrawalRequest) -> WithdrawalView:
    """Withdraw from the available balance, paid out in parts; the same
    `withdrawal_id` again answers the same withdrawal; more than available is a 409."""
    _own(leader_id)
    store = leaders_store()
    done = withdraw(
        store,
        leader_id,
        request.withdrawal_id,
        request.amount_fen,
        commission_scheme(),
        default_clock().now(),
    )
    logger.info(
        "withdrawal requested",
        extra={"leader_id": leader_id, "amount_fen": done.amount_fen, "payouts": done.parts},
    )
    return _view(with_payouts(store, done))


@app.get("/v1/leaders/<leader_id>/withdrawals")
def list_withdrawals(leader_id: LeaderId, limit: Limit = 50) -> Withdrawals:
    """The leader's withdrawals with their payouts, newest first."""
    _own(leader_id)
    store = leaders_store()
    return Withdrawals(
        items=[_view(with_payouts(store, w)) for w in store.withdrawals(leader_id, limit)]
    )


@app.get("/v1/leaders/<leader_id>/members")
def list_members(leader_id: LeaderId, limit: Limit = 50) -> BoundMembers:
    """The members bound to the leader, newest first, identities masked."""
    _own(leader_id)
    bindings = leaders_store().bound_members(leader_id, limit)
    members = wiring.member_store().members([b.member_id for b in bindings])
    return BoundMembers(
        leader_id=leader_id,
        items=[
            BoundMember(
                member_id=b.member_id,
                bound_at=b.bound_at,
                by=b.by.split(":", 1)[0],
                identities=[
                    MaskedIdentity(type=i.type, value=i.masked)
                    for i in (members[b.member_id].identities if b.member_id in members else ())
                ],
            )
            for b in bindings
        ],
    )


@app.post("/v1/members/<member_id>/leader", responses=responses(200, 404, 409, 410))
def rebind_member(member_id: MemberId, request: RebindRequest) -> Rebound:
    """Bind the member to another leader (an admin's correction, audited with who did it)."""
    root = current(wiring.member_store(), member_id).member_id
    bound, previous = rebind(
        leaders_store(),
        wiring.member_store(),
        root,
        request.leader_id,
        caller(app).subject,
        default_clock().now(),
    )
    logger.info(
        "member rebound",
        extra={"member_id": bound.member_id, "leader_id": bound.leader_id, "from": previous},
    )
    return Rebound(
        member_id=bound.member_id,
        leader_id=bound.leader_id,
        previous_leader_id=previous,
        bound_at=bound.bound_at,
    )


def _own(leader_id: str) -> None:
    """A leader may only name their own leader id: checked on the id the route resolved (the
    one it reads and writes), not only on API Gateway's path parameters (issue 13, 15)."""
    principal = caller(app)
    if principal.role == "leader" and leader_id != principal.leader_id:
        raise Forbidden("a leader may only see their own data")


def _scope_gate(principal: Principal, event: dict[str, Any]) -> None:
    """The same rule before the body and query are validated, so a leader naming another
    leader gets 403 whatever else the request holds; `_own` then checks the resolved id."""
    route = str(event.get("routeKey", ""))
    if principal.role != "leader" or not route.split(" ", 1)[-1].startswith("/v1/leaders/"):
        return
    if (event.get("pathParameters") or {}).get("id") != principal.leader_id:
        raise Forbidden("a leader may only see their own data")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(app, event, context, POLICIES, gate=_scope_gate)
