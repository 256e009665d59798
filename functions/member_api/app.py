"""Staff API over members: the one-person file, lookup, un-merge, erasure, review cases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from omnihub import wiring
from omnihub.adapters.leaders_store import leaders_store
from omnihub.api.auth import Principal
from omnihub.api.http import JSON, build_resolver, caller, handle, json_body
from omnihub.api.openapi import responses
from omnihub.api.params import WholeNumber
from omnihub.clock import default_clock, iso
from omnihub.errors import Conflict, Forbidden, InvalidInput, NotFound
from omnihub.events.fields import Id, Identity, IdentityType
from omnihub.identity.admin import current, erase, lookup, unmerge
from omnihub.identity.file import identity_section
from omnihub.identity.model import IdentityKey
from omnihub.identity.normalise import InvalidIdentity, normalise
from omnihub.identity.presence import present_member
from omnihub.observability import powertools
from omnihub.points.ledger import redeem
from omnihub.settings import settings
from omnihub.tickets.access import can_see

logger, tracer, metrics = powertools()

STAFF = frozenset({"agent", "quality", "admin"})
POLICIES = {
    "GET /v1/members/{id}": STAFF | {"leader"},  # a leader: only members bound to them
    "GET /v1/members/{id}/points": STAFF,
    # a store: only with the member's proof of presence (`_presence_gate`); agents never
    "POST /v1/members/{id}/redemptions": frozenset({"admin", "store"}),
    "GET /v1/members/{id}/member-code": frozenset({"admin"}),
    "GET /v1/members/lookup": STAFF | {"store"},
    "POST /v1/members/lookup": STAFF | {"store"},
    "POST /v1/members/{id}/unmerge": frozenset({"admin"}),
    "DELETE /v1/members/{id}": frozenset({"admin"}),
    "GET /v1/review-cases": frozenset({"admin"}),
}
app = build_resolver(logger, POLICIES)
RECENT = 10  # items of each kind on the file
MemberId = Annotated[str, Path(min_length=4, max_length=64, pattern=r"^mbr_[0-9a-f]+$")]


class MaskedIdentity(BaseModel):
    type: str
    value: str


class Balances(BaseModel):
    available: int
    pending: int
    debt: int


class FeedbackSummary(BaseModel):
    feedback_id: str
    channel: str
    kind: str
    intent: str | None = None
    sentiment: str | None = None
    topics: list[str] = []
    risk: str | None = None
    priority: str | None = None
    outcome: str | None = None
    received_at: str | None = None


class TicketSummary(BaseModel):
    ticket_id: str
    priority: str
    status: str
    channel: str
    created_at: str
    escalation_level: str


class OrderSummary(BaseModel):
    """A recent order on the file: what was paid, what it earns, where it stands."""

    order_id: str
    channel: str | None
    paid_at: str | None
    amount_fen: int
    refunded_fen: int
    points: int
    status: str  # paid | completed | partially_refunded | refunded
    points_status: str  # pending | available | expired
    completed_at: str | None = None
    points_expire_at: str | None = None


class MemberFile(BaseModel):
    """The one-person file: who they are (masked), their points, and what they told any channel."""

    member_id: str
    created_at: str
    identities: list[MaskedIdentity]
    profile: dict[str, str]
    channels: list[str]
    points: Balances
    tier: str
    leader_id: str | None
    feedback: list[FeedbackSummary]
    tickets: list[TicketSummary]
    orders: list[OrderSummary] = []
    requested_id: str | None = None
    merged_into: str | None = None
    split_from: str | None = None


class LedgerLine(BaseModel):
    at: str
    kind: str
    cause: str
    available_delta: int
    pending_delta: int
    debt_delta: int
    available_after: int


class PointsView(Balances):
    member_id: str
    tier: str
    ledger: list[LedgerLine]


class Presented(BaseModel):
    """What the member showed at the counter: their store card or their app's member code."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["store_card", "member_code"]
    value: Annotated[str, Field(min_length=1, max_length=256)]


class RedemptionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    redemption_id: Id
    points: Annotated[int, Field(strict=True, gt=0, le=10_000_000), WholeNumber]
    reward: Annotated[str, Field(min_length=1, max_length=128)]
    presented: Annotated[
        Presented | None, Field(description="required for a store: the member's proof")
    ] = None


class MemberCodeView(BaseModel):
    member_id: str
    code: str
    expires_at: str


