"""The webhook contract: the envelope and the data of every event type.

Field names are part of the contract. Money is integer fen (strict: 12.5 or "100" is refused);
times are RFC 3339 with an offset. Unknown fields are refused so a typo cannot pass unnoticed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AwareDatetime,
    Field,
    StrictInt,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from omnihub.events.fields import Fen, Id, Identity, PositiveFen, ShortText, Strict


def _refuse(loc: tuple[str | int, ...], kind: str, message: str, value: object) -> ValidationError:
    """An error at a field inside the model (a model validator alone can only blame the whole
    model); pydantic prefixes the path, so the answer names e.g. `data.amount_fen`."""
    error = PydanticCustomError(kind, message)
    return ValidationError.from_exception_data(
        "channel event", [InitErrorDetails(type=error, loc=loc, input=value)]
    )


def _unique_line_ids(field: str, line_ids: Sequence[str]) -> None:
    """Line ids are unique within an order (and within a refund): the first repeat is named."""
    seen: set[str] = set()
    for index, line_id in enumerate(line_ids):
        if line_id in seen:
            raise _refuse(
                (field, index, "line_id"),
                "duplicate_line_id",
                "line_id must be unique within the order",
                line_id,
            )
        seen.add(line_id)


class Profile(Strict):
    """Profile fields a channel may send; every one is personal data and is sealed at the edge."""

    name: ShortText | None = None
    nickname: ShortText | None = None
    gender: Literal["male", "female", "unknown"] | None = None
    birthday: Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")] | None = None
    province: ShortText | None = None
    city: ShortText | None = None
    address: Annotated[str, Field(max_length=512)] | None = None
    email: ShortText | None = None

    @field_validator("birthday")
    @classmethod
    def _a_real_date(cls, value: str | None) -> str | None:
        """The pattern lets `1990-02-30` through; whatever reads a birthday later must not
        be the first to find out."""
        if value is not None:
            try:
                date.fromisoformat(value)
            except ValueError as error:
                raise ValueError("birthday must be a real date, YYYY-MM-DD") from error
        return value


class MemberPart(Strict):
    # a pydantic field: each model gets its own copy of the default
    identities: Annotated[list[Identity], Field(max_length=20)] = []  # noqa: RUF012
    profile: Profile = Profile()


class NoData(Strict):
    pass


class OrderLine(Strict):
    line_id: Id
    sku: Id
    category: Id
    qty: Annotated[StrictInt, Field(gt=0, le=100_000)]
    paid_fen: Fen
    batch_no: Id | None = None


class OrderPaid(Strict):
    order_id: Id
    amount_fen: Fen
    items: Annotated[list[OrderLine], Field(min_length=1, max_length=500)]
    leader_id: Id | None = None
    store_id: Id | None = None

    @model_validator(mode="after")
    def _lines_add_up(self) -> OrderPaid:
        """Line ids are unique; `amount_fen` is the sum of the lines' `paid_fen`."""
        _unique_line_ids("items", [line.line_id for line in self.items])
        total = sum(line.paid_fen for line in self.items)
        if self.amount_fen != total:
            raise _refuse(
                ("amount_fen",),
                "amount_mismatch",
                f"amount_fen must be the sum of the lines' paid_fen ({total})",
                self.amount_fen,
            )
        return self


class OrderCompleted(Strict):
    order_id: Id


class RefundLine(Strict):
    line_id: Id
    amount_fen: PositiveFen


class OrderRefunded(Strict):
    order_id: Id
    refund_id: Id
    lines: Annotated[list[RefundLine], Field(min_length=1, max_length=500)]

    @model_validator(mode="after")
    def _lines_once(self) -> OrderRefunded:
        _unique_line_ids("lines", [line.line_id for line in self.lines])
        return self


class PointsActivity(Strict):
    activity_id: Id
    kind: Literal["checkin", "survey", "review"]


class FeedbackReceived(Strict):
    feedback_id: Id
    text: Annotated[str, Field(min_length=1, max_length=5000)]
    kind: Literal["review", "chat", "hotline", "social", "store_note"]
    order_id: Id | None = None
    sku: Id | None = None
    batch_no: Id | None = None
    rating: Annotated[StrictInt, Field(ge=1, le=5)] | None = None


class LeaderRegistered(Strict):
    leader_id: Id
    name: Annotated[str, Field(min_length=1, max_length=64)]
    community: Annotated[str, Field(min_length=1, max_length=128)]


class _Envelope(Strict):
    event_id: Id
    occurred_at: AwareDatetime
    member: MemberPart = MemberPart()

    @field_validator("occurred_at")
    @classmethod
    def _has_a_utc_time(cls, value: datetime) -> datetime:
        """`0001-01-01T00:00+08:00` is valid RFC 3339 but has no UTC time (OverflowError)."""
        try:
            value.astimezone(UTC)
        except OverflowError as error:
            raise ValueError("occurred_at is out of range") from error
        return value


class MemberIdentified(_Envelope):
    type: Literal["member.identified"]
    data: NoData = NoData()


class MemberErasureRequested(_Envelope):
    type: Literal["member.erasure_requested"]
    data: NoData = NoData()


class OrderPaidEvent(_Envelope):
    type: Literal["order.paid"]
    data: OrderPaid


class OrderCompletedEvent(_Envelope):
    type: Literal["order.completed"]
    data: OrderCompleted


class OrderRefundedEvent(_Envelope):
    type: Literal["order.refunded"]
    data: OrderRefunded


class PointsActivityEvent(_Envelope):
    type: Literal["points.activity"]
    data: PointsActivity


class FeedbackReceivedEvent(_Envelope):
    type: Literal["feedback.received"]
    data: FeedbackReceived


class LeaderRegisteredEvent(_Envelope):
    type: Literal["leader.registered"]
    data: LeaderRegistered


ChannelEvent = Annotated[
    MemberIdentified
    | MemberErasureRequested
    | OrderPaidEvent
    | OrderCompletedEvent
    | OrderRefundedEvent
    | PointsActivityEvent
    | FeedbackReceivedEvent
    | LeaderRegisteredEvent,
    Field(discriminator="type"),
]

EventType = Literal[
    "member.identified",
    "member.erasure_requested",
    "order.paid",
    "order.completed",
    "order.refunded",
    "points.activity",
    "feedback.received",
    "leader.registered",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)

_ADAPTER: TypeAdapter[ChannelEvent] = TypeAdapter(ChannelEvent)


def parse_channel_event(payload: Any) -> ChannelEvent:
    """Validate a decoded JSON body; raises pydantic's ValidationError with field paths."""
    return _ADAPTER.validate_python(payload)