class RedemptionView(BaseModel):
    redemption_id: str
    member_id: str
    points: int
    reward: str
    at: str
    available_after: int


class Found(BaseModel):
    member_id: str


class UnmergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    identity: Identity


class Unmerged(BaseModel):
    member_id: str
    new_member_id: str


class Erased(BaseModel):
    member_id: str
    status: str


class ReviewCaseView(BaseModel):
    case_id: str
    reason: str
    member_ids: list[str]
    identity_types: list[str]
    causing_event_id: str
    opened_at: str
    status: str


class ReviewCases(BaseModel):
    items: list[ReviewCaseView]


def _ref(identity_type: str, value: str, field: str) -> IdentityKey:
    """The lookup key of a typed-in identity; a placeholder matches nobody."""
    try:
        normalised = normalise(identity_type, value, settings().extra_placeholders)
    except InvalidIdentity as error:
        raise InvalidInput(str(error), details=[{"field": field, "message": str(error)}]) from error
    if normalised.placeholder:
        raise NotFound("placeholder values match no member")
    return (identity_type, wiring.lookup_vault().lookup_key(identity_type, normalised.value))


@app.get("/v1/members/lookup", responses=responses(200, 404))
def lookup_member(
    type: Annotated[IdentityType, Query()],
    value: Annotated[str, Query(min_length=1, max_length=256)],
) -> Found:
    """Kept for compatibility: the value travels in the query (use POST)."""
    return _lookup(type, value, "value")


class LookupRequest(BaseModel):
    """The identity to find, in the body: a query string ends up in access logs."""

    model_config = ConfigDict(extra="forbid")
    type: IdentityType
    value: Annotated[str, Field(min_length=1, max_length=256)]


@app.post("/v1/members/lookup", responses=responses(200, 404))
def lookup_member_by_body(request: LookupRequest) -> Found:
    """The member holding an identity; a store looks up only by the card it holds."""
    return _lookup(request.type, request.value, "value")


def _lookup(identity_type: str, value: str, field: str) -> Found:
    if caller(app).role == "store" and identity_type != "store_card":
        raise Forbidden("a store looks members up by the card it holds")
    return Found(member_id=lookup(wiring.member_store(), _ref(identity_type, value, field)))


@app.get("/v1/members/<member_id>", responses=responses(200, 404, 410))
def get_member(member_id: MemberId) -> MemberFile:
    """The one-person file (identities masked); an absorbed id answers its survivor's file; a
    leader sees only members bound to them (403 otherwise, whether the id exists or not)."""
    principal = caller(app)
    try:
        member = current(wiring.member_store(), member_id)
    except NotFound:
        if principal.role == "leader":  # a leader cannot probe which member ids exist
            raise Forbidden("a leader sees only the members bound to them") from None
        raise
    binding = leaders_store().binding(member.member_id)
    leader_id = binding.leader_id if binding else None
    if principal.role == "leader" and (leader_id is None or leader_id != principal.leader_id):
        raise Forbidden("a leader sees only the members bound to them")
    points_store = wiring.points_store()
    account = points_store.account(member.member_id)
    # recent orders, newest first: merges and un-merges re-point orders to who holds them now
    held, _ = points_store.orders_of(member.member_id, RECENT)
    orders = [OrderSummary.model_validate(o.summary(default_clock().now())) for o in held]
    tickets = [
        TicketSummary(**t.summary(), channel=t.channel, created_at=t.created_at)
        for t in wiring.ticket_store().by_member(member.member_id, RECENT)
        if can_see(principal, t)
    ]
    return MemberFile(
        **identity_section(member, member_id),
        points=Balances(available=account.available, pending=account.pending, debt=account.debt),
        tier=account.tier,
        leader_id=leader_id,
        feedback=[
            FeedbackSummary(**f)
            for f in wiring.feedback_store().recent_feedback(member.member_id, RECENT)
        ],
        tickets=tickets,
        orders=orders,
    )


@app.get("/v1/members/<member_id>/points", responses=responses(200, 404, 410))
def get_points(member_id: MemberId, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> PointsView:
    """Balances (available, pending, debt), tier and the newest ledger lines."""
    root = current(wiring.member_store(), member_id).member_id
    store = wiring.points_store()
    account = store.account(root)
    return PointsView(
        member_id=root,
        available=account.available,
        pending=account.pending,
        debt=account.debt,
        tier=account.tier,
        ledger=[LedgerLine(**e.__dict__) for e in store.ledger(root, limit)],
    )


@app.post(
    "/v1/members/<member_id>/redemptions",
    responses=responses(201, 404, 409, 410, ok_description="Redeemed", model=RedemptionView),
)
def redeem_points(member_id: MemberId, request: RedemptionRequest) -> Response[str]:
    """Spend points on a reward: 409 when the balance is short or the
    `redemption_id` was used for another request; the same request again answers the same."""
    members = wiring.member_store()
    root = current(members, member_id).member_id
    if caller(app).role != "admin" and app.context.get("present_member") != root:
        raise Forbidden("the proof presented is not this member's")  # see _presence_gate
    done = redeem(
        wiring.points_store(),
        root,
        request.redemption_id,
        request.points,
        request.reward,
        wiring.points_rules(),
        default_clock().now(),
        members=members,
    )
    if (done.points, done.reward) != (request.points, request.reward):
        raise Conflict(f"redemption_id '{request.redemption_id}' was used for another request")
    logger.info("points redeemed", extra={"member_id": root, "points": done.points})
    view = RedemptionView(**done.__dict__)
    return Response(status_code=201, content_type=JSON, body=view.model_dump_json())


@app.get("/v1/members/<member_id>/member-code", responses=responses(200, 404, 410))
def member_code(member_id: MemberId) -> MemberCodeView:
    """The code the member's app shows at a store to redeem (valid about two minutes)."""
    root = current(wiring.member_store(), member_id).member_id
    issued = wiring.member_codes().issue(root, datetime.now(UTC))  # real time, like tokens
    return MemberCodeView(member_id=root, code=issued.code, expires_at=iso(issued.expires_at))


def _card_ref(value: str) -> IdentityKey | None:
    try:
        return _ref("store_card", value, "presented.value")
    except (InvalidInput, NotFound):
        return None


def _presence_gate(principal: Principal, event: dict[str, Any]) -> None:
    """A store redeems only for the member whose store card or member code it presents; checked
    before the body is validated. The member found is checked again by the route."""
    if event.get("routeKey") != "POST /v1/members/{id}/redemptions" or principal.role == "admin":
        return
    found = present_member(
        wiring.member_store(),
        str((event.get("pathParameters") or {}).get("id", "")),
        json_body(event).get("presented"),
        card_ref=_card_ref,
        codes=wiring.member_codes,
        now=datetime.now(UTC),
    )
    if found is None:
        raise Forbidden(
            "a store redeems only for a member who is present: 'presented' must be the"
            " member's store card or member code",
            details=[{"field": "presented"}],
        )
    app.append_context(present_member=found)


@app.post("/v1/members/<member_id>/unmerge", responses=responses(200, 404, 409, 410))
def unmerge_member(member_id: MemberId, request: UnmergeRequest) -> Unmerged:
    """Split one identity (and what it brought) off into a new member."""
    ref = _ref(request.identity.type, request.identity.value, "identity.value")
    store = wiring.member_store()
    root = current(store, member_id).member_id
    cause = f"unmerge:{root}:{ref[0]}:{ref[1][:16]}"
    new_id = unmerge(store, member_id, ref, cause, default_clock())
    logger.info("member split", extra={"member_id": root, "new_member_id": new_id})
    return Unmerged(member_id=root, new_member_id=new_id)


@app.delete("/v1/members/<member_id>", responses=responses(200, 404, 409))
def erase_member(member_id: MemberId) -> Erased:
    """Erase the member's personal data everywhere it is kept (PIPL)."""
    store = wiring.member_store()
    forget = wiring.event_log().forget_identities
    erased = erase(store, member_id, f"erasure:{member_id}", default_clock(), forget)
    logger.info("member erased", extra={"member_id": erased or member_id})
    return Erased(member_id=erased or member_id, status="erased")


@app.get("/v1/review-cases")
def review_cases(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> ReviewCases:
    """Open review cases for an admin to decide (identity conflicts, refunds beyond a line)."""
    cases = wiring.member_store().open_review_cases(limit)
    return ReviewCases(
        items=[
            ReviewCaseView(
                **{
                    **c.__dict__,
                    "member_ids": list(c.member_ids),
                    "identity_types": list(c.identity_types),
                }
            )
            for c in cases
        ]
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(app, event, context, POLICIES, gate=_presence_gate)
